// Real proxies on loopback for the tests: a CONNECT forward proxy (plain or over TLS), SOCKS5,
// proxies that fail in one specific way, Squid (forward and ssl-bump) and Node's http-mitm-proxy.
// Every proxy maps the public names a test uses onto loopback (a `hosts` map) and refuses anything
// else, so no test ever reaches past loopback; Squid and the MITM proxy run as child processes
// that cannot outlive the test process.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Duplex } from 'node:stream';
import { accepts, freePort, pollUntil, readLog, spawnDaemon } from './daemon.js';
import { listen, tempDir, track, type Running } from './servers.js';

/** Name -> loopback address the proxy connects to instead of resolving the name. */
export type HostMap = Record<string, string>;

export interface SeenRequest {
  /** What the client asked for: `host:port` as written in CONNECT, or as sent in SOCKS5. */
  target: string;
  headers: Record<string, string>;
  /** SOCKS5 address type: 1 IPv4, 3 host name, 4 IPv6. */
  socksAddressType?: number;
  /** SOCKS5 username/password, when the client sent them. */
  socksCredentials?: { user: string; pass: string };
}

export interface RunningProxy extends Running {
  /** Every request the proxy received, in order. */
  requests: SeenRequest[];
}

function isLoopback(address: string): boolean {
  if (net.isIPv4(address)) return address.startsWith('127.');
  return net.isIPv6(address) && new URL(`http://[${address}]/`).hostname === '[::1]';
}

function splitHostPort(target: string): { host: string; port: number } {
  const m = target.match(/^\[?([^\]]*?)\]?:(\d+)$/);
  if (!m) return { host: target, port: 443 };
  return { host: m[1]!, port: Number(m[2]) };
}

/** Refuse maps that would send a test's traffic past loopback. */
function checkHosts(hosts: HostMap): void {
  for (const [name, addr] of Object.entries(hosts)) {
    if (!isLoopback(addr)) throw new Error(`hosts: ${name} -> ${addr} is not a loopback address`);
  }
}

/** Where the proxy dials for `host`; undefined for anything that is not mapped onto loopback. */
function loopbackFor(hosts: HostMap, host: string): string | undefined {
  const mapped = hosts[host.toLowerCase()] ?? (isLoopback(host) ? host : undefined);
  return mapped && isLoopback(mapped) ? mapped : undefined;
}

function splice(a: Duplex, b: Duplex): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

export interface ConnectProxyOptions {
  hosts?: HostMap;
  /** Require `Proxy-Authorization: Basic` with these credentials. */
  auth?: { user: string; pass: string };
  /** Serve the proxy itself over TLS (an https:// proxy) with this key and chain. */
  tls?: { keyPem: string; chainPem: string };
}

/** A forward proxy that answers CONNECT the way Squid or a corporate proxy does. */
export async function startConnectProxy(opts: ConnectProxyOptions = {}): Promise<RunningProxy> {
  const hosts = opts.hosts ?? {};
  const requests: SeenRequest[] = [];
  const server: http.Server = opts.tls
    ? https.createServer({ key: opts.tls.keyPem, cert: opts.tls.chainPem })
    : http.createServer();
  server.on('request', (_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('this test proxy only tunnels (CONNECT)\n');
  });
  server.on('tlsClientError', () => {});
  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => {});
    const target = req.url ?? '';
    requests.push({ target, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])) });
    if (opts.auth) {
      const want = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.pass}`).toString('base64')}`;
      if (req.headers['proxy-authorization'] !== want) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
        return;
      }
    }
    const { host, port } = splitHostPort(target);
    const address = loopbackFor(hosts, host);
    if (!address) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, address, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) upstream.write(head);
      splice(client, upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  await listen(server);
  return { ...track(server), requests };
}

export type ProxyFault = '407' | '407-ntlm' | '403' | 'close' | 'garbage' | 'tls' | 'silent';

const FAULT_REPLIES: Partial<Record<ProxyFault, string>> = {
  '407': 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
  '407-ntlm': 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n',
  '403': 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 23\r\n\r\n<h1>Access denied</h1>\n',
  garbage: '\x00\x07\xffSSH-2.0-not-a-proxy\r\n',
};

