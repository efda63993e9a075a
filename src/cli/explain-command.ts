// `ollama-tls explain`: TEXT, standard input, or --file LOG in; findings out.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { explainLines, readLines } from '../diagnose/explain.js';
import { detectClientPlatform } from '../platform/host.js';
import { RootFs } from '../platform/rootfs.js';
import { clockFloor } from '../trust/stores.js';
import { InputError } from '../platform/input-error.js';
import { EXIT } from './exit.js';
import { styleFor } from './style.js';
import { runnableReport } from './invocation.js';
import type { FlagsOf } from './options.js';

/** The flags, typed from the one options table (options.ts). */
export type ExplainFlags = FlagsOf<'explain'>;

async function* linesOfArguments(text: string[]): AsyncGenerator<string> {
  for (const line of text.join(' ').split(/\r?\n/)) yield line;
}

export async function explainCommand(text: string[], flags: ExplainFlags): Promise<number> {
  let lines: AsyncIterable<string | string[]>;
  if (flags.file !== undefined && text.length > 0) throw new InputError('give the error as TEXT or --file LOG, not both');
  if (flags.file !== undefined && flags.file !== '-') {
    const info = await stat(flags.file).catch(() => undefined);
    if (!info) throw new InputError(`--file ${flags.file}: no such file`);
    if (info.isDirectory()) throw new InputError(`--file ${flags.file}: that is a directory; give a log file`);
    // Large reads: a log is read through once, and each read is a round trip to the thread pool.
    lines = readLines(createReadStream(flags.file, { highWaterMark: 1 << 20 }));
  } else if (text.length > 0) {
    lines = linesOfArguments(text);
  } else if (flags.file === '-' || !process.stdin.isTTY) {
    lines = readLines(process.stdin);
  } else {
    throw new InputError('nothing to explain: paste the error as an argument (quote it), pipe a log in, or use --file LOG');
  }

  const report = runnableReport(await explainLines(lines, {
    platform: await detectClientPlatform(new RootFs('/'), process.platform), now: new Date(), clockFloor: clockFloor(),
  }));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { renderExplain } = await import('./render-explain.js');
    process.stdout.write(renderExplain(report, { style: styleFor(process.stdout), width: Math.min(process.stdout.columns || 100, 110) }));
  }
  return report.findings.length ? EXIT.PROBLEM : EXIT.OK;
}
