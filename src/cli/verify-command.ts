// `ollama-tls verify CHAIN_FILE`: the doctor's verdicts and findings for a chain file, offline.
import { access } from 'node:fs/promises';
import { RootFs } from '../platform/rootfs.js';
import { runVerify } from '../diagnose/verify.js';
import type { TargetReport } from '../diagnose/report.js';
import { readCertificateFile } from '../x509/files.js';
import type { Certificate } from '../x509/certificate.js';
import { VIEW_NAMES, type ViewName } from '../trust/views.js';
import { InputError } from '../platform/input-error.js';
import { EXIT } from './exit.js';
import { styleFor } from './style.js';
import type { FlagsOf } from './options.js';

/** The flags, typed from the one options table (options.ts). */
export type VerifyFlags = FlagsOf<'verify'>;

/** --at: an ISO 8601 time (a bare date is midnight UTC). */
export function parseAt(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim());
  const at = new Date(text.trim().length === 10 ? `${text.trim()}T00:00:00Z` : text.trim());
  if (!ok || Number.isNaN(at.getTime())) throw new InputError(`--at "${text}": give an ISO 8601 time, e.g. 2027-01-31T12:00:00Z or 2027-01-31`);
  return at;
}

function parseViews(given: string[] | undefined): ViewName[] | undefined {
  if (!given?.length) return undefined;
  const views = given.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const allowed = VIEW_NAMES.filter((v) => v !== 'extra');
  const unknown = views.filter((v) => !(allowed as readonly string[]).includes(v));
  if (unknown.length || views.length === 0) throw new InputError(`--view ${unknown.join(',') || '""'}: choose from ${allowed.join(', ')} (repeatable)`);
  return [...new Set(views)] as ViewName[];
}

/** The name to verify when --host is not given: the leaf's first DNS or IP name, else its Common Name. */
function defaultHost(leaf: Certificate): string {
  const name = leaf.san?.dns?.[0] ?? leaf.san?.ip?.[0] ?? leaf.commonName;
  if (!name) throw new InputError('the leaf names no host (no DNS or IP SAN, no Common Name): give --host NAME');
  return name.replace(/^\*\./, 'www.');
}

export async function verifyCommand(chainFile: string, flags: VerifyFlags): Promise<number> {
  const at = parseAt(flags.at);
  const views = parseViews(flags.view);
  if (flags.root) {
    await access(flags.root).catch(() => {
      throw new InputError(`--root ${flags.root}: no such directory`);
    });
  }
  const password = flags.password !== undefined ? { password: flags.password } : {};
  const presented: Certificate[] = (await readCertificateFile(chainFile, password)).entries.map((e) => e.cert);
  // Every --roots file read now, so a damaged one is refused before any judging.
  for (const file of flags.roots ?? []) await readCertificateFile(file, { flag: `--roots ${file}`, ...password });
  const host = flags.host ?? defaultHost(presented[0]!);
  // Go decides, as for the doctor; --view VIEW... makes those views the deciding ones.
  const deciding: ViewName[] = views ?? ['go'];
  const report = await runVerify({
    presented, host, label: chainFile === '-' ? 'standard input' : chainFile, at, atGiven: flags.at !== undefined, deciding, env: process.env, platform: process.platform,
    fs: new RootFs(flags.root ?? '/'), ...(views ? { views } : {}), ...(flags.roots?.length ? { rootFiles: flags.roots } : {}), ...password,
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { renderTarget } = await import('./render-doctor.js');
    const target: TargetReport = {
      target: `${chainFile === '-' ? 'standard input' : chainFile} for ${host}`, host, port: 443, servername: null, address: null, addresses: [],
      proxy: null, tls: null, chainSource: 'wire', chain: report.chain, verdicts: report.verdicts, findings: report.findings, ok: report.ok, timings: {},
    };
    const style = styleFor(process.stdout);
    const text = renderTarget(target, deciding, { style, verbose: Boolean(flags.verbose), now: at, width: Math.min(process.stdout.columns || 100, 110) });
    const roots = flags.roots?.length ? `roots: ${flags.roots.join(', ')}` : "roots: each view's own stores";
    process.stdout.write(`${text}\n${style.dim(`Judged at ${report.at}; ${roots}.`)}\n${report.ok ? style.green('The chain passes.') : style.red('The chain has problems.')}\n`);
  }
  return report.ok ? EXIT.OK : EXIT.PROBLEM;
}
