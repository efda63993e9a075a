// `ollama-tls doctor --fix` on the command line: the questions a person answers (only on a
// terminal, never with --json or --yes), the spinner around each check (doctor-command.ts), the
// text stage by stage; the use case (src/fix/fix-run.ts) does the rest and returns a `FixRun`,
// rendered by render-fix.ts.
import type { DoctorRun } from '../diagnose/doctor.js';
import type { DoctorReport } from '../diagnose/report.js';
import { runFix, type FixQuestions } from '../fix/fix-run.js';
import { parseFingerprints } from '../fix/from-host.js';
import { DROP_IN } from '../fix/service-env.js';
import { InputError } from '../platform/input-error.js';
import type { FlagsOf } from './options.js';
import { EXIT } from './exit.js';
import { runnableReport } from './invocation.js';
import { fixHasJson, fixRunJson, renderFixEnd, renderFixStage } from './render-fix.js';
import { asRootCommand } from './render-plan.js';
import { styleFor } from './style.js';
import { ask, canPrompt } from './terminal.js';
import { toolVersion } from './version.js';

const terminalQuestions: FixQuestions = {
  trustOffer: (o) => ask<boolean>({
    type: 'confirm', default: false,
    message: `Trust "${o.cert.commonName ?? o.cert.sha256.slice(0, 16)}" (SHA-256 ${o.cert.sha256})? ${o.source === 'network' ? 'Confirm it with your IT team first.' : ''}`.trim(),
  }),
  serviceEnv: (names) => ask<boolean>({ type: 'confirm', default: true, message: `Give Ollama's service ${names.join(', ')} (a drop-in, ${DROP_IN})?` }),
  apply: () => ask<boolean>({ type: 'confirm', default: true, message: 'Apply this plan?' }),
};

// The doctor's flags, from the options table (not doctor-command.ts: that module imports this one).
export async function fixLoop(flags: FlagsOf<'doctor'>, check: (what: string) => Promise<DoctorRun>): Promise<number> {
  const s = styleFor(process.stdout);
  // As for trust: with --json, stdout carries the JSON alone; everything for people goes to stderr.
  const log = (t: string) => (flags.json ? process.stderr : process.stdout).write(t);
  const doctor = async (report: DoctorReport) => {
    const { renderDoctor } = await import('./render-doctor.js');
    return renderDoctor(report, { style: s, verbose: Boolean(flags.verbose), now: new Date(), width: Math.min(process.stdout.columns || 100, 110) });
  };
  const run = await runFix({
    caFiles: flags.ca ?? [], fingerprints: parseFingerprints(flags.fingerprint), ...(flags.root ? { root: flags.root } : {}),
    dryRun: Boolean(flags.dryRun), yes: Boolean(flags.yes), env: process.env,
  }, {
    ...(canPrompt() && !flags.json ? { ask: terminalQuestions } : {}),
    check: async (what) => {
      const done = await check(what);
      done.report = runnableReport(done.report);
      return done;
    },
    show: async (r, stage) => {
      if (!flags.json) log(await renderFixStage(r, stage, s, doctor));
    },
  });
  if (run.status === 'needs-privilege') throw new InputError(`the plan needs root; nothing changed. To apply it, run: ${asRootCommand(run.confirmFlags)}`);
  log(renderFixEnd(run, s, Boolean(flags.json)));
  if (flags.json && fixHasJson(run)) process.stdout.write(`${JSON.stringify(fixRunJson(run, toolVersion()), null, 2)}\n`);
  return run.ok ? EXIT.OK : EXIT.PROBLEM;
}
