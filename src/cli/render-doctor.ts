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
  t.chain.forEach((c, i) => out.push(...renderChainEntry(c, i === t.chain.length - 1, o)));
  return out;
}

/** One certificate as the doctor prints chain entries; `more` adds rows before the PEM (inspect). */
export function renderChainEntry(c: ChainEntry, last: boolean, o: RenderOptions, more: [label: string, value: string][] = [], marks: string[] = []): string[] {
  const s = o.style;
  const out: string[] = [];
  const branch = last ? '   ' : '|  ';
  const allMarks = [c.isCA ? 'CA' : '', c.selfSigned ? 'self-signed' : '', ...marks].filter(Boolean);
  out.push(`  ${c.index} ${s.bold(c.subject || '(empty subject)')}${allMarks.length ? ` ${s.cyan(`[${allMarks.join(', ')}]`)}` : ''}`);
  const row = (label: string, value: string) => out.push(`  ${branch} ${s.dim(label.padEnd(8))}${value}`);
  row('issuer', c.issuer);
  row('valid', validity(c, o.now, s));
  if (c.san.length) row('SAN', c.san.length > 6 ? `${c.san.slice(0, 6).join(', ')}, ... (${c.san.length} names)` : c.san.join(', '));
  row('key', `${c.keyType} ${c.keyBits}`);
  row('sig', c.signatureAlgorithm);
  row('sha256', c.sha256);
  for (const [label, value] of more) row(label, value);
  if (o.verbose) for (const line of c.pem.trimEnd().split('\n')) out.push(`  ${branch} ${s.dim(line)}`);
  return out;
}

export function renderFinding(f: Finding, o: RenderOptions, withFixes = true, withEvidence = true): string[] {
  const s = o.style;
  const tag = f.severity === 'error' ? s.red('error  ') : f.severity === 'warning' ? s.yellow('warning') : s.cyan('note   ');
  const out = [`  ${tag} ${s.bold(f.title)} ${s.dim(`[${f.code}]`)}`];
  out.push(wrap(f.detail, o.width, '          '));
  if (withEvidence) for (const e of f.evidence) out.push(s.dim(wrap(`- ${e}`, o.width, '          ')));
  if (!withFixes) return out;
  for (const fix of f.fixes) {
    out.push(`          ${s.green('fix:')} ${fix.side ? s.dim(`(${fix.side}) `) : ''}${fix.title}`);
    if (fix.command) out.push(`            $ ${fix.command}`);
  }
  return out;
}

const ROLE: Record<NonNullable<TargetReport['role']>, string> = {
  registry: 'the model registry',
  blob: 'where the model files are (reached by a redirect)',
  fallback: 'a known pull host (not reached by following the registry)',
  upstream: 'an upstream service',
  ai: 'an AI API host',
};

function renderHttp(t: TargetReport, o: RenderOptions): string[] {
  const s = o.style;
  const spoken = [...new Set(t.http!.exchanges.map((x) => x.protocol))].map((p) => (p === 'h2' ? 'HTTP/2' : p.toUpperCase())).join(', ');
  const conns = t.http!.connections;
  const where = conns ? `on ${conns.length} connections (the server ended the earlier ones)` : 'on this connection';
  const out = [`  ${s.bold('HTTP')} ${s.dim(`(${spoken ? `${spoken}, ` : ''}${where}, after the handshake)`)}`];
  for (const x of t.http!.exchanges) {
    const c = x.connection !== undefined ? conns?.[x.connection] : undefined;
    if (c) out.push(`  ${s.dim(`new connection (${c.reason})${c.chain === 'different' ? ': a different certificate chain, judged below' : ''}`)}`);
    const status = x.status < 400 ? s.green(`${x.status}`) : s.red(`${x.status}`);
    const path = x.url.replace(/^https:\/\/[^/]+/, '');
    out.push(`  ${x.method.padEnd(5)}${path}${x.auth ? s.dim(` (with ${x.auth} credentials)`) : ''}`);
    out.push(`       ${status} ${x.statusText}${x.contentType ? s.dim(`  ${x.contentType.split(';')[0]}`) : ''}${x.location ? `  -> ${x.location}` : ''}`);
  }
  if (t.http!.ollamaVersion) out.push(`  ${s.dim('Ollama'.padEnd(9))}${t.http!.ollamaVersion}`);
  if (t.http!.failure) out.push(`       ${s.red(t.http!.failure.message)}`);
  if (t.http!.credentialsWithheld) out.push(`       ${s.yellow(`credentials not sent: ${t.http!.credentialsWithheld}`)}`);
  return out;
}

