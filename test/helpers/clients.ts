// Real clients, asked to connect to a loopback server, and what each one prints when it fails.
// These are the texts `explain` must recognise: not made up, produced here and now.
import { execFile } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { goClientBinary, goSays } from './cli.js';
import { tempDir } from './servers.js';

export interface Peer {
  port: number;
  /** Name to ask for (SNI and verification); 127.0.0.1 for IP scenarios. */
  name: string;
  /** The CA a correctly configured client trusts. */
  caPem: string;
}

function caFile(peer: Peer): string {
  const file = path.join(tempDir('ollama-tls-ca-'), 'ca.pem');
  writeFileSync(file, peer.caPem);
  return file;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Node's https.get, printed the way Node prints an uncaught error: message, then the code. */
export function nodeSays(peer: Peer): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = https.get({
      host: '127.0.0.1', port: peer.port, path: '/', servername: peer.name === '127.0.0.1' ? undefined : peer.name,
      ca: [...tls.rootCertificates, peer.caPem], agent: false,
      checkServerIdentity: (_h, cert) => tls.checkServerIdentity(peer.name, cert),
    }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`Error: ${e.message}\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1677:34) {\n  code: '${e.code}'\n}`));
  });
}

export async function curlSays(peer: Peer): Promise<string | undefined> {
  const url = `https://${peer.name}:${peer.port}/`;
  const r = await run('curl', ['-sS', '-o', '/dev/null', '--cacert', caFile(peer), ...(peer.name === '127.0.0.1' ? [] : ['--resolve', `${peer.name}:${peer.port}:127.0.0.1`]), url]);
  return r.code === 0 ? undefined : r.out.trim();
}

/** `openssl s_client`, whose verify lines and return code go to stdout. */
export async function opensslSays(peer: Peer): Promise<string | undefined> {
  const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${peer.port}`, '-CAfile', caFile(peer),
    ...(peer.name === '127.0.0.1' ? ['-verify_ip', '127.0.0.1'] : ['-servername', peer.name, '-verify_hostname', peer.name])], process.env);
  const lines = r.out.split('\n').filter((l) => /verify error|Verify return code/.test(l));
  return lines.some((l) => /verify error|Verify return code: [1-9]/.test(l)) ? lines.join('\n') : undefined;
}

const PYTHON = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as s:
    with ctx.wrap_socket(s, server_hostname=sys.argv[2]) as t:
        pass
`;

export async function pythonSays(peer: Peer): Promise<string | undefined> {
  const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;
  if (!python) return undefined;
  const r = await run(python, ['-c', PYTHON, String(peer.port), peer.name, caFile(peer)]);
  if (r.code === 0) return undefined;
  return r.out.trim().split('\n').filter((l) => /Error|error/.test(l)).pop();
}

export async function goClientSays(peer: Peer): Promise<string | undefined> {
  const bin = goClientBinary();
  if (!bin) return undefined;
  const file = caFile(peer);
  const out = await goSays(bin, `127.0.0.1:${peer.port}`, peer.name, { SSL_CERT_FILE: file, SSL_CERT_DIR: path.dirname(file) });
  return out === 'ok' ? undefined : out;
}

/** `openssl verify` on the served chain, the way people check a chain file by hand. */
export async function opensslVerifySays(peer: Peer, chainPem: string): Promise<string | undefined> {
  const certs = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  const dir = tempDir('ollama-tls-verify-');
  writeFileSync(path.join(dir, 'leaf.pem'), certs[0] ?? '');
  writeFileSync(path.join(dir, 'rest.pem'), certs.slice(1).join('') || (certs[0] ?? ''));
  const args = ['verify', '-CAfile', caFile(peer), '-untrusted', path.join(dir, 'rest.pem'), '-purpose', 'sslserver',
    ...(peer.name === '127.0.0.1' ? ['-verify_ip', '127.0.0.1'] : ['-verify_hostname', peer.name]), path.join(dir, 'leaf.pem')];
  const r = await run('openssl', args);
  return r.code === 0 ? undefined : r.out.trim();
}
