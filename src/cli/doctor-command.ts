// `ollama-tls doctor`: options in, report out, exit code from the report.
import { readInputFile } from '../platform/input-file.js';
import { readCertificateFile } from '../x509/files.js';
import { runDoctor, type DoctorRun } from '../diagnose/doctor.js';
import { loadClientIdentity, type ClientIdentity } from '../probe/client-identity.js';
import { RootFs } from '../platform/rootfs.js';
import { AI_HOSTS } from '../probe/known-hosts.js';
import { parseTarget } from '../probe/target.js';
import { DEFAULT_MODEL, parseModelName, type ModelName } from '../ollama/name.js';
import { parseCredentials } from '../upstream/requests.js';
import { VIEW_NAMES, type ViewName } from '../trust/views.js';
import { InputError } from '../platform/input-error.js';
import { EXIT } from './exit.js';
import { parseNetworkFlags } from './network-flags.js';
import { styleFor, useColour } from './style.js';
import { spinnerWanted } from './terminal.js';
import { toolVersion } from './version.js';
import { runnableReport } from './invocation.js';
import type { FlagsOf } from './options.js';
import { useOutlineCache } from '../x509/load.js';
import { OutlineCache, outlineCacheFile, parserIdentity } from '../x509/outline-cache.js';
import { StoreSnapshot, storeSnapshotFile } from '../trust/store-snapshot.js';
import { useStoreSnapshot } from '../trust/stores.js';

/** node:fs/promises' writeFile, loaded when a --save-* flag needs it (loading it costs every run ~2 ms). */
async function writeFile(file: string, text: string): Promise<void> {
  const fs = await import('node:fs/promises');
  await fs.writeFile(file, text);
}

/** The flags, typed from the one options table (options.ts). */
export type DoctorFlags = FlagsOf<'doctor'>;

/** The client certificate from --cert/--key or --pkcs12; undefined when none was given. */
async function clientIdentityFlags(flags: DoctorFlags): Promise<ClientIdentity | undefined> {
  // --password alone may be for a PKCS#12 --ca file.
  if (flags.cert === undefined && flags.key === undefined && flags.pkcs12 === undefined && (flags.password === undefined || flags.ca?.length)) return undefined;
  return loadClientIdentity({
    ...(flags.cert !== undefined ? { cert: flags.cert } : {}), ...(flags.key !== undefined ? { key: flags.key } : {}),
    ...(flags.pkcs12 !== undefined ? { pkcs12: flags.pkcs12 } : {}), ...(flags.password !== undefined ? { password: flags.password } : {}),
  });
}

function parseDecide(text: string | undefined): ViewName[] {
  if (text === undefined) return ['go'];
  const views = text.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = views.filter((v) => !(VIEW_NAMES as readonly string[]).includes(v));
  if (unknown.length || views.length === 0) throw new InputError(`--decide "${text}": choose from ${VIEW_NAMES.join(', ')} (comma-separated)`);
  return views as ViewName[];
}

