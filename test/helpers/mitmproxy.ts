// A real mitmproxy (Debian's mitmproxy 8, its `mitmdump`) as an intercepting forward proxy on
// loopback, with a CA the test gives it (named like a product). It listens on 127.0.0.1 only, has
// no web UI, keeps everything in a temp confdir, and dies with the test process (setpriv
// --pdeathsig). The addon mitmproxy-loopback.py connects the mapped names to 127.0.0.1 and refuses
// everything else.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { accepts, freePort, pollUntil, spawnDaemon } from './daemon.js';
import { ROOT, tempDir } from './servers.js';

export const MITMDUMP = '/usr/bin/mitmdump';
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

export async function startMitmdump(opts: MitmdumpOptions): Promise<RunningMitmdump> {
  const dir = tempDir('ollama-tls-mitmproxy-');
  const pem = opts.ca.keyPem + opts.ca.certPem + (opts.sendCa ? opts.ca.certPem : '');
  writeFileSync(path.join(dir, 'mitmproxy-ca.pem'), pem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'upstream-ca.pem'), opts.upstreamCaPem);
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = [
      '--listen-host', '127.0.0.1', '--listen-port', String(port),
      '--set', `confdir=${dir}`,
      '--set', `ssl_verify_upstream_trusted_ca=${path.join(dir, 'upstream-ca.pem')}`,
      '--set', 'termlog_verbosity=info', '--set', 'flow_detail=0',
      '-s', ADDON, '--set', `loopback_map=${JSON.stringify(opts.map)}`,
    ];
    const mitmdump = spawnDaemon(MITMDUMP, args, { env: { ...process.env, HOME: dir } });
    if (await pollUntil(mitmdump, async () => /listening at/.test(mitmdump.output()) && (await accepts(port)), 20_000)) {
      return {
        port: port, url: `http://127.0.0.1:${port}`, log: mitmdump.output,
        close: async () => {
          await mitmdump.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await mitmdump.stop();
    const output = mitmdump.output();
    if (!/address already in use/i.test(output)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mitmdump did not start on 127.0.0.1:${port}:\n${output}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('mitmdump: no free port after 3 attempts');
}
