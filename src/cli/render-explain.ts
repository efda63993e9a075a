// The human rendering of an explain report.
import { CLIENT_TRUST } from '../diagnose/client-trust.js';
import type { ExplainReport } from '../diagnose/explain.js';
import { renderFinding } from './render-doctor.js';
import type { Style } from './style.js';

export function renderExplain(report: ExplainReport, o: { style: Style; width: number }): string {
  const s = o.style;
  const lines = `${report.lines} line${report.lines === 1 ? '' : 's'}`;
  if (report.findings.length === 0) return `${s.green(`No TLS or network problem recognised in ${lines}.`)}\n`;
  const out: string[] = [];
  for (const f of report.findings) {
    const retried = f.retries ? `, retried ${f.retries === 1 ? 'once' : `${f.retries} times`}` : '';
    const seen = `printed by ${CLIENT_TRUST[f.client].name}${f.count > 1 ? `, ${f.count} times` : ''}${retried}${f.hosts.length ? `; hosts: ${f.hosts.join(', ')}` : ''}`;
    const [head, ...rest] = renderFinding(f, { style: s, width: o.width, verbose: false, now: new Date() });
    out.push(head!, s.dim(`          ${seen}`), ...rest);
  }
  const n = report.findings.length;
  out.push('', s.red(`${n} problem${n === 1 ? '' : 's'} recognised in ${lines}.`));
  return `${out.join('\n')}\n`;
}
