// `ollama-tls doctor`: options in, report out, exit code from the report.
import { access, writeFile } from 'node:fs/promises';
import { runDoctor } from '../diagnose/doctor.js';
import { RootFs } from '../platform/rootfs.js';
import { parseResolveOption, ResolveOptionError } from '../probe/resolve.js';
import { parseProxyUrl } from '../probe/proxy-env.js';
import { DEFAULT_TARGETS, parseTarget, TargetError } from '../probe/target.js';
import { VIEW_NAMES, type ViewName } from '../trust/views.js';
import { EXIT, UserError } from './exit.js';
import { styleFor, useColour } from './style.js';
import { toolVersion } from './version.js';
import { ipVersion } from '../x509/ip.js';

export interface DoctorFlags {
  json?: boolean;
  timeout?: string;
  resolve?: string[];
  ca?: string[];
  servername?: string;
  dnsServer?: string[];
  /** commander: --proxy URL gives a string, --no-proxy gives false. */
  proxy?: string | boolean;
  decide?: string;
  saveChain?: string;
  saveCa?: string;
  compareDirect?: boolean;
  verbose?: boolean;
  root?: string;
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 10_000;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UserError(`--timeout "${text}": give milliseconds as a whole number, e.g. --timeout 5000`);
  return Number(text);
}

function parseDecide(text: string | undefined): ViewName[] {
  if (text === undefined) return ['go'];
  const views = text.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = views.filter((v) => !(VIEW_NAMES as readonly string[]).includes(v));
  if (unknown.length || views.length === 0) throw new UserError(`--decide "${text}": choose from ${VIEW_NAMES.join(', ')} (comma-separated)`);
  return views as ViewName[];
}

/**
 * A spinner only for a person at a real terminal. A pseudo-terminal that reports no width (some CI
 * runners, `docker run -t`, `script`) makes ora's line clearing run away, so it counts as no TTY.
 */
function spinnerWanted(flags: DoctorFlags): boolean {
  const err = process.stderr;
  return !flags.json && Boolean(err.isTTY) && (err.columns ?? 0) > 0 && process.env.TERM !== 'dumb' && !process.env.CI;
}

export async function doctorCommand(targetArgs: string[], flags: DoctorFlags): Promise<number> {
  let targets, overrides;
  try {
    targets = (targetArgs.length ? targetArgs : DEFAULT_TARGETS).map(parseTarget);
    overrides = (flags.resolve ?? []).map(parseResolveOption);
  } catch (e) {
    if (e instanceof TargetError || e instanceof ResolveOptionError) throw new UserError(e.message);
    throw e;
  }
  const timeoutMs = parseTimeout(flags.timeout);
  if (typeof flags.proxy === 'string') {
    const url = parseProxyUrl(flags.proxy);
    if (!url || !['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol)) {
      throw new UserError(`--proxy "${flags.proxy}": give http://, https://, socks5:// or socks5h:// with a host, e.g. --proxy http://proxy.example:3128`);
    }
  }
  for (const server of flags.dnsServer ?? []) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+)(:\d+)?$/.test(server) && !ipVersion(server)) {
      throw new UserError(`--dns-server "${server}": give an IP address, optionally with :port (e.g. 1.1.1.1 or [::1]:5353)`);
    }
  }
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

  const spinner = spinnerWanted(flags)
    ? (await import('ora')).default({
        text: `Checking ${targets.map((t) => t.label).join(', ')}`, stream: process.stderr, discardStdin: false,
        color: useColour(process.stderr) ? 'cyan' : false,
      }).start()
    : undefined;
  let remaining = targets.length;
  const run = await runDoctor({
    targets, timeoutMs, overrides, extraCaFiles, deciding,
    ...(flags.servername !== undefined ? { servername: flags.servername } : {}),
    ...(flags.dnsServer?.length ? { dnsServers: flags.dnsServer } : {}),
    compareDirect: Boolean(flags.compareDirect),
    proxy: flags.proxy === false ? { noProxy: true } : typeof flags.proxy === 'string' ? { proxy: flags.proxy } : {},
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
