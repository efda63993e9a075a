// `ollama-tls doctor`: options in, report out, exit code from the report.
import { access, writeFile } from 'node:fs/promises';
import { runDoctor } from '../diagnose/doctor.js';
import { RootFs } from '../platform/rootfs.js';
import { DEFAULT_TARGETS, parseTarget, TargetError } from '../probe/target.js';
import { VIEW_NAMES, type ViewName } from '../trust/views.js';
import { EXIT, UserError } from './exit.js';
import { parseNetworkFlags, type NetworkFlags } from './network-flags.js';
import { styleFor, useColour } from './style.js';
import { spinnerWanted } from './terminal.js';
import { toolVersion } from './version.js';

export interface DoctorFlags extends NetworkFlags {
  json?: boolean;
  ca?: string[];
  decide?: string;
  saveChain?: string;
  saveCa?: string;
  compareDirect?: boolean;
  verbose?: boolean;
  root?: string;
}

function parseDecide(text: string | undefined): ViewName[] {
  if (text === undefined) return ['go'];
  const views = text.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = views.filter((v) => !(VIEW_NAMES as readonly string[]).includes(v));
  if (unknown.length || views.length === 0) throw new UserError(`--decide "${text}": choose from ${VIEW_NAMES.join(', ')} (comma-separated)`);
  return views as ViewName[];
}

export async function doctorCommand(targetArgs: string[], flags: DoctorFlags): Promise<number> {
  let targets;
  try {
    targets = (targetArgs.length ? targetArgs : DEFAULT_TARGETS).map(parseTarget);
  } catch (e) {
    if (e instanceof TargetError) throw new UserError(e.message);
    throw e;
  }
  const net = parseNetworkFlags(flags);
  const deciding = parseDecide(flags.decide);
  const extraCaFiles = flags.ca ?? [];
  if (deciding.includes('extra') && extraCaFiles.length === 0) throw new UserError('--decide extra needs at least one --ca FILE');
  for (const file of extraCaFiles) {
    await access(file).catch(() => {
      throw new UserError(`--ca ${file}: cannot read that file`);
    });
  }
  if (flags.root) {
    await access(flags.root).catch(() => {
      throw new UserError(`--root ${flags.root}: no such directory`);
    });
  }
  // A name override makes sense for one host at a time, as with openssl s_client -servername.
  if (flags.servername !== undefined && targets.length > 1) throw new UserError('--servername applies to a single target; give one target');

  const spinner = spinnerWanted(flags.json)
    ? (await import('ora')).default({
        text: `Checking ${targets.map((t) => t.label).join(', ')}`, stream: process.stderr, discardStdin: false,
        color: useColour(process.stderr) ? 'cyan' : false,
      }).start()
    : undefined;
  let remaining = targets.length;
  const run = await runDoctor({
    targets, extraCaFiles, deciding, ...net,
    compareDirect: Boolean(flags.compareDirect),
    fs: new RootFs(flags.root ?? '/'), env: process.env, platform: process.platform, version: toolVersion(),
    onProgress: () => {
      remaining--;
      if (spinner && remaining > 0) spinner.text = `Checking ... ${remaining} to go`;
    },
  }).finally(() => spinner?.stop());

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
    if (!text) throw new UserError(`--save-chain ${flags.saveChain}: no server sent a certificate, nothing to save`);
    try {
      await writeFile(flags.saveChain, text);
    } catch (e) {
      throw new UserError(`--save-chain ${flags.saveChain}: ${(e as Error).message}`);
    }
    if (!flags.json) process.stderr.write(`Saved the presented chain to ${flags.saveChain}\n`);
  }

  if (flags.saveCa) {
    if (run.interceptionCas.size === 0) throw new UserError(`--save-ca ${flags.saveCa}: no interception CA was found, nothing to save`);
    const text = [...run.interceptionCas.entries()]
      .map(([label, c]) => `# ${label}: "${c.commonName ?? ''}" SHA-256 ${c.sha256} (confirm it with your IT team)\n${c.toPem()}`)
      .join('\n');
    try {
      await writeFile(flags.saveCa, text);
    } catch (e) {
      throw new UserError(`--save-ca ${flags.saveCa}: ${(e as Error).message}`);
    }
    for (const c of new Set(run.interceptionCas.values())) {
      process.stderr.write(`Saved "${c.commonName ?? c.sha256}" to ${flags.saveCa}; SHA-256 ${c.sha256}: confirm it with your IT team before trusting it\n`);
    }
  }
  return run.report.ok ? EXIT.OK : EXIT.PROBLEM;
}
