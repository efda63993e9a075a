// The human rendering of an InspectReport: each certificate as the doctor prints chain entries,
// plus the extension rows, the lint block and the bundle's relations. It only formats.
import type { InspectedCertificate, InspectedFile, InspectReport } from '../diagnose/inspect.js';
import { renderChainEntry, type RenderOptions } from './render-doctor.js';

const colonHex = (hex: string) => hex.toUpperCase().match(/../g)?.join(':') ?? '';

function rows(c: InspectedCertificate, o: RenderOptions): [string, string][] {
  const out: [string, string][] = [];
  out.push(['serial', c.serialNumber.startsWith('-') ? `-${colonHex(c.serialNumber.slice(1))} (negative)` : colonHex(c.serialNumber)]);
  out.push(['sha1', c.sha1]);
  if (c.basicConstraints) {
    const bc = c.basicConstraints;
    out.push(['basic', `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLen !== null ? `, pathlen:${bc.pathLen}` : ''}${bc.critical ? ' (critical)' : ''}`]);
  }
  if (c.keyUsage) out.push(['usage', c.keyUsage.join(', ')]);
  if (c.extendedKeyUsage) out.push(['ext use', c.extendedKeyUsage.join(', ')]);
  if (c.nameConstraints) {
    const nc = c.nameConstraints;
    out.push(['names', [nc.permitted.length ? `permitted ${nc.permitted.join(', ')}` : '', nc.excluded.length ? `excluded ${nc.excluded.join(', ')}` : ''].filter(Boolean).join('; ') || '(empty)']);
  }
  if (c.subjectKeyId) out.push(['SKI', colonHex(c.subjectKeyId)]);
  if (c.authorityKeyId) out.push(['AKI', colonHex(c.authorityKeyId)]);
  if (c.aia.ocsp.length) out.push(['OCSP', c.aia.ocsp.join(', ')]);
  if (c.aia.caIssuers.length) out.push(['issuers', c.aia.caIssuers.join(', ')]);
  if (c.crlDistributionPoints.length) out.push(['CRL', c.crlDistributionPoints.join(', ')]);
  if (c.policies.length) out.push(['policy', c.policies.join(', ')]);
  if (c.sctCount) out.push(['SCTs', String(c.sctCount)]);
  const s = o.style;
  const relations = [
    c.duplicateOf !== null ? s.yellow(`duplicate of certificate ${c.duplicateOf}`) : '',
    c.root ? 'a root (self-signed)' : c.issuedBy !== null ? `issued by certificate ${c.issuedBy}` : s.dim('its issuer is not in this file'),
  ].filter(Boolean);
  out.push(['bundle', relations.join('; ')]);
  for (const l of c.lint) {
    const tag = l.severity === 'error' ? s.red('error') : l.severity === 'warning' ? s.yellow('warning') : s.cyan('note');
    out.push(['lint', `${tag} ${l.message} ${s.dim(`[${l.code}]`)}`]);
  }
  return out;
}

function renderFile(f: InspectedFile, o: RenderOptions): string {
  const s = o.style;
  const n = f.certificates.length;
  const out = [`${s.bold(f.file)}  ${s.dim(`${f.format.toUpperCase()}, ${n} certificate${n === 1 ? '' : 's'}${f.keys ? `, ${f.keys} private key${f.keys === 1 ? '' : 's'} (not shown)` : ''}`)}`];
  f.certificates.forEach((c, i) => out.push(...renderChainEntry(c, i === n - 1, o, rows(c, o), c.root ? ['root'] : [])));
  for (const note of f.notes) out.push(s.dim(`  ${note}`));
  const chainOrder = f.findings.find((x) => x.code === 'chain-order');
  if (chainOrder) out.push(`  ${s.yellow('warning')} ${chainOrder.title} ${s.dim('[chain-order]')}`, ...chainOrder.evidence.map((e) => s.dim(`    - ${e}`)));
  return out.join('\n');
}

export function renderInspect(report: InspectReport, o: RenderOptions): string {
  const errors = report.files.reduce((n, f) => n + f.findings.filter((x) => x.severity === 'error').length, 0);
  const warnings = report.files.reduce((n, f) => n + f.findings.filter((x) => x.severity === 'warning').length, 0);
  const summary = errors
    ? o.style.red(`${errors} lint error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`)
    : warnings ? o.style.yellow(`No lint errors, ${warnings} warning${warnings === 1 ? '' : 's'}.`) : o.style.green('No lint findings.');
  return `${report.files.map((f) => renderFile(f, o)).join('\n\n')}\n${summary}\n`;
}
