// `ollama-tls trust` and `untrust`: read the CAs, plan per store, show the plan, get a yes (a
// prompt on a terminal, --yes elsewhere), get the rights (sudo, after asking), apply, then read
// the stores back and say what is now true. Nothing is changed before the plan is accepted, and
// any refusal (a bad file, a wrong fingerprint) happens before anything is planned.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { otherReaders, restartAdvice } from '../fix/advice.js';
import { ApplyError, applyPlan, recoverInterrupted, treeEscape, type StepOutcome } from '../fix/apply.js';
import { JOURNAL_DIR, JOURNAL_TMP, journaled, JournalBusy, SYSTEM_STORES } from '../fix/journal.js';
import { isExecutableFile } from '../platform/executable.js';
import { TreeEscapeError } from '../platform/rootfs.js';
import { CaInputError, checkCas, readCaFile, type CaFile } from '../fix/ca-input.js';
import { parseGoDebug } from '../trust/go-verify.js';
import { trustContext, type TrustContext } from '../fix/context.js';
import { PlanError, type CaRef, type Check, type Plan, type TargetId, type TrustTarget } from '../fix/plan.js';
import { bundledRoots } from '../trust/stores.js';
import { BASE_FAMILIES, isBaseFamily, type BaseFamily } from '../fix/base-family.js';
import { chooseTargets, TARGET_IDS } from '../fix/targets.js';
import { formatName, type Certificate } from '../x509/certificate.js';
import { EXIT, UserError } from './exit.js';
import { caFromHost, normaliseFingerprint } from './from-host.js';
import { parseNetworkFlags, type NetworkFlags } from './network-flags.js';
import { asRootCommand, describeCa, renderAdvice, renderOutcome, renderPlans, shellLine } from './render-plan.js';
import { styleFor, useColour, type Style } from './style.js';
import { canPrompt, spinnerWanted } from './terminal.js';
import { toolVersion } from './version.js';

export interface TrustFlags extends NetworkFlags {
  ca?: string[];
  password?: string;
  fromHost?: string;
  fingerprint?: string[];
  force?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  root?: string;
  scope?: string;
  bundleOut?: string;
  only?: string;
  json?: boolean;
  compose?: string;
  service?: string[];
  dockerfile?: string;
  context?: string;
  baseFamily?: string;
  print?: boolean;
  buildSecret?: boolean;
  image?: string;
  output?: string;
}

type Action = 'trust' | 'untrust';

interface Outcome {
  plan: Plan;
  outcomes: StepOutcome[];
  checks: Check[];
  error?: { message: string; output: string };
}

const SUDO = ['/usr/bin/sudo', '/bin/sudo'];

function parseOnly(text: string | undefined): TargetId[] | undefined {
  if (text === undefined) return undefined;
  const ids = text.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = ids.filter((x) => !(TARGET_IDS as string[]).includes(x));
  if (bad.length || ids.length === 0) throw new UserError(`--only "${text}": choose from ${TARGET_IDS.filter((t) => t !== 'bundle').join(', ')} (comma-separated)`);
  return ids as TargetId[];
}

function parseFingerprints(list: string[] | undefined): string[] {
  return (list ?? []).map((f) => {
    const fp = normaliseFingerprint(f);
    if (!fp) throw new UserError(`--fingerprint "${f}": give the certificate's SHA-256 as 64 hex digits (colons allowed), as doctor prints it`);
    return fp;
  });
}

// inquirer loads only when a question is asked (it is heavy, and most runs ask nothing).
async function ask<T>(question: Record<string, unknown>): Promise<T> {
  const { default: inquirer } = await import('inquirer');
  const answers = (await inquirer.prompt([{ ...question, name: 'answer' }] as never)) as { answer: T };
  return answers.answer;
}

async function promptPassword(file: string): Promise<string> {
  return ask<string>({ type: 'password', message: `Password for ${file}:`, mask: '*' });
}