/**
 * A proxy that fails one way: answers 407 or 403, closes after the request, answers bytes that
 * are not HTTP, speaks TLS (for an http:// proxy URL), or says nothing at all.
 */
export async function startFaultProxy(kind: ProxyFault, tlsIdentity?: { keyPem: string; chainPem: string }): Promise<Running> {
  let server: net.Server;
  if (kind === 'tls') {
    if (!tlsIdentity) throw new Error("startFaultProxy('tls') needs a key and chain");
    server = https.createServer({ key: tlsIdentity.keyPem, cert: tlsIdentity.chainPem }, (_req, res) => res.end());
    server.on('tlsClientError', () => {});
  } else {
    server = net.createServer((socket) => {
      socket.on('error', () => {});
      if (kind === 'silent') return;
      socket.once('data', () => {
        if (kind === 'close') socket.end();
        else socket.end(FAULT_REPLIES[kind]!);
      });
    });
  }
  await listen(server);
  return track(server);
}

export interface Socks5Options {
  hosts?: HostMap;
  auth?: { user: string; pass: string };
}

/** A SOCKS5 proxy (RFC 1928, with RFC 1929 username/password when `auth` is given). */
export async function startSocks5Proxy(opts: Socks5Options = {}): Promise<RunningProxy> {
  const hosts = opts.hosts ?? {};
  const requests: SeenRequest[] = [];
  const server = net.createServer((client) => {
    client.on('error', () => {});
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'done' = 'greeting';
    let credentials: SeenRequest['socksCredentials'];
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (stage === 'greeting') {
          if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
          const methods = [...buf.subarray(2, 2 + buf[1]!)];
          buf = buf.subarray(2 + buf[1]!);
          const want = opts.auth ? 2 : 0;
          if (!methods.includes(want)) {
            client.end(Buffer.from([5, 0xff]));
            stage = 'done';
            return;
          }
          client.write(Buffer.from([5, want]));
          stage = opts.auth ? 'auth' : 'request';
        } else if (stage === 'auth') {
          if (buf.length < 2) return;
          const ulen = buf[1]!;
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen]!;
          if (buf.length < 3 + ulen + plen) return;
          credentials = { user: buf.toString('utf8', 2, 2 + ulen), pass: buf.toString('utf8', 3 + ulen, 3 + ulen + plen) };
          buf = buf.subarray(3 + ulen + plen);
          const ok = credentials.user === opts.auth!.user && credentials.pass === opts.auth!.pass;
          client.write(Buffer.from([1, ok ? 0 : 1]));
          if (!ok) {
            client.end();
            stage = 'done';
            return;
          }
          stage = 'request';
        } else if (stage === 'request') {
          if (buf.length < 5) return;
          const atyp = buf[3]!;
          const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + buf[4]! : -1;
          if (addrLen < 0) {
            client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
            return;
          }
          if (buf.length < 4 + addrLen + 2) return;
          const raw = buf.subarray(4, 4 + addrLen);
          const host =
            atyp === 1 ? [...raw].join('.') :
            atyp === 3 ? raw.toString('utf8', 1) :
            [...Array(8).keys()].map((i) => raw.readUInt16BE(i * 2).toString(16)).join(':');
          const port = buf.readUInt16BE(4 + addrLen);
          const rest = buf.subarray(4 + addrLen + 2);
          stage = 'done';
          client.off('data', onData);
          requests.push({ target: atyp === 4 ? `[${host}]:${port}` : `${host}:${port}`, headers: {}, socksAddressType: atyp, ...(credentials ? { socksCredentials: credentials } : {}) });
          const address = loopbackFor(hosts, host);
          if (!address) {
            client.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0])); // not allowed by ruleset
            return;
          }
          const upstream = net.connect(port, address, () => {
            client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
            if (rest.length) upstream.write(rest);
            splice(client, upstream);
          });
          upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
          return;
        } else {
          return;
        }
      }
    };
    client.on('data', onData);
  });
  await listen(server);
  return { ...track(server), requests };
}

