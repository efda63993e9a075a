// `ollama-tls explain`: TEXT, standard input, or --file LOG in; findings out.
import { open, stat } from 'node:fs/promises';
import { explainLines, type ExplainOptions, type ExplainReport } from '../diagnose/explain.js';
import { explainStream } from '../diagnose/explain-stream.js';
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

/**
 * A log file in large reads, each into one of two buffers used in turn: the next read runs in
 * the thread pool while the current chunk is scanned (a fresh megabyte per read would cost more
 * than the read). A chunk is valid until the one after next is asked for; explainStream copies
 * what it keeps.
 */
async function* fileChunks(file: string, size = 1 << 20): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`--file ${file}: cannot read it (${err.code ?? err.message})`);
  });
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let turn = 0;
  let next = handle.read(buffers[turn]!, 0, size, null);
  try {
    for (;;) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) return;
      turn ^= 1;
      next = handle.read(buffers[turn]!, 0, size, null);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await next.catch(() => undefined);
    await handle.close();
  }
}

export async function explainCommand(text: string[], flags: ExplainFlags): Promise<number> {
  let explain: (opts: ExplainOptions) => Promise<ExplainReport>;
  if (flags.file !== undefined && text.length > 0) throw new InputError('give the error as TEXT or --file LOG, not both');
  if (flags.file !== undefined && flags.file !== '-') {
    const file = flags.file;
    const info = await stat(file).catch(() => undefined);
    if (!info) throw new InputError(`--file ${file}: no such file`);
    if (info.isDirectory()) throw new InputError(`--file ${file}: that is a directory; give a log file`);
    explain = (opts) => explainStream(fileChunks(file), opts);
  } else if (text.length > 0) {
    explain = (opts) => explainLines(linesOfArguments(text), opts);
  } else if (flags.file === '-' || !process.stdin.isTTY) {
    explain = (opts) => explainStream(process.stdin, opts);
  } else {
    throw new InputError('nothing to explain: paste the error as an argument (quote it), pipe a log in, or use --file LOG');
  }

  const report = runnableReport(await explain({
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