/** Read every --ca file; a password-protected PKCS#12 asks for its password on a terminal. */
async function readFiles(files: string[], flags: TrustFlags): Promise<CaFile[]> {
  const out: CaFile[] = [];
  for (const file of files) {
    try {
      out.push(await readCaFile(file, flags.password !== undefined ? { password: flags.password } : {}));
    } catch (e) {
      if (!(e instanceof CaInputError)) throw e;
      if (e.kind === 'password-required' && canPrompt() && !flags.json) {
        try {
          out.push(await readCaFile(file, { password: await promptPassword(file) }));
          continue;
        } catch (again) {
          if (again instanceof CaInputError) throw new UserError(again.message);
          throw again;
        }
      }
      throw new UserError(e.kind === 'password-required' ? `${e.message} (give it with --password, or run on a terminal to be asked)` : e.message);
    }
  }
  return out;
}

async function confirm(message: string, dflt: boolean): Promise<boolean> {
  return ask<boolean>({ type: 'confirm', message, default: dflt });
}

/** The CAs for `trust`: from files, or from a host (confirmed by a person or by --fingerprint). */
async function trustCas(flags: TrustFlags, s: Style, log: (t: string) => void): Promise<{ cas: Certificate[]; notes: string[] } | { exit: number }> {
  const fingerprints = parseFingerprints(flags.fingerprint);
  const files = await readFiles(flags.ca ?? [], flags);
  const notes = files.flatMap((f) => f.notes);
  let cas: Certificate[] = [];
  try {
    cas = checkCas(files, { now: new Date(), force: Boolean(flags.force), godebug: parseGoDebug(process.env.GODEBUG) });
  } catch (e) {
    if (e instanceof CaInputError) throw new UserError(e.message);
    throw e;
  }
  if (flags.ca?.length && fingerprints.length) {
    const stray = cas.filter((c) => !fingerprints.includes(c.sha256));
    if (stray.length) throw new UserError(`--fingerprint does not match ${stray.map((c) => `"${c.commonName ?? c.sha256}" (SHA-256 ${c.sha256})`).join(', ')}: nothing changed`);
  }
  if (flags.fromHost) {
    const net = parseNetworkFlags(flags);
    const found = await caFromHost(flags.fromHost, net, flags.root);
    if (found.kind === 'failed') {
      process.stderr.write(`ollama-tls: --from-host ${found.label}: ${found.problem}\n`);
      return { exit: EXIT.PROBLEM };
    }
    if (found.kind === 'already-trusted') {
      log(`${found.label}: Ollama (Go) already trusts the chain it presents; there is no CA to add.\n`);
      return { exit: EXIT.OK };
    }
    const ca = found.cert;
    log(`${s.bold(`${found.label} presents`)} ${describeCa(ca)}\n  ${s.dim('why')} ${found.why}\n`);
    if (fingerprints.length) {
      if (!fingerprints.includes(ca.sha256)) {
        throw new UserError(`--fingerprint does not match what ${found.label} presents (SHA-256 ${ca.sha256}): nothing changed. If that is not your IT team's CA, someone else is in the middle.`);
      }
    } else if (canPrompt() && !flags.json) {
      log(`  Confirm this SHA-256 with your IT team before trusting it.\n`);
      if (!(await confirm(`Is ${ca.sha256.slice(0, 16)}... the CA your IT team gave you?`, false))) {
        log('Nothing changed.\n');
        return { exit: EXIT.PROBLEM };
      }
    } else {
      throw new UserError(`--from-host ${found.label} without a terminal needs --fingerprint ${ca.sha256} (confirm that value with your IT team first): nothing changed`);
    }
    if (!cas.some((c) => c.sha256 === ca.sha256)) cas.push(ca);
  }
  return { cas, notes };
}

/** The CAs for `untrust`: certificates from files (no checks: an expired CA must be removable), or fingerprints. */
async function untrustRefs(flags: TrustFlags): Promise<CaRef[]> {
  const files = await readFiles(flags.ca ?? [], flags);
  const refs: CaRef[] = [];
  for (const c of files.flatMap((f) => f.certificates)) if (!refs.some((r) => r.sha256 === c.sha256)) refs.push({ sha256: c.sha256, cert: c });
  for (const fp of parseFingerprints(flags.fingerprint)) if (!refs.some((r) => r.sha256 === fp)) refs.push({ sha256: fp });
  return refs;
}

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

