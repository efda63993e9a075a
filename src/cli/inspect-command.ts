// `ollama-tls inspect FILE...`: dump and lint the certificates of any certificate file.
import { inspectFile, type InspectedFile } from '../diagnose/inspect.js';
import { readCertificateFile } from '../x509/files.js';
import { InputError } from '../platform/input-error.js';
import { EXIT } from './exit.js';
import { styleFor } from './style.js';
import type { FlagsOf } from './options.js';

/** The flags, typed from the one options table (options.ts). */
export type InspectFlags = FlagsOf<'inspect'>;

export async function inspectCommand(files: string[], flags: InspectFlags): Promise<number> {
  if (files.filter((f) => f === '-').length > 1) throw new InputError('"-" (standard input) can be given once');
  const now = new Date();
  const inspected: InspectedFile[] = [];
  // Every file is read before anything is printed: an unreadable one is exit 2 with its reason.
  for (const path of files) {
    const file = await readCertificateFile(path, flags.password !== undefined ? { password: flags.password } : {});
    inspected.push(await inspectFile(file, now));
  }
  const report = { schema: 1 as const, files: inspected };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { renderInspect } = await import('./render-inspect.js');
    process.stdout.write(renderInspect(report, { style: styleFor(process.stdout), verbose: Boolean(flags.verbose), now, width: Math.min(process.stdout.columns || 100, 110) }));
  }
  return inspected.some((f) => f.findings.some((x) => x.severity === 'error')) ? EXIT.PROBLEM : EXIT.OK;
}
