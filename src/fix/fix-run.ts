// `doctor --fix` as a use case: diagnose, offer the fixes this tool can carry out itself as one
// plan, apply it, then run the very same checks again and say, per target, what changed. The
// closed loop is the point: a fix counts only when the re-check passes, never on faith. The result
// is a `FixRun`, plain data rendered by src/cli/render-fix.ts as text or JSON.
//
// What it can carry out: trusting the CA a failing target needs, in the store Go reads (the same
// targets and plans as `trust`), and giving `ollama serve` the proxy / SSL_CERT_FILE it lacks (a
// systemd drop-in). The CA comes from the network (the interception or private root the chain
// shows: a person confirms its SHA-256, or --fingerprint names it) or from --ca files the user
// gave (their own choice; no fingerprint needed). Everything else stays advice.
import { restartAdvice, type Advice } from './advice.js';
import { checkCas, readCaFile } from './ca-input.js';
import { trustContext } from './context.js';
import type { Plan, TrustTarget } from './plan.js';
import { serviceEnvPlan, serviceEnvWanted } from './service-env.js';
import { chooseTargets } from './targets.js';
import { applyPlans, finishEarlierRun, type Planned, type TrustResult } from './trust-run.js';
import type { DoctorRun } from '../diagnose/doctor.js';
import type { DoctorReport } from '../diagnose/report.js';
import { readSystemdService } from '../ollama/systemd.js';
import { InputError } from '../platform/input-error.js';
import { parseGoDebug } from '../trust/go-verify.js';
import type { Certificate } from '../x509/certificate.js';

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
export async function caOffers(run: DoctorRun, caFiles: string[], godebug?: string): Promise<CaOffer[]> {
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
      fileCas ??= await readUserCas(caFiles, godebug);
      for (const c of fileCas) add(c, 'file', t.target);
      continue;
    }
    const candidate = run.interceptionCandidates.get(t.target);
    if (candidate && candidate.where !== 'installed') add(candidate.cert, candidate.fromCaFile ? 'file' : 'network', t.target);
  }
  return offers;
}

/** The CAs of the --ca files, held to the same checks as `trust --ca` (a CA Go cannot use is refused). */
async function readUserCas(files: string[], godebug: string | undefined): Promise<Certificate[]> {
  const read = [];
  for (const f of files) read.push(await readCaFile(f));
  return checkCas(read, { now: new Date(), force: false, godebug: parseGoDebug(godebug) });
}

