// `trust` and `untrust` as one use case: read the CAs (files, or the CA a host presents), plan per
// store, let a person (or --yes) accept, apply, read the stores back. The result is a `TrustRun`,
// plain data that the command renders as text or JSON (src/cli/render-trust.ts), as it renders a
// `DoctorReport`. Nothing is changed before the plan is accepted, and every refusal (a bad file, a
// wrong fingerprint, a link out of a --root tree) happens before anything is planned or written.
//
// What only the command line can do stays out: the questions (`TrustQuestions`, absent when
// nobody is there to answer), the spinner, and running itself again under sudo.
import { otherReaders, restartAdvice, type Advice } from './advice.js';
import { ApplyError, applyPlan, recoverInterrupted, treeEscape, type StepOutcome } from './apply.js';
import { CaInputError, checkCas, readCaFile, type CaFile } from './ca-input.js';
import { trustContext, type TrustContext } from './context.js';
// from-host.ts (which runs the doctor) loads only for --from-host.
import type { FromHost, HostOptions } from './from-host.js';
import { JOURNAL_DIR, JOURNAL_TMP, journaled, JournalBusy, SYSTEM_STORES } from './journal.js';
import { type CaRef, type Check, type Plan, type Step, type TargetId, type TrustTarget } from './plan.js';
import { chooseTargets } from './targets.js';
import type { BaseFamily } from './base-family.js';
import { InputError } from '../platform/input-error.js';
import { TreeEscapeError } from '../platform/rootfs.js';
import { parseGoDebug } from '../trust/go-verify.js';
import type { Certificate } from '../x509/certificate.js';

export type TrustAction = 'trust' | 'untrust';

/** What the command line asked for, checked and typed (src/cli/trust-command.ts builds it from the flags). */
export interface TrustRequest {
  action: TrustAction;
  /** --ca files, as given. */
  caFiles: string[];
  password?: string;
  /** --from-host HOST[:PORT], and how to reach it. */
  fromHost?: { spec: string; net: HostOptions };
  /** --fingerprint values, normalised (64 lower-case hex digits). */
  fingerprints: string[];
  force: boolean;
  dryRun: boolean;
  yes: boolean;
  root?: string;
  scope?: 'user' | 'machine';
  bundleOut?: string;
  only?: TargetId[];
  compose?: string;
  services?: string[];
  dockerfile?: string;
  context?: string;
  baseFamily?: BaseFamily;
  image?: string;
  output?: string;
  /** GODEBUG as the service will see it (x509negativeserial...). */
  godebug?: string;
  /** The tool's version, for the doctor run behind --from-host. */
  version: string;
}

/** The questions only a person can answer. Absent when nobody can (no terminal, or --json). */
export interface TrustQuestions {
  password(file: string): Promise<string>;
  /** The CA --from-host found: is it the one the IT team gave? (shown to the person first) */
  trustFromHost(found: Extract<FromHost, { kind: 'candidate' }>): Promise<boolean>;
  baseFamily(image: string, reason: string, choices: readonly string[]): Promise<string>;
  /** Several stores: which to apply to (all checked by default). */
  stores(pending: Plan[]): Promise<TargetId[]>;
  /** One store: apply as planned? */
  apply(action: TrustAction): Promise<boolean>;
}

/** What the use case tells the command as it goes, so text appears in order around the questions. */
export interface TrustIo {
  ask?: TrustQuestions;
  /** --compose without --service and without an Ollama service in the file: which services. Asked on any terminal. */
  composeServices?: (services: { name: string; image?: string }[]) => Promise<string[]>;
  /** --from-host found a CA (before it is confirmed). */
  onFromHost?: (run: TrustRun) => void;
  /** The plans are made (before any question about them). */
  onPlanned?: (run: TrustRun) => void;
  /** Applying one plan: progress for a spinner. */
  applying?: (plan: Plan) => Promise<{ step(step: Step, index: number): void; bytes(done: number, total: number): void; stop(): void } | undefined>;
}

export interface TrustResult {
  plan: Plan;
  outcomes: StepOutcome[];
  checks: Check[];
  error?: { message: string; output: string };
}

/**
 * How the run ended. `applied`: every plan applied and read back as asked; `failed`: a step or a
 * read-back failed; `nothing-to-do`; `dry-run`; `declined` (by the person asked);
 * `from-host-failed` / `already-trusted` (--from-host found no CA to add); `needs-privilege`: the
 * plan needs rights this process lacks (the command asks for sudo or says how to get them).
 */
export type TrustStatus = 'applied' | 'failed' | 'nothing-to-do' | 'dry-run' | 'declined' | 'from-host-failed' | 'already-trusted' | 'needs-privilege';

