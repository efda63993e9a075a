// A `FixRun` (src/fix/fix-run.ts) as text, stage by stage around the questions, and as JSON at the
// end: formatting only. The doctor's reports inside it are rendered by render-doctor.ts.
import type { FixRun, FixStage } from '../fix/fix-run.js';
import { describeCa, renderAdvice, renderOutcome, renderPlans } from './render-plan.js';
import { jsonPlan, jsonResults } from './render-trust.js';
import type { Style } from './style.js';

/** What the service's environment does not get, and why (only when no drop-in is planned). */
const notFixed = (run: FixRun, s: Style): string => run.serviceEnvSkipped.map((why) => `${s.dim('not fixed')} ${why}\n`).join('');

function renderBeforeAfter(run: FixRun, s: Style): string {
  const word = (ok: boolean) => (ok ? s.green('ok  ') : s.red('FAIL'));
  const out = [s.bold('Before -> after')];
  for (const r of run.targets ?? []) out.push(`  ${word(r.before)} -> ${word(r.after)}  ${r.target}`);
  const after = run.after!;
  if (run.before.ok !== after.ok || !after.ok) out.push(`  overall: ${run.before.ok ? 'ok' : 'FAIL'} -> ${after.ok ? 'ok' : 'FAIL'}`);
  return `${out.join('\n')}\n`;
}

/** One stage's text (never with --json). `doctor` renders a report as the doctor prints it. */
export async function renderFixStage(run: FixRun, stage: FixStage, s: Style, doctor: (r: NonNullable<FixRun['after']>) => Promise<string>): Promise<string> {
  switch (stage) {
    case 'before':
      return doctor(run.before);
    case 'offers': {
      let out = notFixed(run, s);
      if (run.offers.length) {
        out += `${s.bold('Fix')}: trust ${run.offers.length === 1 ? 'this CA' : `these ${run.offers.length} CAs`} where Ollama (Go) reads its roots\n`;
        for (const o of run.offers) {
          out += `  ${describeCa(o.cert)}\n      ${s.dim('for')} ${o.targets.join(', ')} ${s.dim(o.source === 'file' ? '(from your --ca file)' : '(taken from the network: confirm this SHA-256 with your IT team)')}\n`;
        }
      }
      return out;
    }
    case 'earlier':
      return run.notes.map((note) => `${s.dim('note')} ${note}\n`).join('');
    case 'planned':
      return renderPlans(run.plans, s);
    case 'applied':
      return run.results.map((r) => (r.error
        ? `${s.red('failed')} ${r.plan.title}: ${r.error.message}\n${r.error.output ? `${r.error.output.split('\n').map((l) => `  | ${l}`).join('\n')}\n` : ''}`
        : renderOutcome(r.plan, r.outcomes, r.checks, s))).join('');
    case 'after':
      return `\n${s.bold('After the fix')}\n${await doctor(run.after!)}${renderBeforeAfter(run, s)}${renderAdvice('Next', run.advice ?? [], s)}`;
  }
}

/** How the run ended, for people (also shown with --json, on standard error). */
export function renderFixEnd(run: FixRun, s: Style, json: boolean): string {
  switch (run.status) {
    case 'nothing-to-fix':
      return 'Nothing to fix: every target passes.\n';
    case 'cannot-fix':
      return `${json ? '' : notFixed(run, s)}${s.bold('Fix')}: nothing here that ollama-tls can carry out itself; the fixes above say what to do.\n`;
    case 'declined':
      return 'Nothing changed.\n';
    case 'dry-run':
      return s.dim('--dry-run: nothing changed; the checks above still fail.\n');
    default:
      return '';
  }
}

/** Whether the run has a JSON document (a declined run or one that needs root has none). */
export const fixHasJson = (run: FixRun): boolean => run.status !== 'declined' && run.status !== 'needs-privilege';

/** The run as `doctor --fix --json` prints it (schema 1). */
export function fixRunJson(run: FixRun, version: string) {
  return {
    schema: 1, tool: { name: 'ollama-tls', version }, dryRun: run.dryRun, ok: run.ok, before: run.before,
    plans: run.plans.map(jsonPlan), results: jsonResults(run.results), after: run.after, ...(run.targets ? { targets: run.targets } : {}),
  };
}
