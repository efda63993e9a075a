// The human rendering of a DoctorReport. It only formats: every fact comes from the report.
import type { Finding } from '../diagnose/finding.js';
import type { ChainEntry, DoctorReport, TargetReport } from '../diagnose/report.js';
import { VIEW_DESCRIPTIONS, type ViewName } from '../trust/views.js';
import type { Style } from './style.js';

const DAY = 86_400_000;

export interface RenderOptions {
  style: Style;
  verbose: boolean;
  now: Date;
  /** Terminal width for wrapping prose. */
  width: number;
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width - indent.length) {
      lines.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

function validity(c: ChainEntry, now: Date, s: Style): string {
  const from = c.notBefore.slice(0, 10);
  const to = c.notAfter.slice(0, 10);
  const left = Math.floor((Date.parse(c.notAfter) - now.getTime()) / DAY);
  if (Date.parse(c.notBefore) > now.getTime()) return `${from} -> ${to} ${s.red('(not yet valid)')}`;
  if (left < 0) return `${from} -> ${to} ${s.red(`(expired ${-left} days ago)`)}`;
  const note = `(${left} days left)`;
  return `${from} -> ${to} ${left < 30 ? s.yellow(note) : s.dim(note)}`;
}

function renderChain(t: TargetReport, o: RenderOptions): string[] {
  const s = o.style;
  const out: string[] = [];
  const how = t.chainSource === 'api' ? ' (reconstructed by Node; the order may differ from what was sent)' : ', as sent';
  out.push(`  ${s.bold('Chain')} ${s.dim(`(${t.chain.length} certificate${t.chain.length === 1 ? '' : 's'}${how})`)}`);
  t.chain.forEach((c, i) => {
    const last = i === t.chain.length - 1;
    const branch = last ? '   ' : '|  ';
    const marks = [c.isCA ? 'CA' : '', c.selfSigned ? 'self-signed' : ''].filter(Boolean);
    out.push(`  ${i} ${s.bold(c.subject || '(empty subject)')}${marks.length ? ` ${s.cyan(`[${marks.join(', ')}]`)}` : ''}`);
    const row = (label: string, value: string) => out.push(`  ${branch} ${s.dim(label.padEnd(8))}${value}`);
    row('issuer', c.issuer);
    row('valid', validity(c, o.now, s));
    if (c.san.length) row('SAN', c.san.length > 6 ? `${c.san.slice(0, 6).join(', ')}, ... (${c.san.length} names)` : c.san.join(', '));
    row('key', `${c.keyType} ${c.keyBits}`);
    row('sig', c.signatureAlgorithm);
    row('sha256', c.sha256);
    if (o.verbose) for (const line of c.pem.trimEnd().split('\n')) out.push(`  ${branch} ${s.dim(line)}`);
  });
  return out;
}

export function renderFinding(f: Finding, o: RenderOptions): string[] {
  const s = o.style;
  const tag = f.severity === 'error' ? s.red('error  ') : f.severity === 'warning' ? s.yellow('warning') : s.cyan('note   ');
  const out = [`  ${tag} ${s.bold(f.title)} ${s.dim(`[${f.code}]`)}`];
  out.push(wrap(f.detail, o.width, '          '));
  for (const e of f.evidence) out.push(s.dim(wrap(`- ${e}`, o.width, '          ')));
  for (const fix of f.fixes) {
    out.push(`          ${s.green('fix:')} ${fix.side ? s.dim(`(${fix.side}) `) : ''}${fix.title}`);
    if (fix.command) out.push(`            $ ${fix.command}`);
  }
  return out;
}

export function renderTarget(t: TargetReport, deciding: string[], o: RenderOptions): string {
  const s = o.style;
  const out: string[] = [];
  const status = t.ok ? s.green('OK') : s.red('PROBLEM');
  out.push(`${s.bold(t.target)}  ${status}`);
  if (t.addresses.length) {
    const where = t.addresses.map((a) => `${a.address} ${s.dim(`(${a.source === 'resolve' ? '--resolve' : a.source === 'hosts' ? 'hosts file' : a.source})`)}`).join(', ');
    out.push(`  ${s.dim('address'.padEnd(9))}${where}${t.address ? `  ${s.dim('connected to')} ${t.address}` : ''}`);
  }
  if (t.proxy) {
    const p = t.proxy;
    const how = p.used ? `${p.address ? `, connected to ${p.address}` : ''}` : ` ${s.yellow(`not used: ${p.bypass}`)}`;
    out.push(`  ${s.dim('proxy'.padEnd(9))}${p.url} ${s.dim(`(${p.source})`)}${how}`);
    if (p.verdict) out.push(`  ${s.dim(''.padEnd(9))}${s.dim("proxy's own certificate, for Go: ")}${p.verdict.ok ? s.green('ok') : s.red(p.verdict.message)}`);
  }
  if (t.servername) out.push(`  ${s.dim('SNI'.padEnd(9))}${t.servername}`);
  if (t.tls) out.push(`  ${s.dim('TLS'.padEnd(9))}${[t.tls.protocol, t.tls.cipher, t.tls.alpn ? `ALPN ${t.tls.alpn}` : ''].filter(Boolean).join('  ')}`);
  if (o.verbose) {
    const ms = Object.entries(t.timings).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v} ms`).join(', ');
    if (ms) out.push(`  ${s.dim('timing'.padEnd(9))}${ms}`);
  }
  if (t.chain.length) out.push(...renderChain(t, o));
  if (t.verdicts.length) {
    out.push(`  ${s.bold('Verdicts')} ${s.dim('(* decides the result)')}`);
    for (const v of t.verdicts) {
      const mark = v.ok ? s.green('ok  ') : s.red('FAIL');
      const decides = deciding.includes(v.view) ? '*' : ' ';
      out.push(`  ${decides} ${v.view.padEnd(8)}${mark}  ${v.ok ? s.dim(v.message) : v.message}`);
      if (o.verbose) out.push(s.dim(`             ${VIEW_DESCRIPTIONS[v.view as ViewName]}`));
    }
  }
  if (t.findings.length) {
    out.push(`  ${s.bold('Findings')}`);
    for (const f of t.findings) out.push(...renderFinding(f, o));
  }
  return out.join('\n');
}

const LEGEND = 'Views: go = Ollama (Go crypto/x509), node = Node.js, system = the OS store (curl, Python), mozilla = the public web PKI, extra = the OS store plus --ca.';

export function renderDoctor(report: DoctorReport, o: RenderOptions): string {
  const parts = report.targets.map((t) => renderTarget(t, report.decidingViews, o));
  if (report.findings.length) parts.push([o.style.bold('Environment'), ...report.findings.flatMap((f) => renderFinding(f, o))].join('\n'));
  if (report.targets.some((t) => t.verdicts.length)) parts.push(o.style.dim(wrap(LEGEND, o.width, '')));
  const bad = report.targets.filter((t) => !t.ok).length;
  const summary = report.ok
    ? o.style.green(`All ${report.targets.length} target${report.targets.length === 1 ? '' : 's'} pass.`)
    : o.style.red(`${bad} of ${report.targets.length} target${report.targets.length === 1 ? '' : 's'} ${bad === 1 ? 'has' : 'have'} problems.`);
  return `${parts.join('\n\n')}\n${summary}\n`;
}
