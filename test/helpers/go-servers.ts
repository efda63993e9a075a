// Real Go net/http TLS servers on 127.0.0.1, ports of the kernel's choosing (the servers bind
// port 0 and print theirs), children that die with the test process (see daemon.ts):
// - startMtlsServe (test/go/mtlsserve.go): one tls.ClientAuthType; it logs what it saw per
//   connection ("handshake peer=..." or "error ..."), the server's own view of the client certificate.
// - startGoServer (test/go/httpsserve.go): an Ollama-like or registry-like service, HTTP/2 by
//   default as every HTTPS service written in Go; it logs each request as Go's server saw it.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { goClientBinary, type GoProgram } from './cli.js';
import { eachLine, spawnDaemon, type Daemon, type DaemonOptions } from './daemon.js';
import { issueLeaf, makeCa, writeLeaf, type TestCa } from './pki.js';
import { tempDir } from './servers.js';

/** How long a Go server may take to say it is ready. */
const START_MS = 15_000;

/**
 * Starts a Go program from test/go and waits until `ready` says a line of its stdout means it is
 * listening; every other line goes to `line`. Rejects (the server stopped) when it exits first.
 */
async function startGo(program: GoProgram, args: string[], opts: DaemonOptions & {
  ready: (line: string) => boolean; line?: (line: string) => void;
}): Promise<Daemon> {
  const bin = goClientBinary(program);
  if (!bin) throw new Error('go is not installed');
  const go = spawnDaemon(bin, args, opts);
  let up = false;
  const isUp = new Promise<void>((resolve) => {
    eachLine(go.child.stdout!, (line) => {
      if (!up && opts.ready(line)) {
        up = true;
        resolve();
      } else {
        opts.line?.(line);
      }
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const failed = await Promise.race([
    isUp.then(() => undefined),
    go.exited.then(() => `exited (${go.child.exitCode})`),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`not ready within ${START_MS / 1000} s`), START_MS))),
  ]);
  clearTimeout(timer);
  if (failed !== undefined) {
    await go.stop();
    throw new Error(`${program} did not start: ${failed}\n${go.output()}`);
  }
  return go;
}

// ---- mtlsserve: one client-auth policy --------------------------------------------------------

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
  const args = ['-cert', opts.cert, '-key', opts.key, '-mode', opts.mode, '-listen', '127.0.0.1:0', '-max-version', opts.maxVersion ?? '1.3',
    ...(opts.clientCa ? ['-client-ca', opts.clientCa] : [])];
  const lines: string[] = [];
  const other: string[] = [];
  let port = 0;
  let onLine: (() => void) | undefined;
  const go = await startGo('mtlsserve', args, {
    ready: (line) => {
      const m = /^listening 127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) port = Number(m[1]);
      return m !== null;
    },
    line: (line) => {
      if (/^handshake |^error http: TLS handshake error /.test(line)) {
        lines.push(line);
        onLine?.();
      } else {
        other.push(line);
      }
    },
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
    close: go.stop,
  };
}

// ---- httpsserve: an Ollama-like or registry-like service --------------------------------------

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
  if (!goClientBinary('httpsserve')) return undefined;
  const ca = opts.ca ?? (await makeCa('Test Go Server CA'));
  const dir = tempDir('ollama-tls-goserve-');
  const f = (n: string) => path.join(dir, n);
  writeLeaf(await issueLeaf(ca, opts.hosts), f('cert.pem'), f('key.pem'));
  const args = ['-mode', opts.mode, '-cert', f('cert.pem'), '-key', f('key.pem')];
  if (opts.mode === 'registry') {
    const blobHost = opts.blobHost ?? 'blobs.test';
    writeLeaf(await issueLeaf(ca, [blobHost]), f('blob-cert.pem'), f('blob-key.pem'));
    args.push('-blob-cert', f('blob-cert.pem'), '-blob-key', f('blob-key.pem'), '-blob-host', blobHost);
  }
  if (opts.h1) args.push('-h1');
  if (opts.close) args.push('-close');
  if (opts.version) args.push('-version', opts.version);
  const seen: GoSeen[] = [];
  const ports: Partial<Record<GoSeen['listener'], number>> = {};
  let go: Daemon;
  try {
    // It exits when its stdin closes: stop() ends stdin, SIGKILL after 3 s.
    go = await startGo('httpsserve', args, {
      stdin: 'pipe', stopWith: 'stdin', killAfterMs: 3000,
      ready: (line) => line === 'ready',
      line: (line) => {
        const listening = /^(main|blobs) (\d+)$/.exec(line);
        if (listening) ports[listening[1] as GoSeen['listener']] = Number(listening[2]);
        const m = /^seen (main|blobs) (\S+) (\S+) (\S+) ?(.*)$/.exec(line);
        if (m) seen.push({ listener: m[1] as GoSeen['listener'], proto: m[2]!, method: m[3]!, uri: m[4]!, range: m[5] ?? '' });
      },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const close = async () => {
    await go.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { port: ports.main!, ...(ports.blobs ? { blobPort: ports.blobs } : {}), ca, seen, close };
}