// ---- Squid ------------------------------------------------------------------------------------

export const SQUID_BIN = '/usr/sbin/squid';
export const SQUID_CERTGEN = '/usr/lib/squid/security_file_certgen';

/** Squid with ssl-bump (Debian's squid-openssl) when it is installed, else undefined. */
export function squidBinary(): string | undefined {
  const v = spawnSync(SQUID_BIN, ['-v'], { encoding: 'utf8' });
  return v.status === 0 && /--with-openssl/.test(v.stdout) && existsSync(SQUID_CERTGEN) ? SQUID_BIN : undefined;
}
/** The user Squid (and its helpers) run as when the tests run as root. */
const SQUID_USER = 'proxy';

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    /* no passwd file */
  }
  return undefined;
}

/** A temp dir every user can reach the inside of (Squid's unprivileged user must): under os.tmpdir() if its ancestors let others through, else /tmp. */
function reachableTempDir(prefix: string): string {
  const traversable = (dir: string): boolean => {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return false;
      if (d === path.dirname(d)) return true;
    }
  };
  const base = traversable(os.tmpdir()) ? os.tmpdir() : '/tmp';
  return mkdtempSync(path.join(base, prefix));
}

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

function squidConf(dir: string, port: number, hosts: HostMap, bump: boolean, upstreamCa: boolean): string {
  const f = (name: string) => path.join(dir, name);
  const names = Object.keys(hosts).map((n) => n.toLowerCase());
  for (const n of names) if (!/^[a-z0-9.-]+$/.test(n)) throw new Error(`squid: host name ${JSON.stringify(n)} cannot go in squid.conf`);
  const lines = [
    '# A throwaway Squid for one test (test/helpers/proxies.ts); never the system config.',
    bump
      ? `http_port 127.0.0.1:${port} ssl-bump generate-host-certificates=on dynamic_cert_mem_cache_size=4MB tls-cert=${f('bump-ca.pem')} tls-key=${f('bump-ca.key')}`
      : `http_port 127.0.0.1:${port}`,
    'visible_hostname squid.ollama-tls.test',
    '# CONNECT to any port, from loopback only, to the mapped names and loopback IP literals only:',
    '# anything else is denied (403) before Squid would look it up',
    'acl test_clients src 127.0.0.1/32 ::1',
    'http_access deny !test_clients',
    ...(names.length > 0 ? [`acl mapped_names dstdomain -n ${names.join(' ')}`, 'http_access allow mapped_names'] : []),
    'acl loopback_literals dstdom_regex -n ^127\\.[0-9]+\\.[0-9]+\\.[0-9]+$ ^\\[?::1\\]?$',
    'http_access allow loopback_literals',
    'http_access deny all',
    '# names resolve from the test map alone; the DNS server named here does not exist',
    `hosts_file ${f('hosts')}`,
    'dns_nameservers 127.0.0.1',
    'dns_timeout 5 seconds',
    '# nothing binds past loopback',
    'udp_incoming_address 127.0.0.1',
    'udp_outgoing_address 127.0.0.1',
    'tcp_outgoing_address 127.0.0.1',
    'icp_port 0',
    'htcp_port 0',
    'pinger_enable off',
    '# no caching, every file in the temp dir',
    'cache deny all',
    'cache_mem 8 MB',
    'cache_store_log none',
    'netdb_filename none',
    `pid_filename ${f('squid.pid')}`,
    `cache_log ${f('cache.log')}`,
    `access_log stdio:${f('access.log')}`,
    'logfile_rotate 0',
    `coredump_dir ${dir}`,
    'shutdown_lifetime 0 seconds',
  ];
  if (bump) {
    lines.push(
      '# ssl-bump: peek at the SNI, stare at the server certificate, then bump and mimic it',
      `sslcrtd_program ${SQUID_CERTGEN} -s ${f('ssl_db')} -M 4MB`,
      'sslcrtd_children 4 startup=1 idle=1',
      'acl step1 at_step SslBump1',
      'acl step2 at_step SslBump2',
      'ssl_bump peek step1',
      'ssl_bump stare step2',
      'ssl_bump bump all',
      ...(upstreamCa
        ? ['# verify the upstream server as an appliance does, against the CA the test gave', `tls_outgoing_options cafile=${f('upstream-ca.pem')}`]
        : ['# no upstream CA given: accept the upstream whatever it serves', 'sslproxy_cert_error allow all', 'tls_outgoing_options flags=DONT_VERIFY_PEER cipher=DEFAULT:@SECLEVEL=0']),
    );
  }
  return lines.join('\n') + '\n';
}

