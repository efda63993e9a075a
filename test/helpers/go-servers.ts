// Real Go TLS servers for the tests (test/go/mtlsserve.go): net/http with one tls.ClientAuthType,
// on 127.0.0.1 and a port of the kernel's choosing. Each keeps its own log of what it saw per
// connection ("handshake peer=..." or "error ..."), the server's own view of the client certificate.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { goClientBinary } from './cli.js';

const SETPRIV = '/usr/bin/setpriv';

export const CLIENT_AUTH_MODES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];

export interface GoServer {
  port: number;
  /** One line per connection, in order: "handshake peer=..." or "error http: TLS handshake error ...". */
  lines: string[];
  /** Whatever else it logged (http2's complaints about clients that hang up without a request). */
  other: string[];
  /** Waits until it has printed at least `n` lines (or `ms` passed), then returns them. */
  linesAfter(n: number, count: number, ms?: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startMtlsServe(opts: {
  cert: string; key: string; clientCa?: string; mode: ClientAuthMode; maxVersion?: '1.2' | '1.3';
}): Promise<GoServer> {
  const bin = goClientBinary('mtlsserve');
  if (!bin) throw new Error('go is not installed');
  const args = ['-cert', opts.cert, '-key', opts.key, '-mode', opts.mode, '-listen', '127.0.0.1:0', '-max-version', opts.maxVersion ?? '1.3',
    ...(opts.clientCa ? ['-client-ca', opts.clientCa] : [])];
  // The parent-death signal: if the test process dies, the server goes too.
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', bin, ...args]] : [bin, args];
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const other: string[] = [];
  let pending = '';
  let stderr = '';
  let onLine: (() => void) | undefined;
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mtlsserve did not start: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`mtlsserve exited ${code}: ${stderr}`)));
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        const m = /^listening 127\.0\.0\.1:(\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        } else if (/^handshake |^error http: TLS handshake error /.test(line)) {
          lines.push(line);
          onLine?.();
        } else {
          other.push(line);
        }
      }
    });
  });
  return {
    port,
    lines,
    other,
    linesAfter: (n, count, ms = 3000) => new Promise((resolve) => {
      const done = () => {
        if (lines.length - n < count) return false;
        onLine = undefined;
        clearTimeout(timer);
        resolve(lines.slice(n));
        return true;
      };
      const timer = setTimeout(() => {
        onLine = undefined;
        resolve(lines.slice(n));
      }, ms);
      if (!done()) onLine = () => void done();
    }),
    close: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
