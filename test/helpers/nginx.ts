// A real nginx on loopback, as people put one in front of Ollama: started as a child process of
// the test (never a daemon), everything it writes kept in a temp dir, TLS with a certificate from a
// test CA. The caller gives the server blocks; the helper gives them free ports and the TLS setup.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { issueLeaf, makeCa, type TestCa } from './pki.js';
import { listen, tempDir } from './servers.js';

export const NGINX = '/usr/sbin/nginx';

export function haveNginx(): boolean {
  try {
    accessSync(NGINX, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunningNginx<K extends string> {
  /** The first port asked for. */
  port: number;
  ports: Record<K, number>;
  /** The CA that issued the server certificate (its certPem is what a client trusts). */
  ca: TestCa;
  dir: string;
  /** nginx's error log so far (for failure messages). */
  errorLog(): string;
  close(): Promise<void>;
}

/** Ports free on 127.0.0.1 right now: bound to port 0 all at once (so distinct), then released. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  await Promise.all(servers.map((s) => listen(s, '127.0.0.1')));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** An htpasswd file with apr1 (Apache MD5) hashes, as `htpasswd` writes and nginx reads. */
export async function htpasswd(dir: string, users: Record<string, string>): Promise<string> {
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    const { stdout } = await promisify(execFile)('openssl', ['passwd', '-apr1', password]);
    lines.push(`${user}:${stdout.trim()}`);
  }
  const file = path.join(dir, 'htpasswd');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
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
 * Start nginx with `config` as the body of its http block (server blocks, maps, upstreams).
 * Server blocks listen with `listen 127.0.0.1:<port> ssl;`; the certificate (for `hosts`) is set
 * for the whole http block. The temp dir (`dir`) is there for extra files (an htpasswd).
 */
export async function startNginx<K extends string>(opts: {
  ports: readonly K[];
  hosts: string[];
  config: (ctx: { port: Record<K, number>; dir: string }) => string | Promise<string>;
  ca?: TestCa;
}): Promise<RunningNginx<K>> {
  const dir = tempDir('ollama-tls-nginx-');
  const ca = opts.ca ?? (await makeCa('Test Nginx CA'));
  const leaf = await issueLeaf(ca, opts.hosts);
  writeFileSync(path.join(dir, 'server.pem'), leaf.chainPem);
  writeFileSync(path.join(dir, 'server.key'), leaf.keyPem, { mode: 0o600 });
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, 'tmp', t), { recursive: true });
  const numbers = await freePorts(opts.ports.length);
  const port = Object.fromEntries(opts.ports.map((k, i) => [k, numbers[i]!])) as Record<K, number>;
  const body = await opts.config({ port, dir });
  const errorLog = path.join(dir, 'error.log');
  const conf = [
    // Workers otherwise switch to nobody, who cannot read the temp dir (0700) when tests run as root.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `lock_file ${dir}/nginx.lock;`,
    `error_log ${errorLog} warn;`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    '  default_type application/octet-stream;',
    ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t === 'body' ? 'client_body' : t}_temp_path ${dir}/tmp/${t};`),
    `  ssl_certificate ${dir}/server.pem;`,
    `  ssl_certificate_key ${dir}/server.key;`,
    body,
    '}',
    '',
  ].join('\n');
  const confFile = path.join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);

  // -e: the error log before the config is read (the packaged default may not be writable).
  const child: ChildProcess = spawn(NGINX, ['-e', errorLog, '-p', `${dir}/`, '-c', confFile, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const readLog = () => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  const close = async () => {
    if (!gone && child.pid) {
      // TERM is nginx's fast shutdown; the master ends its workers and exits.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (const k of opts.ports) {
    while (!(await canConnect(port[k]))) {
      if (gone || Date.now() > deadline) {
        const why = `nginx did not start (port ${port[k]}):\n${stderr}\n${readLog()}\n--- nginx.conf ---\n${conf}`;
        await close();
        throw new Error(why);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port: port[opts.ports[0]!], ports: port, ca, dir, errorLog: readLog, close };
}
