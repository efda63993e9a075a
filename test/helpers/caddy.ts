// A real Caddy (Debian's `caddy`) on loopback, as people put one in front of Ollama: a child of
// the test (setpriv --pdeathsig), admin endpoint off, no automatic HTTPS or ACME (a certificate
// from the test PKI), storage and config in a temp dir, HTTP/2 on as by default (h3 left out: no
// UDP listener), or HTTP/1.1 only.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './nginx.js';
import { issueLeaf, makeCa, type TestCa } from './pki.js';
import { tempDir } from './servers.js';

export const CADDY = '/usr/bin/caddy';
const SETPRIV = '/usr/bin/setpriv';

export function haveCaddy(): boolean {
  try {
    accessSync(CADDY, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A bcrypt hash as `caddy hash-password` makes it (the password goes as an argument, never printed). */
export async function caddyHash(password: string): Promise<string> {
  const { stdout } = await promisify(execFile)(CADDY, ['hash-password', '--plaintext', password]);
  return stdout.trim();
}

export interface RunningCaddy {
  port: number;
  ca: TestCa;
  log(): string;
  close(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * One site, https://<host>:<port>, bound to 127.0.0.1, with `site` as its directives (basicauth,
 * reverse_proxy...). `protocols`: Caddy's servers option (default h1 h2).
 */
export async function startCaddy(opts: { host: string; site: string; protocols?: ('h1' | 'h2')[]; ca?: TestCa }): Promise<RunningCaddy> {
  const dir = tempDir('ollama-tls-caddy-');
  const f = (n: string) => path.join(dir, n);
  const ca = opts.ca ?? (await makeCa('Test Caddy CA'));
  const leaf = await issueLeaf(ca, [opts.host]);
  writeFileSync(f('cert.pem'), leaf.chainPem);
  writeFileSync(f('key.pem'), leaf.keyPem, { mode: 0o600 });
  const [port] = await freePorts(1);
  const config = `{
	admin off
	auto_https off
	storage file_system {
		root ${f('data')}
	}
	servers {
		protocols ${(opts.protocols ?? ['h1', 'h2']).join(' ')}
	}
}

https://${opts.host}:${port} {
	bind 127.0.0.1
	tls ${f('cert.pem')} ${f('key.pem')}
${opts.site}
}
`;
  writeFileSync(f('Caddyfile'), config);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: f('data'), XDG_CONFIG_HOME: f('config') };
  const args = ['run', '--config', f('Caddyfile'), '--adapter', 'caddyfile'];
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', CADDY, ...args]] : [CADDY, args];
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-65536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => ((gone = true), resolve())));
  const close = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(port!))) {
    if (gone || Date.now() > deadline) {
      const why = `caddy did not start on ${port}:\n${output}\n--- Caddyfile ---\n${readFileSync(f('Caddyfile'), 'utf8')}`;
      await close();
      throw new Error(why);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port: port!, ca, log: () => output, close };
}
