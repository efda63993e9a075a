// `ollama-tls doctor --fix`: diagnose, offer the fixes this tool can carry out itself as one plan,
// apply it, then run the very same checks again and say, per target, what changed. The closed
// loop is the point: a fix counts only when the re-check passes (exit 0), never on faith.
//
// What it can carry out: trusting the CA a failing target needs, in the store Go reads (the same
// targets and plans as `trust`). The CA comes from the network (the interception or private root
// the chain shows: a person confirms its SHA-256, or --fingerprint names it) or from --ca files
// the user gave (their own choice; no fingerprint needed). Everything else stays advice.
import { restartAdvice } from '../fix/advice.js';
import { checkCas, readCaFile } from '../fix/ca-input.js';
import { trustContext } from '../fix/context.js';
import type { TrustTarget } from '../fix/plan.js';
import { chooseTargets } from '../fix/targets.js';
import { DROP_IN, serviceEnvPlan, serviceEnvWanted } from '../fix/service-env.js';
import { readSystemdService } from '../ollama/systemd.js';
import type { DoctorRun } from '../diagnose/doctor.js';
import type { DoctorReport } from '../diagnose/report.js';
import { parseGoDebug } from '../trust/go-verify.js';
import type { Certificate } from '../x509/certificate.js';
import type { DoctorFlags } from './doctor-command.js';
import { InputError } from '../platform/input-error.js';
import { EXIT } from './exit.js';
import { parseFingerprints } from '../fix/from-host.js';
import { applyPlans, finishEarlierRun, type Planned } from '../fix/trust-run.js';
import { asRootCommand, describeCa, renderAdvice, renderOutcome, renderPlans } from './render-plan.js';
import { styleFor, type Style } from './style.js';
import { ask, canPrompt } from './terminal.js';
import { jsonPlan, jsonResults } from './render-trust.js';
import { toolVersion } from './version.js';
import { runnableReport } from './invocation.js';

/** A CA the loop offers to trust, and why: which failing targets it is for, and where it came from. */
export interface CaOffer {
  cert: Certificate;
  /** 'network': taken from a server's chain (needs a person's or --fingerprint's confirmation); 'file': a --ca file the user gave. */
  source: 'network' | 'file';
  targets: string[];
}

/**
 * The CAs that would make failing targets pass. A --ca file counts for a target whose `extra`
 * view (the OS store plus those files) already accepts what the deciding views refuse; an
 * interception candidate counts when it is not in a store here already (then trusting it again
 * would change nothing).
 */
export async function caOffers(run: DoctorRun, caFiles: string[]): Promise<CaOffer[]> {
  const offers: CaOffer[] = [];
  const add = (cert: Certificate, source: CaOffer['source'], target: string) => {
    const had = offers.find((o) => o.cert.sha256 === cert.sha256);
    if (had) {
      if (!had.targets.includes(target)) had.targets.push(target);
      if (source === 'file') had.source = 'file';
    } else offers.push({ cert, source, targets: [target] });
  };
  let fileCas: Certificate[] | undefined;
  for (const t of run.report.targets) {
    if (t.ok) continue;
    const extraOk = t.verdicts.some((v) => v.view === 'extra' && v.ok);
    if (extraOk && caFiles.length) {
      fileCas ??= await readUserCas(caFiles);
      for (const c of fileCas) add(c, 'file', t.target);
      continue;
    }
    const candidate = run.interceptionCandidates.get(t.target);
    if (candidate && candidate.where !== 'installed') add(candidate.cert, candidate.fromCaFile ? 'file' : 'network', t.target);
  }
  return offers;
}

/** The CAs of the --ca files, held to the same checks as `trust --ca` (a CA Go cannot use is refused). */
async function readUserCas(files: string[]): Promise<Certificate[]> {
  const read = [];
  for (const f of files) read.push(await readCaFile(f));
  return checkCas(read, { now: new Date(), force: false, godebug: parseGoDebug(process.env.GODEBUG) });
}

/** Per target: was it ok, is it ok now. */
export function beforeAfter(before: DoctorReport, after: DoctorReport): { target: string; before: boolean; after: boolean }[] {
  return before.targets.map((t) => ({ target: t.target, before: t.ok, after: after.targets.find((a) => a.target === t.target)?.ok ?? false }));
}

function renderBeforeAfter(rows: ReturnType<typeof beforeAfter>, before: DoctorReport, after: DoctorReport, s: Style): string {
  const word = (ok: boolean) => (ok ? s.green('ok  ') : s.red('FAIL'));
  const out = [s.bold('Before -> after')];
  for (const r of rows) out.push(`  ${word(r.before)} -> ${word(r.after)}  ${r.target}`);
  if (before.ok !== after.ok || !after.ok) out.push(`  overall: ${before.ok ? 'ok' : 'FAIL'} -> ${after.ok ? 'ok' : 'FAIL'}`);
  return `${out.join('\n')}\n`;
}

