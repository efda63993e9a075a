// Go's own net/http TLS servers on loopback (test/go/httpsserve.go): HTTP/2 by default, as every
// HTTPS service written in Go. A child process that dies with the test process (setpriv
// --pdeathsig, and it exits when its stdin closes); ports are bound by the server itself (port 0).
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { goClientBinary } from './cli.js';
import { issueLeaf, makeCa, type TestCa } from './pki.js';
import { tempDir } from './servers.js';

const SETPRIV = '/usr/bin/setpriv';

export interface GoSeen {
  listener: 'main' | 'blobs';
  /** r.Proto as Go's server saw it: HTTP/2.0, HTTP/1.1. */
  proto: string;
  method: string;
  uri: string;
  range: string;
}

export interface RunningGoServer {
  port: number;
  /** Registry mode: the blob store's port. */
  blobPort?: number;
  ca: TestCa;
  seen: GoSeen[];
  close(): Promise<void>;
}

export interface GoServerOptions {
  mode: 'ollama' | 'registry';
  /** Names on the main listener's certificate. */
  hosts: string[];
  /** Registry mode: the blob store's name (its own certificate, redirects point to it). */
  blobHost?: string;
  /** HTTP/1.1 only (no h2 in ALPN). */
  h1?: boolean;
  /** Every answer ends its connection (HTTP/1.1: Connection: close; HTTP/2: GOAWAY). */
  close?: boolean;
  version?: string;
  ca?: TestCa;
}

/** undefined when Go is not installed. */
export async function startGoServer(opts: GoServerOptions): Promise<RunningGoServer | undefined> {
  const bin = goClientBinary('httpsserve');
  if (!bin) return undefined;
  const ca = opts.ca ?? (await makeCa('Test Go Server CA'));
  const dir = tempDir('ollama-tls-goserve-');
  const f = (n: string) => path.join(dir, n);
  const leaf = await issueLeaf(ca, opts.hosts);
  writeFileSync(f('cert.pem'), leaf.chainPem);
  writeFileSync(f('key.pem'), leaf.keyPem, { mode: 0o600 });
  const args = ['-mode', opts.mode, '-cert', f('cert.pem'), '-key', f('key.pem')];
  if (opts.mode === 'registry') {
    const blobHost = opts.blobHost ?? 'blobs.test';
    const blobLeaf = await issueLeaf(ca, [blobHost]);
    writeFileSync(f('blob-cert.pem'), blobLeaf.chainPem);
    writeFileSync(f('blob-key.pem'), blobLeaf.keyPem, { mode: 0o600 });
    args.push('-blob-cert', f('blob-cert.pem'), '-blob-key', f('blob-key.pem'), '-blob-host', blobHost);
  }
  if (opts.h1) args.push('-h1');
  if (opts.close) args.push('-close');
  if (opts.version) args.push('-version', opts.version);
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  let output = '';
  const seen: GoSeen[] = [];
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    pending += d.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const m = /^seen (main|blobs) (\S+) (\S+) (\S+) ?(.*)$/.exec(line);
      if (m) seen.push({ listener: m[1] as GoSeen['listener'], proto: m[2]!, method: m[3]!, uri: m[4]!, range: m[5] ?? '' });
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const close = async () => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not ready within 15 s')), 15_000);
      const check = () => {
        if (/^ready$/m.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`exited (${child.exitCode})`)));
    });
  } catch (e) {
    await close();
    throw new Error(`the Go server did not start: ${(e as Error).message}\n${output}`);
  }
  const port = Number(/^main (\d+)$/m.exec(output)![1]);
  const blob = /^blobs (\d+)$/m.exec(output)?.[1];
  return { port, ...(blob ? { blobPort: Number(blob) } : {}), ca, seen, close };
}
