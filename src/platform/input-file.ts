// Reading a file the user names (--ca, --cert, --key, --pkcs12, --bearer-file): one size cap,
// enforced while reading, because the size a path reports is no bound (/dev/zero and pipes
// report 0, a FIFO never ends). Logs are not read here: explain reads them as streams.
import { InputError } from './input-error.js';

/**
 * The largest certificate, key or token file accepted. A full root bundle is under 1 MiB and a
 * PKCS#12 of a long chain a few KiB; 16 MiB leaves room for any real file and bounds the work.
 */
export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024;
const CAP_WORDS = '16 MiB';

export class InputFileError extends InputError {
  constructor(readonly kind: 'unreadable' | 'too-big', message: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

/** The bytes of `path`, read to EOF but never past the cap. `flag` prefixes messages ("--ca FILE"). */
export async function readInputFile(path: string, flag = path): Promise<Buffer> {
  let handle;
  try {
    // Loaded here, not with the module: most runs name no file, and node:fs/promises costs ~2 ms to load.
    const { open } = await import('node:fs/promises');
    handle = await open(path, 'r');
  } catch (err) {
    throw new InputFileError('unreadable', `${flag}: cannot read it (${describeFsError(err)})`);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new InputFileError('unreadable', `${flag}: cannot read it (it is a directory; give a file)`);
    if (st.isFile() && st.size > MAX_INPUT_FILE_BYTES) throw tooBig(flag, st.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1 << 20, MAX_INPUT_FILE_BYTES + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_INPUT_FILE_BYTES) throw tooBig(flag, total);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    throw new InputFileError('unreadable', `${flag}: cannot read it (${describeFsError(err)})`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Standard input ("-" where a file is expected), under the same cap. */
export async function readStandardInput(flag = 'standard input'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of process.stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(b);
      total += b.length;
      if (total > MAX_INPUT_FILE_BYTES) throw tooBig(flag, total);
    }
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    throw new InputFileError('unreadable', `${flag}: cannot read it (${describeFsError(err)})`);
  }
  return Buffer.concat(chunks, total);
}

function tooBig(flag: string, size: number): InputFileError {
  return new InputFileError('too-big',
    `${flag}: over the ${CAP_WORDS} limit for certificate, key and token files (${size} bytes or more read); that is not such a file (even a full root bundle is under 1 MiB)`);
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory; give a file';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'ELOOP': return 'too many symbolic links';
    default: return (err as Error)?.message ?? String(err);
  }
}
