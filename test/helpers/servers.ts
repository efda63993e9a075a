// Real peers on loopback for the tests: TLS servers from the fixture scenarios, servers that
// misbehave on purpose, and a DNS responder that knows no names.
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { freePort } from './daemon.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SCENARIOS = path.join(ROOT, 'fixtures/scenarios');

export interface LoadedScenario {
  name: string;
  host: string;
  summary: string;
  chainPem: string;
  keyPem: string;
  caPem: string;
  dir: string;
}

export function loadScenario(name: string): LoadedScenario {
  const dir = path.join(SCENARIOS, name);
  const meta = JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as { host: string; summary: string };
  return {
    name, dir, host: meta.host, summary: meta.summary,
    chainPem: readFileSync(path.join(dir, 'chain.pem'), 'utf8'),
    keyPem: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    caPem: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
  };
}

export interface Running {
  port: number;
  close(): Promise<void>;
}

/** Remember every connection so close() can end them all (server.close alone waits for them). */
export function track(server: net.Server, sockets: Set<net.Socket> = new Set()): Running {
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function listen(server: net.Server, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
}

/**
 * Serve a chain exactly as given. Security level 0 on the server side only: OpenSSL otherwise
 * refuses to even load a SHA-1 or RSA-1024 chain, and serving them is the point.
 */
export async function serveChain(
  s: { keyPem: string; chainPem: string },
  opts: { host?: string; tls?: tls.TlsOptions; /** Answer only once the request has arrived, as a real web server does (proxies that relay need it). */ http?: boolean } = {},
): Promise<Running> {
  const reply = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';
  const server = tls.createServer({ key: s.keyPem, cert: s.chainPem, ciphers: 'DEFAULT:@SECLEVEL=0', ...opts.tls }, (socket) => {
    socket.on('error', () => {});
    if (!opts.http) {
      // Handshake-only clients (s_client, the Go tlsclient) never send a request.
      socket.end(reply);
      return;
    }
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end(reply);
    });
  });
  server.on('tlsClientError', () => {});
  const sockets = new Set<net.Socket>();
  await listen(server, opts.host ?? '127.0.0.1');
  return track(server, sockets);
}

export type FaultKind = 'silent' | 'reset' | 'close' | 'http';

/** A TCP server that misbehaves in one specific way when a client connects. */
export async function serveFault(kind: FaultKind): Promise<Running> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  if (kind === 'http') {
    server = http.createServer((_req, res) => res.end('plain http'));
  } else {
    server = net.createServer((socket) => {
      socket.on('error', () => {});
      if (kind === 'reset') socket.once('data', () => socket.resetAndDestroy());
      if (kind === 'close') socket.end();
      // 'silent': accept and never say a word.
    });
  }
  await listen(server, '127.0.0.1');
  return track(server, sockets);
}

/** A loopback port with nothing listening on it. */
export const closedPort = freePort;

/** A DNS server on 127.0.0.1 that answers every query with NXDOMAIN. */
export async function serveNxdomainDns(): Promise<Running> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const reply = Buffer.from(msg);
    reply[2] = 0x81 | (msg[2]! & 0x01); // QR=1, opcode 0, RD copied
    reply[3] = 0x83; // RA=1, RCODE=3 (NXDOMAIN)
    reply.writeUInt16BE(0, 6); // no answers
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    socket.send(reply.subarray(0, msg.length), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { port: socket.address().port, close: () => new Promise((r) => socket.close(() => r())) };
}

export function tempDir(prefix = 'ollama-tls-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A filesystem tree whose Debian-style system store holds exactly `caPem`. */
/**
 * A Debian tree whose every store holds only this CA: the bundle, /ca.pem, and an empty /empty
 * directory, for ONLY_CA_ENV (SSL_CERT_FILE, SSL_CERT_DIR and NODE_EXTRA_CA_CERTS pointing at them).
 */
export function onlyCaTree(caPem: string): string {
  const root = storeTree(caPem);
  writeFileSync(path.join(root, 'ca.pem'), caPem);
  mkdirSync(path.join(root, 'empty'));
  return root;
}

/** The environment that makes onlyCaTree's CA the only root each client reads, inside the tree. */
export const ONLY_CA_ENV = { SSL_CERT_FILE: '/ca.pem', SSL_CERT_DIR: '/empty', NODE_EXTRA_CA_CERTS: '/ca.pem' } as const;

export function storeTree(caPem: string): string {
  const root = tempDir('ollama-tls-root-');
  mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), caPem);
  writeFileSync(path.join(root, 'etc/os-release'), 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  return root;
}