/** The drop-in as a plan's target: verified by reading the service back as the doctor does. */
function serviceTarget(want: ReturnType<typeof serviceEnvWanted>): TrustTarget {
  return {
    id: 'ollama-service',
    detect: () => ({ applies: true, why: 'the doctor found the service lacks these' }),
    plan: () => { throw new Error('planned by serviceEnvPlan'); },
    planUndo: () => { throw new Error('remove the drop-in'); },
    async verify(ctx) {
      const svc = readSystemdService(ctx.fs);
      return want.set.map((v) => {
        const ok = svc?.env[v.name]?.value === v.value;
        return { ok, what: `ollama.service ${ok ? 'has' : 'does not have'} ${v.name}` };
      });
    },
  };
}

export async function fixLoop(flags: DoctorFlags, check: (what: string) => Promise<DoctorRun>): Promise<number> {
  const s = styleFor(process.stdout);
  // As for trust: with --json, stdout carries the JSON alone; everything for people goes to stderr.
  const log = (t: string) => (flags.json ? process.stderr : process.stdout).write(t);
  const fingerprints = parseFingerprints(flags.fingerprint);
  const render = async (report: DoctorReport) => {
    const { renderDoctor } = await import('./render-doctor.js');
    return renderDoctor(report, { style: s, verbose: Boolean(flags.verbose), now: new Date(), width: Math.min(process.stdout.columns || 100, 110) });
  };
  const json = (fields: Record<string, unknown>) => {
    if (flags.json) process.stdout.write(`${JSON.stringify({ schema: 1, tool: { name: 'ollama-tls', version: toolVersion() }, dryRun: Boolean(flags.dryRun), ...fields }, null, 2)}\n`);
  };

  const before = await check('Checking');
  before.report = runnableReport(before.report);
  if (!flags.json) log(await render(before.report));
  if (before.report.ok) {
    log('Nothing to fix: every target passes.\n');
    json({ ok: true, before: before.report, plans: [], results: [], after: before.report });
    return EXIT.OK;
  }

  let offers = await caOffers(before, flags.ca ?? []);
  const ctx = trustContext(flags.root ? { root: flags.root } : {});
  // The service's environment: what the doctor found ollama serve lacks that this shell has.
  const envWant = serviceEnvWanted([...before.report.findings, ...before.report.targets.flatMap((t) => t.findings)], process.env);
  let envPlan = serviceEnvPlan(ctx, envWant);
  if (!envPlan && !flags.json) for (const why of envWant.skipped) log(`${s.dim('not fixed')} ${why}\n`);
  if (offers.length === 0 && !envPlan) {
    log(`${s.bold('Fix')}: nothing here that ollama-tls can carry out itself; the fixes above say what to do.\n`);
    json({ ok: false, before: before.report, plans: [], results: [], after: null });
    return EXIT.PROBLEM;
  }
  const stray = fingerprints.filter((fp) => !offers.some((o) => o.cert.sha256 === fp));
  if (stray.length) throw new InputError(`--fingerprint ${stray.join(', ')} matches no CA this check found (${offers.map((o) => o.cert.sha256).join(', ')}): nothing changed`);

  if (!flags.json && offers.length) {
    log(`${s.bold('Fix')}: trust ${offers.length === 1 ? 'this CA' : `these ${offers.length} CAs`} where Ollama (Go) reads its roots\n`);
    for (const o of offers) {
      log(`  ${describeCa(o.cert)}\n      ${s.dim('for')} ${o.targets.join(', ')} ${s.dim(o.source === 'file' ? '(from your --ca file)' : '(taken from the network: confirm this SHA-256 with your IT team)')}\n`);
    }
  }

  // Who says yes. A CA off the network is only trusted on a person's word or the fingerprint they were given.
  const interactive = !flags.yes && canPrompt() && !flags.json;
  if (!interactive && !flags.dryRun) {
    if (!flags.yes) throw new InputError('doctor --fix needs a yes to change anything: run again with --yes (or --dry-run to only print the plan)');
    const unconfirmed = offers.filter((o) => o.source === 'network' && !fingerprints.includes(o.cert.sha256));
    if (unconfirmed.length) {
      throw new InputError(`doctor --fix --yes trusts a CA taken from the network only with its fingerprint: add ${unconfirmed.map((o) => `--fingerprint ${o.cert.sha256}`).join(' ')} (confirm that value with your IT team first): nothing changed`);
    }
  }
  if (interactive) {
    const chosen: CaOffer[] = [];
    for (const o of offers) {
      const yes = await ask<boolean>({
        type: 'confirm', default: false,
        message: `Trust "${o.cert.commonName ?? o.cert.sha256.slice(0, 16)}" (SHA-256 ${o.cert.sha256})? ${o.source === 'network' ? 'Confirm it with your IT team first.' : ''}`.trim(),
      });
      if (yes) chosen.push(o);
    }
    offers = chosen;
    if (envPlan && !(await ask<boolean>({ type: 'confirm', default: true, message: `Give Ollama's service ${envWant.set.map((v) => v.name).join(', ')} (a drop-in, ${DROP_IN})?` }))) envPlan = undefined;
    if (offers.length === 0 && !envPlan) {
      log('Nothing changed.\n');
      return EXIT.PROBLEM;
    }
  }

  // A trust or untrust killed half-way left its journal: finish it before planning, as they do.
  const earlier: string[] = [];
  await finishEarlierRun(ctx, { dryRun: Boolean(flags.dryRun) }, earlier);
  if (!flags.json) for (const note of earlier) log(`${s.dim('note')} ${note}\n`);
  const choice = offers.length ? chooseTargets(ctx) : { chosen: [], skipped: [] };
  if (offers.length && choice.chosen.length === 0) {
    throw new InputError(`no trust store applies here${choice.skipped.length ? `: ${choice.skipped.map((x) => `${x.id} (${x.why})`).join('; ')}` : ''}; use ollama-tls trust --ca FILE --bundle-out FILE instead`);
  }
  const cas = offers.map((o) => o.cert);
  const planned: Planned[] = [];
  for (const c of choice.chosen) {
    planned.push({ target: c.target, plan: await c.target.plan(ctx, cas) });
  }
  if (envPlan) planned.push({ target: serviceTarget(envWant), plan: envPlan });
  const plans = planned.map((p) => p.plan);
  if (!flags.json) log(renderPlans(plans, s));
  const pending = planned.filter((p) => p.plan.steps.length > 0);

  if (flags.dryRun) {
    log(s.dim('--dry-run: nothing changed; the checks above still fail.\n'));
    json({ ok: false, before: before.report, plans: plans.map(jsonPlan), results: [], after: null });
    return EXIT.PROBLEM;
  }
  if (interactive && pending.length && !(await ask<boolean>({ type: 'confirm', default: true, message: 'Apply this plan?' }))) {
    log('Nothing changed.\n');
    return EXIT.PROBLEM;
  }
  if (pending.some((p) => p.plan.needsPrivilege)) {
    const confirmFlags = offers.filter((o) => o.source === 'network').flatMap((o) => ['--fingerprint', o.cert.sha256]);
    throw new InputError(`the plan needs root; nothing changed. To apply it, run: ${asRootCommand(confirmFlags)}`);
  }

  const refs = cas.map((c) => ({ sha256: c.sha256, cert: c }));
  const results = await applyPlans(ctx, pending, refs);
  if (!flags.json) {
    for (const r of results) {
      if (r.error) log(`${s.red('failed')} ${r.plan.title}: ${r.error.message}\n${r.error.output ? `${r.error.output.split('\n').map((l) => `  | ${l}`).join('\n')}\n` : ''}`);
      else log(renderOutcome(r.plan, r.outcomes, r.checks, s));
    }
  }
  const resultsJson = jsonResults(results);
  if (results.some((r) => r.error)) {
    json({ ok: false, before: before.report, plans: plans.map(jsonPlan), results: resultsJson, after: null });
    return EXIT.PROBLEM;
  }

  // The same checks again: the fix is judged by what the doctor sees now, not by the plan.
  const after = await check('Checking again');
  after.report = runnableReport(after.report);
  const rows = beforeAfter(before.report, after.report);
  if (!flags.json) {
    log(`\n${s.bold('After the fix')}\n`);
    log(await render(after.report));
    log(renderBeforeAfter(rows, before.report, after.report, s));
    const serviceRestart = pending.some((p) => p.plan.target === 'ollama-service')
      ? [ctx.live ? { title: 'Restart Ollama so it starts with the new environment', command: 'sudo systemctl restart ollama' } : { title: 'Ollama\'s service in this tree starts with the new environment from its next start' }]
      : [];
    log(renderAdvice('Next', [...restartAdvice(ctx, pending.map((p) => p.plan)), ...serviceRestart], s));
  }
  json({ ok: after.report.ok, before: before.report, plans: plans.map(jsonPlan), results: resultsJson, after: after.report, targets: rows });
  return after.report.ok ? EXIT.OK : EXIT.PROBLEM;
}
