// `ollama-tls trust` and `untrust` on the command line: flags to a typed request, the questions a
// person answers (prompts only on a terminal, never with --json), the spinner, sudo; the use case
// (src/fix/trust-run.ts) does the rest and returns a `TrustRun`, rendered by render-trust.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemProgram } from '../platform/executable.js';
import { InputError } from '../platform/input-error.js';
import { parseFingerprints } from '../fix/fingerprint.js';
import type { CaRef, TargetId } from '../fix/plan.js';
import type { BaseFamily } from '../fix/base-family.js';
import { chooseCas, runTrust, type TrustAction, type TrustIo, type TrustQuestions, type TrustRequest, type TrustRun } from '../fix/trust-run.js';
import type { Certificate } from '../x509/certificate.js';
import { useOutlineCache } from '../x509/load.js';
import { OutlineCache, outlineCacheFile, parserIdentity } from '../x509/outline-cache.js';
import { EXIT } from './exit.js';
import { asRootCommand, shellLine } from './render-plan.js';
import { renderFromHost, renderTrustEnd, renderTrustPlan, trustRunJson } from './render-trust.js';
import { styleFor, useColour } from './style.js';
import { ask, canPrompt, spinnerWanted } from './terminal.js';
import { toolVersion } from './version.js';
import { OPTIONS, type FlagsOf } from './options.js';

/** The flags, typed from the one options table (options.ts). */
export type TrustFlags = FlagsOf<'trust'>;

type Action = TrustAction;


async function parseOnly(text: string | undefined): Promise<TargetId[] | undefined> {
  if (text === undefined) return undefined;
  const { TARGET_IDS } = await import('../fix/targets.js');
  const ids = text.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = ids.filter((x) => !(TARGET_IDS as string[]).includes(x));
  if (bad.length || ids.length === 0) throw new InputError(`--only "${text}": choose from ${TARGET_IDS.filter((t) => t !== 'bundle').join(', ')} (comma-separated)`);
  return ids as TargetId[];
}

const confirm = (message: string, dflt: boolean): Promise<boolean> => ask<boolean>({ type: 'confirm', message, default: dflt });

/** The questions, asked on a terminal; `log` shows what the person must see first. */
function terminalQuestions(log: (t: string) => void): TrustQuestions {
  return {
    password: (file) => ask<string>({ type: 'password', message: `Password for ${file}:`, mask: '*' }),
    async trustFromHost(found) {
      log(`  Confirm this SHA-256 with your IT team before trusting it.\n`);
      return confirm(`Is ${found.cert.sha256.slice(0, 16)}... the CA your IT team gave you?`, false);
    },
    baseFamily: (image, reason, choices) => ask<string>({ type: 'list', message: `Which family is ${image}? (${reason})`, choices: [...choices] }),
    stores: (pending) => ask<TargetId[]>({
      type: 'checkbox', message: 'Apply to which stores?',
      choices: pending.map((p) => ({ name: p.title, value: p.target, checked: true })),
    }),
    apply: (action) => confirm(`${action === 'trust' ? 'Trust' : 'Remove'} as planned?`, true),
  };
}

/** Run this same command again under sudo, for the CAs already read and confirmed here. */
/** The flags that choose where trust acts (options.ts), and those among them that name a path. */
const WHERE_FLAGS = ['root', 'scope', 'bundleOut', 'only', 'compose', 'service', 'dockerfile', 'context', 'image', 'output', 'baseFamily'] as const;
const PATH_FLAGS = new Set<string>(['root', 'bundleOut', 'compose', 'dockerfile', 'context', 'image', 'output']);

/**
 * The command-line words for every flag that says where the CA goes, so that a rerun as root
 * plans the very same target (an image or a Dockerfile must never turn into the system store);
 * paths made absolute, as the rerun may start elsewhere.
 */
export function whereArgs(flags: TrustFlags): string[] {
  const args: string[] = [];
  for (const name of WHERE_FLAGS) {
    const value = flags[name];
    for (const v of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
      args.push(OPTIONS[name].flags.split(' ')[0]!, PATH_FLAGS.has(name) ? path.resolve(v) : v);
    }
  }
  return args;
}