export interface TrustRun {
  action: TrustAction;
  dryRun: boolean;
  status: TrustStatus;
  /** trust: the CAs to install (checked). */
  cas: Certificate[];
  /** What the plans act on: trust's CAs, or untrust's certificates and fingerprints. */
  refs: CaRef[];
  /** --from-host: what the host presented. */
  fromHost?: FromHost;
  notes: string[];
  plans: Plan[];
  results: TrustResult[];
  ok: boolean;
  /** needs-privilege: whether sudo can get them (Unix stores) or an elevated prompt is needed (Windows). */
  privilege?: { unixSudo: boolean };
  /** After success: what to do next, and what the stores do not reach. */
  advice?: { next: Advice[]; beside: Advice[] };
}

/** Read every --ca file; a password-protected PKCS#12 asks for its password when a person is there. */
async function readFiles(req: TrustRequest, ask: TrustQuestions | undefined): Promise<CaFile[]> {
  const out: CaFile[] = [];
  for (const file of req.caFiles) {
    try {
      out.push(await readCaFile(file, req.password !== undefined ? { password: req.password } : {}));
    } catch (e) {
      if (!(e instanceof CaInputError)) throw e;
      if (e.kind === 'password-required' && ask) {
        out.push(await readCaFile(file, { password: await ask.password(file) }));
        continue;
      }
      if (e.kind === 'password-required') throw new InputError(`${e.message} (give it with --password, or run on a terminal to be asked)`);
      throw e;
    }
  }
  return out;
}

type Chosen = { cas: Certificate[]; refs: CaRef[]; notes: string[]; fromHost?: FromHost } | { end: TrustRun };

const emptyRun = (req: TrustRequest, status: TrustStatus, fromHost?: FromHost): TrustRun => ({
  action: req.action, dryRun: req.dryRun, status, cas: [], refs: [], ...(fromHost ? { fromHost } : {}), notes: [], plans: [], results: [], ok: status === 'already-trusted',
});

/**
 * The CAs to act on. trust: from files (checked: a CA, valid, Go-parsable) or from a host
 * (confirmed by a person or by --fingerprint). untrust: certificates from files, unchecked (an
 * expired CA must be removable), or fingerprints.
 */
export async function chooseCas(req: TrustRequest, io: TrustIo): Promise<Chosen> {
  const files = await readFiles(req, io.ask);
  if (req.action === 'untrust') {
    const refs: CaRef[] = [];
    for (const c of files.flatMap((f) => f.certificates)) if (!refs.some((r) => r.sha256 === c.sha256)) refs.push({ sha256: c.sha256, cert: c });
    for (const fp of req.fingerprints) if (!refs.some((r) => r.sha256 === fp)) refs.push({ sha256: fp });
    return { cas: [], refs, notes: [] };
  }
  const notes = files.flatMap((f) => f.notes);
  const cas = checkCas(files, { now: new Date(), force: req.force, godebug: parseGoDebug(req.godebug) });
  if (req.caFiles.length && req.fingerprints.length) {
    const stray = cas.filter((c) => !req.fingerprints.includes(c.sha256));
    if (stray.length) throw new InputError(`--fingerprint does not match ${stray.map((c) => `"${c.commonName ?? c.sha256}" (SHA-256 ${c.sha256})`).join(', ')}: nothing changed`);
  }
  let fromHost: FromHost | undefined;
  if (req.fromHost) {
    const { caFromHost } = await import('./from-host.js');
    fromHost = await caFromHost(req.fromHost.spec, req.fromHost.net, req.root, req.version);
    if (fromHost.kind === 'failed') return { end: emptyRun(req, 'from-host-failed', fromHost) };
    if (fromHost.kind === 'already-trusted') return { end: emptyRun(req, 'already-trusted', fromHost) };
    const ca = fromHost.cert;
    io.onFromHost?.(emptyRun(req, 'dry-run', fromHost));
    if (req.fingerprints.length) {
      if (!req.fingerprints.includes(ca.sha256)) {
        throw new InputError(`--fingerprint does not match what ${fromHost.label} presents (SHA-256 ${ca.sha256}): nothing changed. If that is not your IT team's CA, someone else is in the middle.`);
      }
    } else if (io.ask) {
      if (!(await io.ask.trustFromHost(fromHost))) return { end: emptyRun(req, 'declined', fromHost) };
    } else {
      throw new InputError(`--from-host ${fromHost.label} without a terminal needs --fingerprint ${ca.sha256} (confirm that value with your IT team first): nothing changed`);
    }
    if (!cas.some((c) => c.sha256 === ca.sha256)) cas.push(ca);
  }
  return { cas, refs: cas.map((c) => ({ sha256: c.sha256, cert: c })), notes, ...(fromHost ? { fromHost } : {}) };
}