/** Policies in words: "optional" covers Go's VerifyClientCertIfGiven, which checks a certificate only when given. */
const CLIENT_CERT_POLICY = {
  none: 'none',
  optional: 'optional (a client without one is let in)',
  required: 'required (a client without one is turned away)',
} as const;

export function renderTarget(t: TargetReport, deciding: string[], o: RenderOptions): string {
  const s = o.style;
  const out: string[] = [];
  const status = t.ok ? s.green('OK') : s.red('PROBLEM');
  out.push(`${s.bold(t.target)}  ${status}${t.role ? s.dim(`  ${ROLE[t.role]}`) : ''}`);
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
  if (t.clientCert) {
    const c = t.clientCert;
    const cas = c.authorities.length ? ` from ${c.authorities.join('; ')}` : '';
    const sent = c.sent ? `sent ${c.sent}` : 'none sent';
    const policy = c.policy ? `; policy ${CLIENT_CERT_POLICY[c.policy]}` : '';
    out.push(c.requested
      ? `  ${s.dim('mTLS'.padEnd(9))}the server asks for a client certificate${cas}; ${sent}${c.refused ? `; ${s.red('refused')}` : ''}${policy}`
      : `  ${s.dim('mTLS'.padEnd(9))}the server never asks for a client certificate; ${s.yellow('none sent')}`);
  }
  if (o.verbose) {
    const ms = Object.entries(t.timings).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v} ms`).join(', ');
    if (ms) out.push(`  ${s.dim('timing'.padEnd(9))}${ms}`);
  }
  if (t.chain.length) out.push(...renderChain(t, o));
  if (t.http && (t.http.exchanges.length || t.http.failure)) out.push(...renderHttp(t, o));
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
    // A target that passes stays short (it fits in a screen): its warnings' evidence is for -v.
    const brief = t.ok && !o.verbose;
    for (const f of t.findings) out.push(...renderFinding(f, o, false, !brief));
    if (brief && t.findings.some((f) => f.evidence.length)) out.push(s.dim('          (the evidence: run again with -v)'));
    out.push(...renderFixes(t.findings, o));
  }
  return out.join('\n');
}

const SIDES = [
  ['client', 'on this machine (the client)'],
  ['server', "on the server (its operator's side)"],
  [undefined, 'either side'],
] as const;

/**
 * A target's fixes, once each: findings about one cause often propose the same steps (trust the
 * CA, restart Ollama), so they are gathered, deduplicated by title and command, and grouped by
 * the side that carries them out, each with the finding codes it answers.
 */
export function renderFixes(findings: Finding[], o: RenderOptions): string[] {
  const s = o.style;
  const fixes = new Map<string, { fix: Finding['fixes'][number]; codes: string[] }>();
  for (const f of findings) {
    for (const fix of f.fixes) {
      const key = `${fix.side ?? ''}\0${fix.title}\0${fix.command ?? ''}`;
      const had = fixes.get(key);
      if (had) {
        if (!had.codes.includes(f.code)) had.codes.push(f.code);
      } else fixes.set(key, { fix, codes: [f.code] });
    }
  }
  if (fixes.size === 0) return [];
  // Which finding a fix answers is worth saying only when there is more than one.
  const several = new Set([...fixes.values()].flatMap((x) => x.codes)).size > 1;
  const out = [`  ${s.bold('Fixes')}`];
  for (const [side, words] of SIDES) {
    const these = [...fixes.values()].filter((x) => x.fix.side === side);
    if (!these.length) continue;
    out.push(`  ${s.dim(words)}`);
    for (const { fix, codes } of these) {
      out.push(`    ${s.green('-')} ${fix.title}${several ? ` ${s.dim(`[${codes.join(', ')}]`)}` : ''}`);
      if (fix.command) out.push(`        $ ${fix.command}`);
    }
  }
  return out;
}

const LEGEND = 'Views: go = Ollama (Go crypto/x509), node = Node.js, system = the OS store (curl, Python), mozilla = the public web PKI';
// Only with --ca is there an extra view to explain.
const LEGEND_EXTRA = ', extra = the OS store plus --ca';

function renderPull(report: DoctorReport, o: RenderOptions): string {
  const s = o.style;
  const p = report.pull!;
  const out = [`${s.bold('Pull path')} of ${p.model}: ${p.hosts.join(s.dim(' -> '))}`];
  out.push(`  ${s.dim('manifest'.padEnd(9))}${p.manifest}`);
  if (p.digest) out.push(`  ${s.dim('layer'.padEnd(9))}${p.digest} ${s.dim('(asked for, never downloaded)')}`);
  if (p.fallback) out.push(s.yellow(wrap(`not followed: ${p.fallback}; the known hosts were checked instead`, o.width, '  ')));
  return out.join('\n');
}

function renderOllama(report: DoctorReport, o: RenderOptions): string {
  const s = o.style;
  const l = report.ollama!;
  const row = (label: string, value: string) => `  ${s.dim(label.padEnd(9))}${value}`;
  const out = [`${s.bold('Ollama')} at ${l.host.url} ${s.dim(l.host.raw ? `(OLLAMA_HOST=${l.host.raw})` : '(OLLAMA_HOST not set)')}`];
  out.push(row('server', l.reachable ? `${l.version ? `version ${l.version}` : `answered HTTP ${l.status}`}${l.running ? s.dim('  "Ollama is running"') : ''}` : s.dim(`not reachable here${l.error && !l.notes.some((n) => n.includes(l.error!)) ? `: ${l.error}` : ''}`)));
  if (l.bind) out.push(row('listens', `${l.bind.host || '(every interface)'}:${l.bind.port}${l.bind.public ? s.yellow('  reachable from other machines') : ''}  ${s.dim(l.bind.source)}`));
  if (l.service) {
    const env = l.service.env.map((e) => `${e.name}=${e.value}`).join(', ');
    out.push(row('service', `${l.service.unit}${l.service.dropIns.length ? ` + ${l.service.dropIns.join(', ')}` : ''}`));
    out.push(row('', env ? `environment: ${env}` : s.dim('no proxy or certificate settings in the unit')));
  }
  for (const p of l.processes ?? []) {
    out.push(row('process', `pid ${p.pid}${p.startedAt ? `, started ${p.startedAt}` : ''}${p.unit ? ` (${p.unit})` : ''}${p.container ? ' in a container' : ''}`));
  }
  for (const n of l.notes) out.push(s.dim(wrap(n, o.width, '  ')));
  return out.join('\n');
}

export function renderDoctor(report: DoctorReport, o: RenderOptions): string {
  const parts = [...(report.ollama ? [renderOllama(report, o)] : []), ...(report.pull ? [renderPull(report, o)] : []), ...report.targets.map((t) => renderTarget(t, report.decidingViews, o))];
  if (report.findings.length) parts.push([o.style.bold('Environment'), ...report.findings.flatMap((f) => renderFinding(f, o))].join('\n'));
  if (report.targets.some((t) => t.verdicts.length)) {
    const extra = report.targets.some((t) => t.verdicts.some((v) => v.view === 'extra'));
    parts.push(o.style.dim(wrap(`${LEGEND}${extra ? LEGEND_EXTRA : ''}.`, o.width, '')));
  }
  const bad = report.targets.filter((t) => !t.ok).length;
  const n = report.targets.length;
  const summary = report.ok
    ? o.style.green(`All ${n} target${n === 1 ? '' : 's'} pass.`)
    : bad === 0
      ? o.style.red('The targets pass, but the environment has problems (see above).')
      : o.style.red(`${bad} of ${n} target${n === 1 ? '' : 's'} ${bad === 1 ? 'has' : 'have'} problems.`);
  return `${parts.join('\n\n')}\n${summary}\n`;
}