export interface RunningSquid extends Running {
  /** cache.log then access.log, for debugging (kept after close()). */
  log(): string;
  /** Squid's access.log alone (one line per transaction). */
  accessLog(): string;
  /** Squid's pid, also its process group (its helpers are in it). */
  pid: number;
}

const READY = /Accepting (?:SSL bumped )?HTTP Socket connections at \S+ local=127\.0\.0\.1:(\d+)/;
const BIND_FAILED = /Address already in use|Cannot bind|cannot bind/;

/**
 * A real Squid in the foreground (-N) with its own config in a temp dir. Forward mode tunnels
 * CONNECT to any port; with `bump`, it ssl-bumps every CONNECT, minting a leaf that mimics the
 * upstream certificate, signed by the given CA.
 */
export interface SquidOptions {
  hosts: HostMap;
  /** ssl-bump with this CA: Squid mints a leaf for every host, mimicking the upstream one, signed by it. */
  bump?: { caCertPem: string; caKeyPem: string };
  /** With bump: the CA Squid verifies upstream servers against (default: it accepts any). */
  upstreamCaPem?: string;
}

export async function startSquid(opts: SquidOptions): Promise<RunningSquid> {
  checkHosts(opts.hosts);
  if (!existsSync(SQUID_BIN)) throw new Error(`${SQUID_BIN} is not installed (Debian: apt-get install squid-openssl)`);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? lookupUser(SQUID_USER) : undefined;
  if (asRoot && !owner) throw new Error(`squid must not run as root here and user '${SQUID_USER}' does not exist`);
  const dir = reachableTempDir('ollama-tls-squid-');
  if (/\s/.test(dir)) throw new Error(`squid.conf cannot hold a path with spaces: ${dir}`);
  const f = (name: string) => path.join(dir, name);
  try {
    writeFileSync(f('hosts'), Object.entries(opts.hosts).map(([name, addr]) => `${addr} ${name}\n`).join(''));
    if (opts.bump) {
      if (!existsSync(SQUID_CERTGEN)) throw new Error(`${SQUID_CERTGEN} is missing: squid without ssl-bump (Debian: squid-openssl)`);
      writeFileSync(f('bump-ca.pem'), opts.bump.caCertPem);
      writeFileSync(f('bump-ca.key'), opts.bump.caKeyPem, { mode: 0o600 });
      const init = spawnSync(SQUID_CERTGEN, ['-c', '-s', f('ssl_db'), '-M', '4MB'], { encoding: 'utf8' });
      if (init.status !== 0) throw new Error(`security_file_certgen -c failed (${init.status}): ${init.stdout}${init.stderr}`);
      if (opts.upstreamCaPem) writeFileSync(f('upstream-ca.pem'), opts.upstreamCaPem);
    }
    if (owner) chownTree(dir, owner.uid, owner.gid);
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      writeFileSync(f('squid.conf'), squidConf(dir, port, opts.hosts, opts.bump !== undefined, opts.upstreamCaPem !== undefined));
      if (owner) chownSync(f('squid.conf'), owner.uid, owner.gid);
      try {
        return await launchSquid(dir, port, owner);
      } catch (e) {
        lastError = e as Error;
        if (!(e as { portTaken?: boolean }).portTaken) break;
      }
    }
    throw lastError ?? new Error('squid did not start');
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function launchSquid(dir: string, port: number, owner: { uid: number; gid: number } | undefined): Promise<RunningSquid> {
  const f = (name: string) => path.join(dir, name);
  // -N: foreground, no daemon, no kid processes; -d 1: important messages to stderr as well.
  // Run as the unprivileged user from the start (rather than letting Squid drop root) so that
  // setpriv's parent-death signal survives: if the test process dies, Squid gets SIGTERM.
  // SIGTERM (stop) with shutdown_lifetime 0: it exits within a second or two.
  const squid = spawnDaemon(SQUID_BIN, ['-N', '-d', '1', '-f', f('squid.conf')], { detached: true, ...(owner ?? {}) });
  const child = squid.child;
  let finalLog: string | undefined;
  const log = () => finalLog ?? `${readLog(f('cache.log'))}\n--- access.log\n${readLog(f('access.log'))}`;

  // Squid starts its helpers (security_file_certgen) in sessions of their own: note them before
  // Squid goes, and see them gone after (they leave on their own when Squid closes their stdin).
  const helpers = (): number[] => {
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === child.pid && fields[0] !== 'Z') out.push(Number(e));
      } catch {
        /* gone meanwhile */
      }
    }
    return out;
  };
  const kill = async (): Promise<void> => {
    if (squid.gone() || child.pid === undefined) return squid.exited;
    const kids = helpers();
    await squid.stop();
    for (const pid of kids) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmd.includes('security_file_certgen')) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  };

  // Squid logs READY just before its acceptor job calls listen(): wait until the port does accept.
  const listening = () => Number(READY.exec(squid.output())?.[1]) === port;
  const portTaken = () => BIND_FAILED.test(squid.output());
  const ready = await pollUntil(squid, async () => portTaken() || (listening() && (await accepts(port))), 20_000);
  if (!ready || portTaken()) {
    const why = portTaken() ? 'port already in use'
      : squid.gone() ? `exited with code ${child.exitCode} signal ${child.signalCode}`
      : listening() ? 'port does not accept connections' : 'not ready within 20 s';
    await kill();
    const err = new Error(`squid failed to start on 127.0.0.1:${port}: ${why}\n--- squid stderr:\n${squid.output().trim()}\n--- cache.log:\n${readLog(f('cache.log')).trim()}`);
    (err as { portTaken?: boolean }).portTaken = portTaken();
    throw err;
  }
  return {
    port,
    pid: child.pid!,
    log,
    accessLog: () => (finalLog === undefined ? readLog(f('access.log')) : finalLog.split('\n--- access.log\n')[1] ?? ''),
    close: async () => {
      await kill();
      finalLog = log();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- 5. http-mitm-proxy ------------------------------------------------------------------------

// The proxy runs in a child Node process: http-mitm-proxy writes to the console on every
// handshake a client refuses, and that output belongs in log(), not in the test report. The
// child exits when its stdin closes, so it cannot outlive the test process.
const MITM_CHILD = String.raw`
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
const cfg = JSON.parse(process.env.OLLAMA_TLS_MITM);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
const { Proxy } = await import(cfg.module);
const t0 = performance.now();
const loopback = (a) => (net.isIPv4(a) && /^127\./.test(a)) || a === '::1';
const resolveName = (h) => [h, h.toLowerCase()].filter((k) => Object.hasOwn(cfg.hosts, k)).map((k) => cfg.hosts[k])[0] ?? (loopback(h) ? h : undefined);
const proxy = new Proxy();
proxy.onError(() => {});
proxy.onRequest((ctx, callback) => {
  const o = ctx.proxyToServerRequestOptions;
  const name = o ? String(o.host) : '';
  const addr = resolveName(name);
  if (!o || !addr) {
    ctx.proxyToClientResponse.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
    ctx.proxyToClientResponse.end('cannot resolve ' + name + '\n');
    return;
  }
  o.host = addr; // dial the mapped address; Host stays as the client sent it
  if (ctx.isSSL && !net.isIP(name)) o.servername = name; // and SNI keeps the name
  callback();
});
proxy.listen({
  host: '127.0.0.1', port: 0, sslCaDir: cfg.dir, keepAlive: false,
  httpAgent: new http.Agent({ keepAlive: false }),
  httpsAgent: new https.Agent({ keepAlive: false, rejectUnauthorized: false }),
}, async (err) => {
  if (err) { console.error('listen failed:', err); process.exit(1); }
  const caMs = performance.now() - t0;
  // Mint the leaves for the mapped names now, so no test's first handshake waits for an RSA key.
  // The library writes them to disk asynchronously; wait until they are there in full.
  for (const name of cfg.premint) {
    let pems;
    proxy.ca.generateServerCertificateKeys([name], (cert, key) => (pems = { cert, key }));
    const files = [[path.join(cfg.dir, 'certs', name + '.pem'), pems.cert], [path.join(cfg.dir, 'keys', name + '.key'), pems.key]];
    for (let i = 0; i < 2000; i++) {
      if (files.every(([f, want]) => { try { return fs.readFileSync(f, 'utf8') === want; } catch { return false; } })) break;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  process.stdout.write('OLLAMA-TLS-MITM-READY ' + JSON.stringify({ port: proxy.httpPort, caMs, startupMs: performance.now() - t0 }) + '\n');
});
`;

export interface RunningMitm extends Running {
  /** The CA http-mitm-proxy generated on start (subject CN=NodeMITMProxyCA, C=Internet, ST=Internet, L=Internet, O=Node MITM Proxy CA, OU=CA). */
  caCertPem: string;
  /** Milliseconds inside the proxy process: generating its CA, and CA plus pre-minted leaves. */
  timings: { caMs: number; startupMs: number };
  /** What http-mitm-proxy printed (it logs every refused handshake), for debugging. */
  log(): string;
}

/**
 * Node's http-mitm-proxy on 127.0.0.1: it answers every CONNECT with 200, terminates TLS with a
 * leaf it mints for the CONNECT host (signed by the CA it generated in a temp dir), and forwards
 * requests made inside to the mapped address, keeping the name for SNI and Host. Upstream
 * certificates are not checked (like many interception boxes). Leaves for the mapped names are
 * minted before it reports ready (`premint: false` to skip); others on first use (~0.2-0.3 s).
 */
export async function startMitmProxy(opts: { hosts: HostMap; premint?: boolean }): Promise<RunningMitm> {
  checkHosts(opts.hosts);
  const dir = tempDir('ollama-tls-mitm-');
  const cfg = {
    module: pathToFileURL(createRequire(import.meta.url).resolve('http-mitm-proxy')).href,
    dir,
    hosts: opts.hosts,
    premint: opts.premint === false ? [] : Object.keys(opts.hosts).filter((n) => /^[A-Za-z0-9.-]+$/.test(n)),
  };
  const env: NodeJS.ProcessEnv = { ...process.env, OLLAMA_TLS_MITM: JSON.stringify(cfg) };
  delete env.NODE_OPTIONS;
  // No setpriv: the child exits when its stdin closes, so it cannot outlive the test process.
  const mitm = spawnDaemon(process.execPath, ['--input-type=module', '-e', MITM_CHILD], { env, stdin: 'pipe', pdeathsig: false });
  const output = mitm.output;
  const stop = mitm.stop;
  const READY_LINE = /OLLAMA-TLS-MITM-READY (\{.*\})\n/;
  try {
    if (!(await pollUntil(mitm, () => READY_LINE.test(output()), 30_000))) {
      throw new Error(mitm.gone() ? `exited with code ${mitm.child.exitCode}` : 'not ready within 30 s');
    }
    const ready = JSON.parse(READY_LINE.exec(output())![1]!) as { port: number; caMs: number; startupMs: number };
    return {
      port: ready.port,
      caCertPem: readFileSync(path.join(dir, 'certs', 'ca.pem'), 'utf8'),
      timings: { caMs: ready.caMs, startupMs: ready.startupMs },
      log: output,
      close: async () => {
        await stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`http-mitm-proxy failed to start: ${(e as Error).message}\n${output().trim()}`);
  }
}
