// A real mitmproxy (Debian's mitmproxy 8, its `mitmdump`) as an intercepting forward proxy on
// loopback, with a CA the test gives it (named like a product). It listens on 127.0.0.1 only, has
// no web UI, keeps everything in a temp confdir, and dies with the test process (setpriv
// --pdeathsig). The addon mitmproxy-loopback.py connects the mapped names to 127.0.0.1 and refuses
// everything else.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePorts } from './nginx.js';
import { ROOT, tempDir } from './servers.js';

export const MITMDUMP = '/usr/bin/mitmdump';
const SETPRIV = '/usr/bin/setpriv';
const ADDON = path.join(ROOT, 'test/helpers/mitmproxy-loopback.py');

export function haveMitmdump(): boolean {
  return existsSync(MITMDUMP) && spawnSync(MITMDUMP, ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface MitmdumpOptions {
  /** The interception CA: mitmproxy signs every leaf it mints with this key. */
  ca: { certPem: string; keyPem: string };
  /**
   * mitmproxy 8 sends the CA after the leaf only when its mitmproxy-ca.pem holds more than one
   * certificate (it then builds the chain from that file); with one certificate it sends the leaf
   * alone, as most inspection appliances do. `sendCa: true` writes the certificate twice.
   */
  sendCa?: boolean;
  /** "host:port" the client asks for -> port on 127.0.0.1 mitmproxy connects to. */
  map: Record<string, number>;
  /** The CA mitmproxy verifies those upstream servers against (as an appliance does). */
  upstreamCaPem: string;
}

export interface RunningMitmdump {
  port: number;
  url: string;
  log(): string;
  close(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export async function startMitmdump(opts: MitmdumpOptions): Promise<RunningMitmdump> {
  const dir = tempDir('ollama-tls-mitmproxy-');
  const pem = opts.ca.keyPem + opts.ca.certPem + (opts.sendCa ? opts.ca.certPem : '');
  writeFileSync(path.join(dir, 'mitmproxy-ca.pem'), pem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'upstream-ca.pem'), opts.upstreamCaPem);
  for (let attempt = 0; attempt < 3; attempt++) {
    const [port] = await freePorts(1);
    const args = [
      '--listen-host', '127.0.0.1', '--listen-port', String(port!),
      '--set', `confdir=${dir}`,
      '--set', `ssl_verify_upstream_trusted_ca=${path.join(dir, 'upstream-ca.pem')}`,
      '--set', 'termlog_verbosity=info', '--set', 'flow_detail=0',
      '-s', ADDON, '--set', `loopback_map=${JSON.stringify(opts.map)}`,
    ];
    const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', MITMDUMP, ...args]] : [MITMDUMP, args];
    const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-65536);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let gone = false;
    const exited = new Promise<void>((resolve) => child.once('close', () => ((gone = true), resolve())));
    const stop = async () => {
      if (!gone && child.pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    };
    const deadline = Date.now() + 20_000;
    while (!gone && Date.now() < deadline && !(/listening at/.test(output) && (await accepts(port!)))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!gone && Date.now() < deadline) {
      return {
        port: port!, url: `http://127.0.0.1:${port}`, log: () => output,
        close: async () => {
          await stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stop();
    if (!/address already in use/i.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mitmdump did not start on 127.0.0.1:${port}:\n${output}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('mitmdump: no free port after 3 attempts');
}