async function rerunWithSudo(action: Action, cas: Certificate[], refs: CaRef[], flags: TrustFlags): Promise<number> {
  const sudo = systemProgram('sudo');
  if (!sudo) throw new InputError('this plan needs root and sudo is not installed: run the same command as root');
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
    args.push(...whereArgs(flags));
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

/** --print / --build-secret: the Dockerfile lines to paste, for the family of --dockerfile or --base-family; nothing is written. */
async function printSnippet(cas: Certificate[], flags: TrustFlags): Promise<number> {
  const [df, { bundledRoots }] = await Promise.all([import('../fix/dockerfile.js'), import('../trust/stores.js')]);
  let family = flags.baseFamily as BaseFamily | undefined;
  let user: string | undefined;
  if (flags.dockerfile && !family) {
    const { finalStage } = await import('../fix/dockerfile-target.js');
    // Which base the final stage has does not depend on the CA: --build-secret may name none, so
    // a stand-in (a public root) lets the patcher read the stage. Its refusals are PlanErrors (exit 2).
    const stage = finalStage(flags.dockerfile, cas.length ? cas : bundledRoots().certificates.slice(0, 1));
    family = stage.family;
    user = stage.user;
  }
  if (!family) throw new InputError(`${flags.buildSecret ? '--build-secret' : '--print'} needs --dockerfile PATH or --base-family (${df.BASE_FAMILIES.join(', ')})`);
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

/** The checked, typed request from the flags; every refusal of a flag happens here, before anything is read. */
async function trustRequest(action: Action, flags: TrustFlags): Promise<TrustRequest> {
  if (action === 'trust' && !flags.ca?.length && !flags.fromHost) throw new InputError('trust needs --ca FILE (repeatable) or --from-host HOST[:PORT]');
  // A Dockerfile's block and a compose override are removed whole: they need no CA named.
  const wholeFile = Boolean(flags.dockerfile || flags.compose);
  if (action === 'untrust' && !flags.ca?.length && !flags.fingerprint?.length && !wholeFile) throw new InputError('untrust needs --ca FILE or --fingerprint SHA256 (what trust added); --dockerfile F or --compose F alone removes what trust wrote there');
  if (action === 'trust' && flags.fingerprint?.length && !flags.fromHost && !flags.ca?.length) throw new InputError('--fingerprint goes with --from-host (or checks --ca files)');
  if (flags.scope !== undefined && flags.scope !== 'user' && flags.scope !== 'machine') throw new InputError(`--scope "${flags.scope}": choose user or machine`);
  const only = await parseOnly(flags.only);
  const fingerprints = parseFingerprints(flags.fingerprint);
  if (flags.root) {
    await access(flags.root).catch(() => {
      throw new InputError(`--root ${flags.root}: no such directory`);
    });
  }
  return {
    action, caFiles: flags.ca ?? [], fingerprints, force: Boolean(flags.force), dryRun: Boolean(flags.dryRun), yes: Boolean(flags.yes),
    ...(flags.password !== undefined ? { password: flags.password } : {}),
    ...(flags.fromHost ? { fromHost: { spec: flags.fromHost, net: (await import('./network-flags.js')).parseNetworkFlags(flags) } } : {}),
    ...(flags.root ? { root: flags.root } : {}), ...(flags.scope ? { scope: flags.scope as 'user' | 'machine' } : {}),
    ...(flags.bundleOut ? { bundleOut: flags.bundleOut } : {}), ...(only ? { only } : {}),
    ...(flags.compose ? { compose: flags.compose } : {}), ...(flags.service ? { services: flags.service } : {}),
    ...(flags.dockerfile ? { dockerfile: flags.dockerfile } : {}), ...(flags.context ? { context: flags.context } : {}),
    ...(flags.baseFamily ? { baseFamily: flags.baseFamily as BaseFamily } : {}),
    ...(flags.image ? { image: flags.image } : {}), ...(flags.output ? { output: flags.output } : {}),
    ...(process.env.GODEBUG !== undefined ? { godebug: process.env.GODEBUG } : {}), version: toolVersion(),
  };
}

export async function trustCommand(action: Action, flags: TrustFlags): Promise<number> {
  const s = styleFor(process.stdout);
  // With --json, stdout carries the JSON alone; everything for people goes to stderr.
  const log = (t: string) => (flags.json ? process.stderr : process.stdout).write(t);
  if ((flags.print || flags.buildSecret) && action !== 'trust') throw new InputError('--print and --build-secret go with trust');
  if (flags.baseFamily !== undefined) {
    const { BASE_FAMILIES, isBaseFamily } = await import('../fix/base-family.js');
    if (!isBaseFamily(flags.baseFamily)) throw new InputError(`--base-family "${flags.baseFamily}": choose ${BASE_FAMILIES.slice(0, -1).join(', ')} or ${BASE_FAMILIES.at(-1)}`);
  }
  // The build-secret recipe names the CA file only as a placeholder: it needs no CA to print.
  if (flags.buildSecret && action === 'trust') return printSnippet([], flags);
  const req = await trustRequest(action, flags);

  const person = canPrompt() && !flags.json;
  const io: TrustIo = {
    ...(person ? { ask: terminalQuestions(log) } : {}),
    ...(canPrompt() ? {
      composeServices: (services) => ask<string[]>({ type: 'checkbox', message: 'Which services should trust the CA?', choices: services.map((x) => ({ name: `${x.name}${x.image ? ` (${x.image})` : ''}`, value: x.name })) }),
    } : {}),
    onFromHost: (run) => log(renderFromHost(run, s)),
    onPlanned: (run) => {
      if (!flags.json) log(renderTrustPlan(run, s));
    },
    applying: async (plan) => {
      if (!spinnerWanted(flags.json)) return undefined;
      const spinner = (await import('ora')).default({ text: `${plan.action === 'trust' ? 'Trusting in' : 'Removing from'} ${plan.title}`, stream: process.stderr, discardStdin: false, color: useColour(process.stderr) ? 'cyan' : false }).start();
      return {
        step: (step, i) => { spinner.text = `${plan.title}: step ${i + 1} of ${plan.steps.length} (${step.kind})`; },
        bytes: (done, total) => { if (total > 0) spinner.text = `${plan.title}: ${Math.floor((100 * done) / total)}% of ${(total / 1048576).toFixed(0)} MiB`; },
        stop: () => spinner.stop(),
      };
    },
  };

  if (flags.print) {
    const chosen = await chooseCas(req, io);
    if ('end' in chosen) return finish(chosen.end, flags, s, log);
    if (chosen.refs.length === 0) throw new InputError('no certificate to act on');
    return printSnippet(chosen.cas, flags);
  }
  // The certificates of the bundles a plan reads (an image's, a tree's) as earlier runs found
  // them (x509/outline-cache.ts, as doctor keeps them): ~150 roots are not walked again.
  const cacheFile = outlineCacheFile(process.env);
  const outlines = cacheFile ? new OutlineCache(cacheFile, parserIdentity(toolVersion())).load() : undefined;
  useOutlineCache(outlines);
  const run = await runTrust(req, io).finally(() => outlines?.save());
  if (run.status === 'needs-privilege') {
    const unixSudo = run.privilege!.unixSudo;
    if (unixSudo && person && (await confirm('These steps need root. Run them with sudo?', true))) {
      return rerunWithSudo(action, run.cas, run.refs, flags);
    }
    const how = unixSudo ? `run: ${asRootCommand()}` : 'run the same command from an elevated (administrator) prompt';
    throw new InputError(`the plan needs ${unixSudo ? 'root' : 'administrator rights'}; nothing changed. To apply it, ${how}`);
  }
  return finish(run, flags, s, log);
}

/** The run's end as text (or JSON on stdout), and the exit status it means. */
function finish(run: TrustRun, flags: TrustFlags, s: ReturnType<typeof styleFor>, log: (t: string) => void): number {
  if (run.status === 'from-host-failed') {
    const f = run.fromHost as { label: string; problem: string };
    process.stderr.write(`ollama-tls: --from-host ${f.label}: ${f.problem}\n`);
    return EXIT.PROBLEM;
  }
  const shown = run.status === 'applied' || run.status === 'failed' ? !flags.json : true;
  if (shown) log(renderTrustEnd(run, s));
  if (flags.json && ['applied', 'failed', 'nothing-to-do', 'dry-run'].includes(run.status)) {
    process.stdout.write(`${JSON.stringify(trustRunJson(run, toolVersion()), null, 2)}\n`);
  }
  return run.status === 'declined' || run.status === 'failed' ? EXIT.PROBLEM : EXIT.OK;
}