export async function doctorCommand(targetArgs: string[], flags: DoctorFlags): Promise<number> {
  const targets = targetArgs.map(parseTarget);
  // No target (and no --ai) is the pull path of the default model; --model asks for it by name.
  const pull: { name: ModelName } | undefined = flags.model !== undefined || (targets.length === 0 && !flags.ai)
    ? { name: parseModelName(flags.model ?? DEFAULT_MODEL) } : undefined;
  const aiTargets = flags.ai ? AI_HOSTS.map((h) => parseTarget(h.host)) : [];
  let bearerFileText: string | undefined;
  if (flags.bearerFile !== undefined) {
    bearerFileText = (await readInputFile(flags.bearerFile, `--bearer-file ${flags.bearerFile}`)).toString('utf8');
  }
  const credentials = parseCredentials({
    ...(flags.user !== undefined ? { user: flags.user } : {}), ...(flags.bearer !== undefined ? { bearer: flags.bearer } : {}),
    ...(bearerFileText !== undefined ? { bearerFileText } : {}),
  });
  if (credentials && !targets.some((t) => /^https:\/\//i.test(t.input))) {
    throw new InputError(`${flags.user !== undefined ? '--user' : flags.bearer !== undefined ? '--bearer' : '--bearer-file'} is for https:// URL targets (a service behind a proxy); give one, e.g. https://ollama.example.com/`);
  }
  const net = parseNetworkFlags(flags);
  const clientIdentity = await clientIdentityFlags(flags);
  const deciding = parseDecide(flags.decide);
  const extraCaFiles = flags.ca ?? [];
  if (deciding.includes('extra') && extraCaFiles.length === 0) throw new InputError('--decide extra needs at least one --ca FILE');
  for (const file of extraCaFiles) {
    // Read and decoded whole now, so a damaged or oversized file is refused before any probe.
    await readCertificateFile(file, { flag: `--ca ${file}`, ...(flags.password !== undefined ? { password: flags.password } : {}) });
  }
  if (!flags.fix && (flags.yes || flags.dryRun || flags.fingerprint?.length)) {
    throw new InputError(`${flags.yes ? '--yes' : flags.dryRun ? '--dry-run' : '--fingerprint'} goes with doctor --fix`);
  }
  if (flags.root) {
    const { access } = await import('node:fs/promises');
    await access(flags.root).catch(() => {
      throw new InputError(`--root ${flags.root}: no such directory`);
    });
  }
  // A name override makes sense for one host at a time, as with openssl s_client -servername.
  if (flags.servername !== undefined && (targets.length !== 1 || pull || aiTargets.length)) throw new InputError('--servername applies to a single target; give one target');
  const labels = [...(pull ? [`the pull path of ${flags.model ?? DEFAULT_MODEL}`] : []), ...targets.map((t) => t.label), ...(aiTargets.length ? ['the AI API hosts'] : [])];
  const count = targets.length + aiTargets.length + (pull ? 2 : 0);

  const spinnerFor = async (text: string) => spinnerWanted(flags.json)
    ? (await import('ora')).default({ text, stream: process.stderr, discardStdin: false, color: useColour(process.stderr) ? 'cyan' : false }).start()
    : undefined;
  // The trust stores as earlier runs read them (trust/store-snapshot.ts), and the outlines of
  // certificates met before (x509/outline-cache.ts), for the stores that changed since.
  const parser = parserIdentity(toolVersion());
  const cacheFile = outlineCacheFile(process.env);
  const outlines = cacheFile ? new OutlineCache(cacheFile, parser) : undefined;
  useOutlineCache(outlines);
  const snapshotFile = storeSnapshotFile(process.env);
  const snapshot = snapshotFile ? new StoreSnapshot(snapshotFile, parser) : undefined;
  useStoreSnapshot(snapshot);
  /** One run of every check; doctor --fix runs it again, the same way, after applying its plan. */
  const check = async (what: string): Promise<DoctorRun> => {
    const spinner = await spinnerFor(`${what} ${labels.join(', ')}`);
    let remaining = count;
    return runDoctor({
      targets, extraCaFiles, deciding, ...net, ...(flags.password !== undefined ? { caPassword: flags.password } : {}),
      ...(pull ? { pull, localOllama: true } : {}), ...(aiTargets.length ? { aiTargets } : {}), ...(credentials ? { credentials } : {}),
      compareDirect: Boolean(flags.compareDirect), ...(clientIdentity ? { clientIdentity } : {}),
      fs: new RootFs(flags.root ?? '/'), env: process.env, platform: process.platform, version: toolVersion(),
      onProgress: () => {
        remaining--;
        if (spinner && remaining > 0) spinner.text = `${what} ... ${remaining} to go`;
        else if (spinner) spinner.text = `${what} ...`;
      },
    }).finally(() => {
      spinner?.stop();
      outlines?.save();
      snapshot?.save();
    });
  };
  if (flags.fix) {
    const { fixLoop } = await import('./fix-loop.js');
    return fixLoop(flags, check);
  }
  const run = await check('Checking');

  run.report = runnableReport(run.report);
  // The report comes first, whatever happens to --save-chain/--save-ca: it says why there was nothing to save.
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(run.report, null, 2)}\n`);
  } else {
    const { renderDoctor } = await import('./render-doctor.js');
    process.stdout.write(renderDoctor(run.report, { style: styleFor(process.stdout), verbose: Boolean(flags.verbose), now: new Date(), width: Math.min(process.stdout.columns || 100, 110) }));
  }

  if (flags.saveChain) {
    const text = [...run.chains.entries()]
      .filter(([, certs]) => certs.length > 0)
      .map(([label, certs]) => `# ${label}: ${certs.length} certificate(s), as the server sent them\n${certs.map((c) => c.toPem()).join('')}`)
      .join('\n');
    if (!text) throw new InputError(`--save-chain ${flags.saveChain}: no server sent a certificate, nothing to save`);
    try {
      await writeFile(flags.saveChain, text);
    } catch (e) {
      throw new InputError(`--save-chain ${flags.saveChain}: ${(e as Error).message}`);
    }
    if (!flags.json) process.stderr.write(`Saved the presented chain to ${flags.saveChain}\n`);
  }

  if (flags.saveCa) {
    // The same decision as the interception finding: its CA, or its words for why there is none.
    const missing = [...run.interceptionCaMissing.entries()].map(([label, why]) => `${label}: ${why}`);
    if (run.interceptionCas.size === 0) {
      throw new InputError(missing.length
        ? `--save-ca ${flags.saveCa}: interception was found, but there is no CA certificate to save.\n${missing.join('\n')}`
        : `--save-ca ${flags.saveCa}: no interception CA was found, nothing to save`);
    }
    for (const line of missing) process.stderr.write(`Not saved: ${line}\n`);
    const text = [...run.interceptionCas.entries()]
      .map(([label, c]) => `# ${label}: "${c.commonName ?? ''}" SHA-256 ${c.sha256} (confirm it with your IT team)\n${c.toPem()}`)
      .join('\n');
    try {
      await writeFile(flags.saveCa, text);
    } catch (e) {
      throw new InputError(`--save-ca ${flags.saveCa}: ${(e as Error).message}`);
    }
    for (const c of new Set(run.interceptionCas.values())) {
      process.stderr.write(`Saved "${c.commonName ?? c.sha256}" to ${flags.saveCa}; SHA-256 ${c.sha256}: confirm it with your IT team before trusting it\n`);
    }
  }
  return run.report.ok ? EXIT.OK : EXIT.PROBLEM;
}
