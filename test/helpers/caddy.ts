// A real Caddy (Debian's `caddy`) on loopback, as people put one in front of Ollama: a child of
// the test (setpriv --pdeathsig), admin endpoint off, no automatic HTTPS or ACME (a certificate
// from the test PKI), storage and config in a temp dir, HTTP/2 on as by default (h3 left out: no
// UDP listener), or HTTP/1.1 only.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { executable, freePort, spawnDaemon, waitForPorts } from './daemon.js';
import { issueLeaf, makeCa, writeLeaf, type TestCa } from './pki.js';
import { tempDir } from './servers.js';

export const CADDY = '/usr/bin/caddy';

export function haveCaddy(): boolean {
  return executable(CADDY);
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

/**
 * One site, https://<host>:<port>, bound to 127.0.0.1, with `site` as its directives (basicauth,
 * reverse_proxy...). `protocols`: Caddy's servers option (default h1 h2).
 */
export async function startCaddy(opts: { host: string; site: string; protocols?: ('h1' | 'h2')[]; ca?: TestCa }): Promise<RunningCaddy> {
  const dir = tempDir('ollama-tls-caddy-');
  const f = (n: string) => path.join(dir, n);
  const ca = opts.ca ?? (await makeCa('Test Caddy CA'));
  const leaf = await issueLeaf(ca, [opts.host]);
  writeLeaf(leaf, f('cert.pem'), f('key.pem'));
  const port = await freePort();
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
  const caddy = spawnDaemon(CADDY, args, { env });
  const close = async () => {
    await caddy.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPorts(caddy, [port], 20_000))) {
    const why = `caddy did not start on ${port}:\n${caddy.output()}\n--- Caddyfile ---\n${readFileSync(f('Caddyfile'), 'utf8')}`;
    await close();
    throw new Error(why);
  }
  return { port: port, ca, log: caddy.output, close };
}