/** Run this same command again under sudo, for the CAs already read and confirmed here. */
async function rerunWithSudo(action: Action, cas: Certificate[], refs: CaRef[], flags: TrustFlags): Promise<number> {
  const sudo = SUDO.find((p) => isExecutableFile(p));
  if (!sudo) throw new UserError('this plan needs root and sudo is not installed: run the same command as root');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-'));
  try {
    const args: string[] = [action];
    const file = path.join(dir, 'cas.pem');
    const certs = action === 'trust' ? cas : refs.flatMap((r) => (r.cert ? [r.cert] : []));
    if (certs.length) {
      writeFileSync(file, certs.map((c) => c.toPem()).join(''), { mode: 0o644 });
      args.push('--ca', file);
    }
    if (action === 'untrust') for (const r of refs) if (!r.cert) args.push('--fingerprint', r.sha256);
    if (flags.force) args.push('--force');
    for (const [flag, value] of [['--root', flags.root], ['--scope', flags.scope], ['--bundle-out', flags.bundleOut], ['--only', flags.only]] as const) {
      if (value !== undefined) args.push(flag, flag === '--root' || flag === '--bundle-out' ? path.resolve(value) : value);
    }
    args.push('--yes');
    const argv = [sudo, '--', process.execPath, process.argv[1]!, ...args];
    process.stderr.write(`$ ${shellLine(argv)}\n`);
    const { spawn } = await import('node:child_process');
    return await new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
      child.on('exit', (code) => resolve(code ?? EXIT.PROBLEM));
      child.on('error', () => resolve(EXIT.PROBLEM));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}



interface Planned {
  target: TrustTarget;
  plan: Plan;
}

async function applyAll(ctx: TrustContext, planned: Planned[], refs: CaRef[], flags: TrustFlags): Promise<Outcome[]> {
  const results: Outcome[] = [];
  for (const { target, plan } of planned) {
    const spinner = spinnerWanted(flags.json)
      ? (await import('ora')).default({ text: `${plan.action === 'trust' ? 'Trusting in' : 'Removing from'} ${plan.title}`, stream: process.stderr, discardStdin: false, color: useColour(process.stderr) ? 'cyan' : false }).start()
      : undefined;
    try {
      const outcomes = await applyPlan(plan, (step, i) => {
        if (spinner) spinner.text = `${plan.title}: step ${i + 1} of ${plan.steps.length} (${step.kind})`;
      }, (done, total) => {
        if (spinner && total > 0) spinner.text = `${plan.title}: ${Math.floor((100 * done) / total)}% of ${(total / 1048576).toFixed(0)} MiB`;
      });
      spinner?.stop();
      results.push({ plan, outcomes, checks: await target.verify(ctx, refs, plan.action) });
    } catch (e) {
      spinner?.stop();
      if (!(e instanceof ApplyError)) throw e;
      results.push({ plan, outcomes: [], checks: [], error: { message: e.message, output: e.output } });
      break;
    }
  }
  return results;
}

/** --compose: the services to patch, named, found (Ollama's), or chosen on a terminal. */
async function composeServices(file: string, named: string[] | undefined): Promise<string[]> {
  if (named?.length) return named;
  const { defaultServices, readServices } = await import('../fix/compose.js');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--compose ${file}: ${(e as Error).message}`);
  }
  let services;
  try {
    services = readServices(text);
  } catch (e) {
    throw new UserError(`--compose ${file} is not valid YAML: ${(e as Error).message}`);
  }
  const found = defaultServices(services);
  if (found.length) return found;
  if (services.length === 0) throw new UserError(`--compose ${file} defines no services`);
  if (canPrompt()) {
    return ask<string[]>({ type: 'checkbox', message: 'Which services should trust the CA?', choices: services.map((x) => ({ name: `${x.name}${x.image ? ` (${x.image})` : ''}`, value: x.name })) });
  }
  throw new UserError(`--compose ${file}: say which services with --service NAME (services: ${services.map((x) => x.name).join(', ')})`);
}

/** Targets that are the user's files rather than OS stores. */
async function fileTargets(action: Action, flags: TrustFlags): Promise<TrustTarget[]> {
  const out: TrustTarget[] = [];
  if (flags.dockerfile) {
    const { dockerfileTarget } = await import('../fix/dockerfile-target.js');
    out.push(dockerfileTarget(flags.dockerfile, { ...(flags.context ? { contextDir: flags.context } : {}), ...(flags.baseFamily ? { family: flags.baseFamily as BaseFamily } : {}) }));
  }
  if (flags.image) {
    const { imageTarget } = await import('../fix/image-target.js');
    out.push(imageTarget(flags.image, flags.output));
  }
  if (flags.compose) {
    const { composeTarget } = await import('../fix/compose.js');
    const services = action === 'trust' ? await composeServices(flags.compose, flags.service) : (flags.service ?? []);
    out.push(composeTarget(flags.compose, services, bundledRoots().certificates));
  }
  return out;
}

/**
 * A run killed half-way left its journal in the tree: finish it before planning (the plan would
 * otherwise start from a half-changed store), and say so. --dry-run only says it is pending.
 */
export async function finishEarlierRun(ctx: TrustContext, flags: Pick<TrustFlags, 'dryRun'>, notes: string[]): Promise<void> {
  if (flags.dryRun) {
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
    if (e instanceof JournalBusy) throw new UserError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      notes.push('An interrupted ollama-tls run left a journal that only root can finish; run this as root to finish it first.');
      return;
    }
    if (e instanceof ApplyError) throw new UserError(`finishing an interrupted earlier run failed: ${e.message}${e.output ? `\n${e.output}` : ''}`);
    if (e instanceof TreeEscapeError || code === 'ELOOP') throw new UserError(`finishing an interrupted earlier run: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * One target's plan. Planning reads the user's files (a compose file, a Dockerfile, an image):
 * their problems are theirs to fix (exit 2). A Dockerfile whose base the table does not know is
 * asked about on a terminal.
 */
async function planOne(target: TrustTarget, action: Action, ctx: TrustContext, cas: Certificate[], refs: CaRef[], flags: TrustFlags): Promise<Planned> {
  try {
    return { target, plan: await (action === 'trust' ? target.plan(ctx, cas) : target.planUndo(ctx, refs)) };
  } catch (e) {
    const { UnknownBaseFamily } = await import('../fix/dockerfile-target.js');
    if (e instanceof UnknownBaseFamily && flags.dockerfile && canPrompt() && !flags.json) {
      const { BASE_FAMILIES } = await import('../fix/dockerfile.js');
      const family = await ask<string>({ type: 'list', message: `Which family is ${e.image}? (${e.reason})`, choices: [...BASE_FAMILIES] });
      return planOne((await fileTargets(action, { ...flags, baseFamily: family, compose: undefined }))[0]!, action, ctx, cas, refs, { ...flags, baseFamily: family });
    }
    if (e instanceof PlanError) throw new UserError(e.message);
    throw e;
  }
}

/** --print / --build-secret: the Dockerfile lines to paste, for the family of --dockerfile or --base-family; nothing is written. */
async function printSnippet(cas: Certificate[], flags: TrustFlags): Promise<number> {
  const df = await import('../fix/dockerfile.js');
  let family = flags.baseFamily as BaseFamily | undefined;
  let user: string | undefined;
  if (flags.dockerfile && !family) {
    const { finalStage, UnknownBaseFamily } = await import('../fix/dockerfile-target.js');
    try {
      // Which base the final stage has does not depend on the CA: --build-secret may name none, so
      // a stand-in (a public root) lets the patcher read the stage.
      const stage = finalStage(flags.dockerfile, cas.length ? cas : bundledRoots().certificates.slice(0, 1));
      family = stage.family;
      user = stage.user;
    } catch (e) {
      if (e instanceof UnknownBaseFamily || e instanceof PlanError) throw new UserError(e.message);
      throw e;
    }
  }
  if (!family) throw new UserError(`${flags.buildSecret ? '--build-secret' : '--print'} needs --dockerfile PATH or --base-family (${df.BASE_FAMILIES.join(', ')})`);
  if (flags.buildSecret) {
    const caFile = flags.ca?.length === 1 ? flags.ca[0]! : undefined;
    process.stdout.write(df.buildSecretSnippet({ family, ...(caFile ? { caFile } : {}) }));
    return EXIT.OK;
  }
  process.stdout.write(df.dockerfileSnippet({ cas, family, ...(user ? { user } : {}) }));
  const files = df.dockerfileContextFiles({ cas, family, contextDir: '.', roots: bundledRoots().certificates });
  process.stdout.write(`# Put these files in the build context (beside the Dockerfile): ${files.map((f) => f.name).join(', ')}\n`);
  process.stdout.write('# (ollama-tls trust --ca FILE --dockerfile Dockerfile writes them, and the block, for you)\n');
  return EXIT.OK;
}

export async function trustCommand(action: Action, flags: TrustFlags): Promise<number> {
  const s = styleFor(process.stdout);
  // With --json, stdout carries the JSON alone; everything for people goes to stderr.
  const log = (t: string) => (flags.json ? process.stderr : process.stdout).write(t);

  if ((flags.print || flags.buildSecret) && action !== 'trust') throw new UserError('--print and --build-secret go with trust');
  if (flags.baseFamily !== undefined && !isBaseFamily(flags.baseFamily)) {
    throw new UserError(`--base-family "${flags.baseFamily}": choose ${BASE_FAMILIES.slice(0, -1).join(', ')} or ${BASE_FAMILIES.at(-1)}`);
  }
  // The build-secret recipe names the CA file only as a placeholder: it needs no CA to print.
  if (flags.buildSecret && action === 'trust') return printSnippet([], flags);
  if (action === 'trust' && !flags.ca?.length && !flags.fromHost) throw new UserError('trust needs --ca FILE (repeatable) or --from-host HOST[:PORT]');
  // A Dockerfile's block and a compose override are removed whole: they need no CA named.
  const wholeFile = Boolean(flags.dockerfile || flags.compose);
  if (action === 'untrust' && !flags.ca?.length && !flags.fingerprint?.length && !wholeFile) throw new UserError('untrust needs --ca FILE or --fingerprint SHA256 (what trust added); --dockerfile F or --compose F alone removes what trust wrote there');
  if (action === 'trust' && flags.fingerprint?.length && !flags.fromHost && !flags.ca?.length) throw new UserError('--fingerprint goes with --from-host (or checks --ca files)');
  if (flags.scope !== undefined && flags.scope !== 'user' && flags.scope !== 'machine') throw new UserError(`--scope "${flags.scope}": choose user or machine`);
  const only = parseOnly(flags.only);

  if (flags.root) {
    await access(flags.root).catch(() => {
      throw new UserError(`--root ${flags.root}: no such directory`);
    });
  }

  let cas: Certificate[] = [];
  let refs: CaRef[];
  let notes: string[] = [];
  if (action === 'trust') {
    const got = await trustCas(flags, s, log);
    if ('exit' in got) return got.exit;
    ({ cas, notes } = got);
    refs = cas.map((c) => ({ sha256: c.sha256, cert: c }));
  } else {
    refs = await untrustRefs(flags);
  }
  if (refs.length === 0 && !(action === 'untrust' && wholeFile)) throw new UserError('no certificate to act on');

  const ctx = trustContext({ ...(flags.root ? { root: flags.root } : {}), ...(flags.scope ? { scope: flags.scope as 'user' | 'machine' } : {}) });
  if (flags.print) return printSnippet(cas, flags);
  const files = await fileTargets(action, flags);
  const choice = chooseTargets(ctx, { ...(flags.bundleOut ? { bundleOut: flags.bundleOut } : {}), files, ...(only ? { only } : {}) });
  if (choice.chosen.length === 0) {
    throw new UserError(`no trust store applies here${choice.skipped.length ? `: ${choice.skipped.map((x) => `${x.id} (${x.why})`).join('; ')}` : ''}; --bundle-out FILE writes a bundle instead`);
  }
  if (ctx.platform === 'linux' && choice.chosen.some((c) => SYSTEM_STORES.includes(c.target.id))) await finishEarlierRun(ctx, flags, notes);
  const planned: Planned[] = [];
  for (const c of choice.chosen) planned.push(await planOne(c.target, action, ctx, cas, refs, flags));
  let plans = planned.map((p) => p.plan);
  for (const p of plans) {
    // A link in a --root tree that leads out of it: refused before anything is written.
    const escape = p.root === '/' ? undefined : p.steps.map((st) => treeEscape(ctx.fs, st)).find((e) => e);
    if (escape) throw new UserError(escape.message);
    const journalEscape = p.root !== '/' && journaled(p) ? ctx.fs.escape(JOURNAL_TMP) : undefined;
    if (journalEscape) throw new UserError(`refusing to write the journal in ${p.root}: ${journalEscape.message}`);
  }

  if (!flags.json) {
    if (action === 'trust') log(`${s.bold(cas.length === 1 ? 'CA' : `${cas.length} CAs`)}\n${cas.map((c) => `  ${describeCa(c)}`).join('\n')}\n`);
    for (const n of notes) log(`  ${s.dim('note')} ${n}\n`);
    log(renderPlans(plans, s));
  }

  const pending = plans.filter((p) => p.steps.length > 0);
  const finish = (results: Outcome[], extra: Record<string, unknown> = {}) => {
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({
        schema: 1, tool: { name: 'ollama-tls', version: toolVersion() }, action, dryRun: Boolean(flags.dryRun),
        cas: refs.map((r) => ({ sha256: r.sha256, ...(r.cert ? { subject: formatName(r.cert.subject), notAfter: r.cert.notAfter.toISOString() } : {}) })),
        notes, plans: plans.map(jsonPlan),
        results: results.map((r) => ({ target: r.plan.target, steps: r.outcomes.map((o) => ({ kind: o.step.kind, result: o.result })), checks: r.checks, ...(r.error ? { error: r.error } : {}) })),
        ...extra,
      }, null, 2)}\n`);
    }
  };

  if (pending.length === 0) {
    log(`Nothing to do: ${action === 'trust' ? 'already trusted' : 'nothing ollama-tls added is there'}.\n`);
    finish([], { ok: true });
    return EXIT.OK;
  }
  if (flags.dryRun) {
    log(s.dim('--dry-run: nothing changed.\n'));
    finish([], { ok: true });
    return EXIT.OK;
  }

  if (!flags.yes) {
    if (!canPrompt() || flags.json) throw new UserError(`the plan above needs a yes: run again with --yes to apply it (or --dry-run to only print it)`);
    if (pending.length > 1) {
      const picked = await ask<TargetId[]>({
        type: 'checkbox', message: 'Apply to which stores?',
        choices: pending.map((p) => ({ name: p.title, value: p.target, checked: true })),
      });
      planned.splice(0, planned.length, ...planned.filter((p) => picked.includes(p.plan.target)));
      plans = planned.map((p) => p.plan);
      if (plans.every((p) => p.steps.length === 0)) {
        log('Nothing changed.\n');
        return EXIT.PROBLEM;
      }
    } else if (!(await confirm(`${action === 'trust' ? 'Trust' : 'Remove'} as planned?`, true))) {
      log('Nothing changed.\n');
      return EXIT.PROBLEM;
    }
  }

  const toApply = plans.filter((p) => p.steps.length > 0);
  const applying = planned.filter((p) => p.plan.steps.length > 0);
  if (toApply.some((p) => p.needsPrivilege)) {
    const unixSudo = process.platform !== 'win32' && toApply.every((p) => p.target !== 'windows' && p.target !== 'wsl-windows');
    if (unixSudo && canPrompt() && !flags.json && (await confirm('These steps need root. Run them with sudo?', true))) {
      return rerunWithSudo(action, cas, refs, flags);
    }
    const how = unixSudo ? `run: ${asRootCommand()}` : 'run the same command from an elevated (administrator) prompt';
    throw new UserError(`the plan needs ${unixSudo ? 'root' : 'administrator rights'}; nothing changed. To apply it, ${how}`);
  }

  const results = await applyAll(ctx, applying, refs, flags);
  const ok = results.every((r) => !r.error && r.checks.every((c) => c.ok)) && results.length === toApply.length;
  if (!flags.json) {
    for (const r of results) {
      if (r.error) log(`${s.red('failed')} ${r.plan.title}: ${r.error.message}\n${r.error.output ? `${r.error.output.split('\n').map((l) => `  | ${l}`).join('\n')}\n` : ''}`);
      else log(renderOutcome(r.plan, r.outcomes, r.checks, s));
    }
    if (ok && action === 'trust') {
      log(renderAdvice('Next', restartAdvice(ctx, toApply), s));
      log(renderAdvice('Beside this store', otherReaders(ctx, toApply), s));
    } else if (ok) {
      log(renderAdvice('Next', restartAdvice(ctx, toApply), s));
    }
  }
  finish(results, { ok });
  return ok ? EXIT.OK : EXIT.PROBLEM;
}
