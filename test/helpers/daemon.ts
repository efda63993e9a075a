// The plumbing every real-daemon helper shares (Caddy, nginx, mitmproxy, Squid, the Go servers):
// free loopback ports, a child process that dies with the test process (setpriv --pdeathsig),
// its output kept for failure messages, readiness polls, and a stop that escalates to SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import net from 'node:net';
import type { Readable } from 'node:stream';

/** util-linux setpriv: sets the parent-death signal, then execs the daemon (same pid). */
export const SETPRIV = '/usr/bin/setpriv';

/** How much of a daemon's stdout and stderr is kept (the tail). */
const KEEP_BYTES = 65536;
/** How often the readiness polls look again. */
const POLL_MS = 50;

export function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A log file a daemon writes, '' while it has not written one. */
export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Ports free on 127.0.0.1 right now: bound to port 0 all at once (so distinct), then released. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  await Promise.all(servers.map((s) => new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** One port free on 127.0.0.1 right now (nothing listens on it). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** Whether something accepts a TCP connection on 127.0.0.1:port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Calls `line` for each complete line the stream writes. */
export function eachLine(stream: Readable, line: (text: string) => void): void {
  let pending = '';
  stream.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      line(text);
    }
  });
}

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** 'pipe' for daemons that exit when their stdin closes (default 'ignore'). */
  stdin?: 'ignore' | 'pipe';
  /** Start it through setpriv --pdeathsig TERM, so it dies with the test process (default true). */
  pdeathsig?: boolean;
  detached?: boolean;
  uid?: number;
  gid?: number;
  /** How stop() asks it to go: SIGTERM (default) or by ending its stdin. */
  stopWith?: 'SIGTERM' | 'stdin';
  /** Milliseconds stop() waits before SIGKILL (default 5000). */
  killAfterMs?: number;
}

export interface Daemon {
  child: ChildProcess;
  /** Its stdout and stderr so far (the last 64 KiB), for failure messages. */
  output(): string;
  /** True once it has exited. */
  gone(): boolean;
  exited: Promise<void>;
  /** Asks it to go, SIGKILL when it has not within killAfterMs; resolves once it is gone. */
  stop(): Promise<void>;
}

export function spawnDaemon(bin: string, args: string[], opts: DaemonOptions = {}): Daemon {
  const [cmd, argv] = opts.pdeathsig !== false && executable(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, {
    env: opts.env, cwd: opts.cwd, detached: opts.detached, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}), ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  let output = '';
  const keep = (d: Buffer | string) => {
    output = (output + d.toString()).slice(-KEEP_BYTES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.stdin?.on('error', () => {});
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    const done = () => ((gone = true), resolve());
    // 'close' also waits for the pipes (the last output); a worker that inherited them and
    // outlives its master (nginx after SIGKILL) must not hold the test up, hence 'exit' too.
    child.once('close', done);
    child.once('exit', () => setTimeout(done, 200).unref());
    child.once('error', (e) => {
      keep(`spawn error: ${e.message}\n`);
      done();
    });
  });
  const stop = async () => {
    if (!gone) {
      if (opts.stopWith === 'stdin') child.stdin?.end();
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { child, output: () => output, gone: () => gone, exited, stop };
}

/** Polls `ready` until it holds (true), or the daemon exits or `ms` pass (false). */
export async function pollUntil(daemon: Daemon, ready: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await ready()) return true;
    if (daemon.gone() || Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Waits until every port accepts connections (true), or the daemon exits or `ms` pass (false). */
export function waitForPorts(daemon: Daemon, ports: number[], ms: number): Promise<boolean> {
  return pollUntil(daemon, async () => {
    for (const p of ports) if (!(await accepts(p))) return false;
    return true;
  }, ms);
}