/** --compose: the services to patch, named, found (Ollama's), or chosen on a terminal. */
async function composeServices(file: string, named: string[] | undefined, io: TrustIo): Promise<string[]> {
  if (named?.length) return named;
  const { defaultServices, readServices } = await import('./compose.js');
  const { readFileSync } = await import('node:fs');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`--compose ${file}: ${(e as Error).message}`);
  }
  let services;
  try {
    services = readServices(text);
  } catch (e) {
    throw new InputError(`--compose ${file} is not valid YAML: ${(e as Error).message}`);
  }
  const found = defaultServices(services);
  if (found.length) return found;
  if (services.length === 0) throw new InputError(`--compose ${file} defines no services`);
  if (io.composeServices) return io.composeServices(services.map((x) => ({ name: x.name, ...(x.image ? { image: x.image } : {}) })));
  throw new InputError(`--compose ${file}: say which services with --service NAME (services: ${services.map((x) => x.name).join(', ')})`);
}

/** Targets that are the user's files rather than OS stores. */
async function fileTargets(req: TrustRequest, io: TrustIo): Promise<TrustTarget[]> {
  const out: TrustTarget[] = [];
  if (req.dockerfile) {
    const { dockerfileTarget } = await import('./dockerfile-target.js');
    out.push(dockerfileTarget(req.dockerfile, { ...(req.context ? { contextDir: req.context } : {}), ...(req.baseFamily ? { family: req.baseFamily } : {}) }));
  }
  if (req.image) {
    const { imageTarget } = await import('./image-target.js');
    out.push(imageTarget(req.image, req.output));
  }
  if (req.compose) {
    const [{ composeTarget }, { bundledRoots }] = await Promise.all([import('./compose.js'), import('../trust/stores.js')]);
    const services = req.action === 'trust' ? await composeServices(req.compose, req.services, io) : (req.services ?? []);
    out.push(composeTarget(req.compose, services, bundledRoots().certificates));
  }
  return out;
}

/**
 * A run killed half-way left its journal in the tree: finish it before planning (the plan would
 * otherwise start from a half-changed store), and say so. A dry run only says it is pending.
 */
export async function finishEarlierRun(ctx: TrustContext, opts: { dryRun: boolean }, notes: string[]): Promise<void> {
  if (opts.dryRun) {
    if (ctx.fs.exists(`${JOURNAL_DIR}/journal.json`)) notes.push(`An interrupted ollama-tls run left a journal in ${JOURNAL_DIR}; the next trust or untrust finishes it first.`);
    return;
  }
  try {
    const r = await recoverInterrupted(ctx.root);
    if (r) {
      const what = `${r.journal.action} of ${r.journal.started} (pid ${r.journal.pid}) was interrupted`;
      notes.push(`An earlier ${what}: finished it first (${r.journal.steps.length} steps again${r.removed.length ? `; removed what it left half-written: ${r.removed.join(', ')}` : ''}).`);
    }
  } catch (e) {
    if (e instanceof JournalBusy) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      notes.push('An interrupted ollama-tls run left a journal that only root can finish; run this as root to finish it first.');
      return;
    }
    if (e instanceof ApplyError) throw new InputError(`finishing an interrupted earlier run failed: ${e.message}${e.output ? `\n${e.output}` : ''}`);
    if (e instanceof TreeEscapeError || code === 'ELOOP') throw new InputError(`finishing an interrupted earlier run: ${(e as Error).message}`);
    throw e;
  }
}

export interface Planned {
  target: TrustTarget;
  plan: Plan;
}

/**
 * One target's plan. Planning reads the user's files (a compose file, a Dockerfile, an image):
 * their problems are theirs to fix (PlanError is an InputError). A Dockerfile whose base the
 * table does not know is asked about when a person is there.
 */
async function planOne(target: TrustTarget, ctx: TrustContext, cas: Certificate[], refs: CaRef[], req: TrustRequest, io: TrustIo): Promise<Planned> {
  try {
    return { target, plan: await (req.action === 'trust' ? target.plan(ctx, cas) : target.planUndo(ctx, refs)) };
  } catch (e) {
    const { UnknownBaseFamily } = await import('./dockerfile-target.js');
    if (e instanceof UnknownBaseFamily && req.dockerfile && io.ask) {
      const { BASE_FAMILIES } = await import('./dockerfile.js');
      const family = (await io.ask.baseFamily(e.image, e.reason, BASE_FAMILIES)) as BaseFamily;
      const again = { ...req, baseFamily: family, compose: undefined };
      return planOne((await fileTargets(again, io))[0]!, ctx, cas, refs, again, io);
    }
    throw e;
  }
}