/** Per target: was it ok, is it ok now. */
export function beforeAfter(before: DoctorReport, after: DoctorReport): { target: string; before: boolean; after: boolean }[] {
  return before.targets.map((t) => ({ target: t.target, before: t.ok, after: after.targets.find((a) => a.target === t.target)?.ok ?? false }));
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

export interface FixRequest {
  /** --ca files: CAs the user vouches for. */
  caFiles: string[];
  /** --fingerprint values, normalised. */
  fingerprints: string[];
  root?: string;
  dryRun: boolean;
  yes: boolean;
  /** This shell's environment: what the service lacks is compared with it; GODEBUG for the CA checks. */
  env: NodeJS.ProcessEnv;
}

/** The questions only a person can answer. Absent when nobody can (no terminal, --yes, or --json). */
export interface FixQuestions {
  trustOffer(offer: CaOffer): Promise<boolean>;
  serviceEnv(names: string[]): Promise<boolean>;
  apply(): Promise<boolean>;
}

/** Where the command shows the run so far, so text appears in order around the questions. */
export type FixStage = 'before' | 'offers' | 'earlier' | 'planned' | 'applied' | 'after';

export interface FixIo {
  ask?: FixQuestions;
  /** Every check the doctor makes, run once before and once after the fix (the command's spinner around it). */
  check(what: 'Checking' | 'Checking again'): Promise<DoctorRun>;
  show?(run: FixRun, stage: FixStage): void | Promise<void>;
}

/**
 * How the run ended. `nothing-to-fix`: every target passes; `cannot-fix`: nothing this tool can
 * carry out; `declined`; `dry-run`; `needs-privilege` (the command says how to run it as root);
 * `apply-failed`; `checked-again`: applied, and `after` says whether it worked.
 */
export type FixStatus = 'nothing-to-fix' | 'cannot-fix' | 'declined' | 'dry-run' | 'needs-privilege' | 'apply-failed' | 'checked-again';

export interface FixRun {
  dryRun: boolean;
  status: FixStatus;
  before: DoctorReport;
  /** The CAs offered (after a person's choice, the ones chosen). */
  offers: CaOffer[];
  /** Why parts of the service's environment are not fixed (only when no drop-in is planned). */
  serviceEnvSkipped: string[];
  /** An interrupted earlier run finished first. */
  notes: string[];
  plans: Plan[];
  results: TrustResult[];
  after: DoctorReport | null;
  /** Per target: ok before, ok after. */
  targets?: { target: string; before: boolean; after: boolean }[];
  ok: boolean;
  /** needs-privilege: the flags the root run needs to apply without asking (the network CAs' fingerprints). */
  confirmFlags?: string[];
  /** After the re-check: restarts and what to do next. */
  advice?: Advice[];
}

export async function runFix(req: FixRequest, io: FixIo): Promise<FixRun> {
  const before = await io.check('Checking');
  const run: FixRun = {
    dryRun: req.dryRun, status: 'nothing-to-fix', before: before.report, offers: [], serviceEnvSkipped: [], notes: [], plans: [], results: [], after: null, ok: false,
  };
  await io.show?.(run, 'before');
  if (before.report.ok) return { ...run, status: 'nothing-to-fix', ok: true, after: before.report };

  let offers = await caOffers(before, req.caFiles, req.env.GODEBUG);
  const ctx = trustContext(req.root ? { root: req.root } : {});
  // The service's environment: what the doctor found ollama serve lacks that this shell has.
  const envWant = serviceEnvWanted([...before.report.findings, ...before.report.targets.flatMap((t) => t.findings)], req.env);
  let envPlan = serviceEnvPlan(ctx, envWant);
  run.serviceEnvSkipped = envPlan ? [] : envWant.skipped;
  if (offers.length === 0 && !envPlan) return { ...run, status: 'cannot-fix' };
  const stray = req.fingerprints.filter((fp) => !offers.some((o) => o.cert.sha256 === fp));
  if (stray.length) throw new InputError(`--fingerprint ${stray.join(', ')} matches no CA this check found (${offers.map((o) => o.cert.sha256).join(', ')}): nothing changed`);
  run.offers = offers;
  await io.show?.(run, 'offers');

  // Who says yes. A CA off the network is only trusted on a person's word or the fingerprint they were given.
  const ask = req.yes ? undefined : io.ask;
  if (!ask && !req.dryRun) {
    if (!req.yes) throw new InputError('doctor --fix needs a yes to change anything: run again with --yes (or --dry-run to only print the plan)');
    const unconfirmed = offers.filter((o) => o.source === 'network' && !req.fingerprints.includes(o.cert.sha256));
    if (unconfirmed.length) {
      throw new InputError(`doctor --fix --yes trusts a CA taken from the network only with its fingerprint: add ${unconfirmed.map((o) => `--fingerprint ${o.cert.sha256}`).join(' ')} (confirm that value with your IT team first): nothing changed`);
    }
  }
  if (ask) {
    const chosen: CaOffer[] = [];
    for (const o of offers) if (await ask.trustOffer(o)) chosen.push(o);
    offers = chosen;
    run.offers = offers;
    if (envPlan && !(await ask.serviceEnv(envWant.set.map((v) => v.name)))) envPlan = undefined;
    if (offers.length === 0 && !envPlan) return { ...run, status: 'declined' };
  }

  // A trust or untrust killed half-way left its journal: finish it before planning, as they do.
  await finishEarlierRun(ctx, { dryRun: req.dryRun }, run.notes);
  await io.show?.(run, 'earlier');
  const choice = offers.length ? chooseTargets(ctx) : { chosen: [], skipped: [] };
  if (offers.length && choice.chosen.length === 0) {
    throw new InputError(`no trust store applies here${choice.skipped.length ? `: ${choice.skipped.map((x) => `${x.id} (${x.why})`).join('; ')}` : ''}; use ollama-tls trust --ca FILE --bundle-out FILE instead`);
  }
  const cas = offers.map((o) => o.cert);
  const planned: Planned[] = [];
  for (const c of choice.chosen) planned.push({ target: c.target, plan: await c.target.plan(ctx, cas) });
  if (envPlan) planned.push({ target: serviceTarget(envWant), plan: envPlan });
  run.plans = planned.map((p) => p.plan);
  await io.show?.(run, 'planned');
  const pending = planned.filter((p) => p.plan.steps.length > 0);

  if (req.dryRun) return { ...run, status: 'dry-run' };
  if (ask && pending.length && !(await ask.apply())) return { ...run, status: 'declined' };
  if (pending.some((p) => p.plan.needsPrivilege)) {
    return { ...run, status: 'needs-privilege', confirmFlags: offers.filter((o) => o.source === 'network').flatMap((o) => ['--fingerprint', o.cert.sha256]) };
  }

  run.results = await applyPlans(ctx, pending, cas.map((c) => ({ sha256: c.sha256, cert: c })));
  await io.show?.(run, 'applied');
  if (run.results.some((r) => r.error)) return { ...run, status: 'apply-failed' };

  // The same checks again: the fix is judged by what the doctor sees now, not by the plan.
  const after = (await io.check('Checking again')).report;
  const serviceRestart: Advice[] = pending.some((p) => p.plan.target === 'ollama-service')
    ? [ctx.live ? { title: 'Restart Ollama so it starts with the new environment', command: 'sudo systemctl restart ollama' } : { title: 'Ollama\'s service in this tree starts with the new environment from its next start' }]
    : [];
  const done: FixRun = {
    ...run, status: 'checked-again', after, targets: beforeAfter(before.report, after), ok: after.ok,
    advice: [...restartAdvice(ctx, pending.map((p) => p.plan)), ...serviceRestart],
  };
  await io.show?.(done, 'after');
  return done;
}
