// A `TrustRun` (src/fix/trust-run.ts) as text and as JSON: formatting only, nothing decided here.
// Text comes in the order a person needs it: what the host presented, the plan (before any
// question about it), then how it ended. JSON is the whole run at the end, on stdout alone.
import type { Plan } from '../fix/plan.js';
import type { TrustRun } from '../fix/trust-run.js';
import { formatName } from '../x509/certificate.js';
import { describeCa, renderAdvice, renderOutcome, renderPlans } from './render-plan.js';
import type { Style } from './style.js';

/** --from-host: the CA the host presents and why it is the one to trust (shown before confirming). */
export function renderFromHost(run: TrustRun, s: Style): string {
  const f = run.fromHost;
  if (f?.kind !== 'candidate') return '';
  return `${s.bold(`${f.label} presents`)} ${describeCa(f.cert)}\n  ${s.dim('why')} ${f.why}\n`;
}

/** The CAs (trust), the notes, and one plan per store: what a person accepts or declines. */
export function renderTrustPlan(run: TrustRun, s: Style): string {
  let out = '';
  if (run.action === 'trust') out += `${s.bold(run.cas.length === 1 ? 'CA' : `${run.cas.length} CAs`)}\n${run.cas.map((c) => `  ${describeCa(c)}`).join('\n')}\n`;
  for (const n of run.notes) out += `  ${s.dim('note')} ${n}\n`;
  return out + renderPlans(run.plans, s);
}

/** How the run ended: nothing to do, dry run, declined, or each store's outcome and what to do next. */
export function renderTrustEnd(run: TrustRun, s: Style): string {
  switch (run.status) {
    case 'already-trusted':
      return `${run.fromHost!.label}: Ollama (Go) already trusts the chain it presents; there is no CA to add.\n`;
    case 'nothing-to-do':
      return `Nothing to do: ${run.action === 'trust' ? 'already trusted' : 'nothing ollama-tls added is there'}.\n`;
    case 'dry-run':
      return s.dim('--dry-run: nothing changed.\n');
    case 'declined':
      return 'Nothing changed.\n';
    case 'applied':
    case 'failed': {
      let out = '';
      for (const r of run.results) {
        if (r.error) out += `${s.red('failed')} ${r.plan.title}: ${r.error.message}\n${r.error.output ? `${r.error.output.split('\n').map((l) => `  | ${l}`).join('\n')}\n` : ''}`;
        else out += renderOutcome(r.plan, r.outcomes, r.checks, s);
      }
      if (run.advice) out += renderAdvice('Next', run.advice.next, s) + renderAdvice('Beside this store', run.advice.beside, s);
      return out;
    }
    default:
      return '';
  }
}

/** A plan as JSON: file contents as their size, images as their fingerprints. */
export function jsonPlan(p: Plan) {
  return {
    target: p.target, title: p.title, action: p.action, root: p.root,
    steps: p.steps.map((st) =>
      st.kind === 'write' ? { kind: st.kind, path: st.path, bytes: Buffer.byteLength(st.content), mode: st.mode.toString(8), why: st.why }
        : st.kind === 'append-block' ? { kind: st.kind, path: st.path, fingerprint: st.fingerprint, why: st.why }
          : st.kind === 'image' ? { kind: st.kind, src: st.src, dst: st.dst, action: st.action, fingerprints: st.fingerprints, why: st.why }
            : st),
    unchanged: p.unchanged, needsPrivilege: p.needsPrivilege, readers: p.readers, notes: p.notes,
  };
}

/** Each applied plan's steps, read-back checks and error, as JSON (trust and doctor --fix). */
export function jsonResults(results: TrustRun['results']) {
  return results.map((r) => ({ target: r.plan.target, steps: r.outcomes.map((o) => ({ kind: o.step.kind, result: o.result })), checks: r.checks, ...(r.error ? { error: r.error } : {}) }));
}

/** The run as `trust --json` prints it (schema 1). */
export function trustRunJson(run: TrustRun, version: string) {
  return {
    schema: 1, tool: { name: 'ollama-tls', version }, action: run.action, dryRun: run.dryRun,
    cas: run.refs.map((r) => ({ sha256: r.sha256, ...(r.cert ? { subject: formatName(r.cert.subject), notAfter: r.cert.notAfter.toISOString() } : {}) })),
    notes: run.notes, plans: run.plans.map(jsonPlan), results: jsonResults(run.results), ok: run.ok,
  };
}