/** Apply each plan in turn and read its store back; the first failure stops the rest (trust, untrust, doctor --fix). */
export async function applyPlans(ctx: TrustContext, planned: Planned[], refs: CaRef[], io: Pick<TrustIo, 'applying'> = {}): Promise<TrustResult[]> {
  const results: TrustResult[] = [];
  for (const { target, plan } of planned) {
    const progress = await io.applying?.(plan);
    try {
      const outcomes = await applyPlan(plan, (step, i) => progress?.step(step, i), (done, total) => progress?.bytes(done, total));
      progress?.stop();
      results.push({ plan, outcomes, checks: await target.verify(ctx, refs, plan.action) });
    } catch (e) {
      progress?.stop();
      if (!(e instanceof ApplyError)) throw e;
      results.push({ plan, outcomes: [], checks: [], error: { message: e.message, output: e.output } });
      break;
    }
  }
  return results;
}

/** The whole of `trust` / `untrust` after the flags: CAs, plans, a yes, apply, read back. */
export async function runTrust(req: TrustRequest, io: TrustIo): Promise<TrustRun> {
  const chosen = await chooseCas(req, io);
  if ('end' in chosen) return chosen.end;
  const { cas, refs, notes } = chosen;
  const wholeFile = Boolean(req.dockerfile || req.compose);
  if (refs.length === 0 && !(req.action === 'untrust' && wholeFile)) throw new InputError('no certificate to act on');

  const ctx = trustContext({ ...(req.root ? { root: req.root } : {}), ...(req.scope ? { scope: req.scope } : {}) });
  const files = await fileTargets(req, io);
  const choice = chooseTargets(ctx, { ...(req.bundleOut ? { bundleOut: req.bundleOut } : {}), files, ...(req.only ? { only: req.only } : {}) });
  if (choice.chosen.length === 0) {
    throw new InputError(`no trust store applies here${choice.skipped.length ? `: ${choice.skipped.map((x) => `${x.id} (${x.why})`).join('; ')}` : ''}; --bundle-out FILE writes a bundle instead`);
  }
  if (ctx.platform === 'linux' && choice.chosen.some((c) => SYSTEM_STORES.includes(c.target.id))) await finishEarlierRun(ctx, { dryRun: req.dryRun }, notes);
  let planned: Planned[] = [];
  for (const c of choice.chosen) planned.push(await planOne(c.target, ctx, cas, refs, req, io));
  for (const { plan: p } of planned) {
    // A link in a --root tree that leads out of it: refused before anything is written.
    const escape = p.root === '/' ? undefined : p.steps.map((st) => treeEscape(ctx.fs, st)).find((e) => e);
    if (escape) throw new InputError(escape.message);
    const journalEscape = p.root !== '/' && journaled(p) ? ctx.fs.escape(JOURNAL_TMP) : undefined;
    if (journalEscape) throw new InputError(`refusing to write the journal in ${p.root}: ${journalEscape.message}`);
  }

  const run: TrustRun = {
    action: req.action, dryRun: req.dryRun, status: 'dry-run', cas, refs, ...(chosen.fromHost ? { fromHost: chosen.fromHost } : {}),
    notes, plans: planned.map((p) => p.plan), results: [], ok: true,
  };
  io.onPlanned?.(run);
  const pending = run.plans.filter((p) => p.steps.length > 0);
  if (pending.length === 0) return { ...run, status: 'nothing-to-do' };
  if (req.dryRun) return run;

  if (!req.yes) {
    if (!io.ask) throw new InputError('the plan above needs a yes: run again with --yes to apply it (or --dry-run to only print it)');
    if (pending.length > 1) {
      const picked = await io.ask.stores(pending);
      planned = planned.filter((p) => picked.includes(p.plan.target));
      run.plans = planned.map((p) => p.plan);
      if (run.plans.every((p) => p.steps.length === 0)) return { ...run, status: 'declined', ok: false };
    } else if (!(await io.ask.apply(req.action))) {
      return { ...run, status: 'declined', ok: false };
    }
  }

  const applying = planned.filter((p) => p.plan.steps.length > 0);
  const toApply = applying.map((p) => p.plan);
  if (toApply.some((p) => p.needsPrivilege)) {
    const unixSudo = process.platform !== 'win32' && toApply.every((p) => p.target !== 'windows' && p.target !== 'wsl-windows');
    return { ...run, status: 'needs-privilege', ok: false, privilege: { unixSudo } };
  }

  const results = await applyPlans(ctx, applying, refs, io);
  const ok = results.every((r) => !r.error && r.checks.every((c) => c.ok)) && results.length === toApply.length;
  return {
    ...run, status: ok ? 'applied' : 'failed', results, ok,
    ...(ok ? { advice: { next: restartAdvice(ctx, toApply), beside: req.action === 'trust' ? otherReaders(ctx, toApply) : [] } } : {}),
  };
}
