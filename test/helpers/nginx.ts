// A real nginx on loopback, as people put one in front of Ollama: started as a child process of
// the test (never a daemon), everything it writes kept in a temp dir, TLS with a certificate from a
// test CA. The caller gives the server blocks; the helper gives them free ports and the TLS setup.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { executable, freePorts, readLog, spawnDaemon, waitForPorts } from './daemon.js';
import { issueLeaf, makeCa, writeLeaf, type TestCa } from './pki.js';
import { tempDir } from './servers.js';

export const NGINX = '/usr/sbin/nginx';

export function haveNginx(): boolean {
  return executable(NGINX);
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
  writeLeaf(leaf, path.join(dir, 'server.pem'), path.join(dir, 'server.key'));
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
  // TERM (stop) is nginx's fast shutdown; the master ends its workers and exits.
  const nginx = spawnDaemon(NGINX, ['-e', errorLog, '-p', `${dir}/`, '-c', confFile, '-g', 'daemon off;']);
  const close = async () => {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPorts(nginx, numbers, 15_000))) {
    const why = `nginx did not start (ports ${numbers.join(' ')}):\n${nginx.output()}\n${readLog(errorLog)}\n--- nginx.conf ---\n${conf}`;
    await close();
    throw new Error(why);
  }
  return { port: port[opts.ports[0]!], ports: port, ca, dir, errorLog: () => readLog(errorLog), close };
}
