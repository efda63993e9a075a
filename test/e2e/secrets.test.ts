// Secrets never leave the tool: every credential form (proxy URLs that parse and ones that do
// not, --user, --bearer, --bearer-file, --password for PKCS#12, HTTPS_PROXY with NO_PROXY) goes
// through every output (text, --json, --verbose, errors, saved files, trust --compose's output
// and the override it writes), and the raw bytes are searched for the secret in every encoding
// it could take: as given, percent-encoded, percent-decoded, and base64 inside a Basic header.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactProxyUrl } from '../../src/platform/redact.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeCa } from '../helpers/pki.js';
import { closedPort, tempDir, track, type Running } from '../helpers/servers.js';

const run = promisify(execFile);

/** Every form a secret could be printed in. */
function forms(secret: string, user = 'alice'): string[] {
  const out = new Set([secret, encodeURIComponent(secret), Buffer.from(`${user}:${secret}`).toString('base64'), Buffer.from(secret).toString('base64')]);
  try { out.add(decodeURIComponent(secret)); } catch { /* not percent-encoded */ }
  // Pieces: a raw "/", "#", "?" or "@" splits a password; the part after it must not show either.
  for (const piece of secret.split(/[/#?@ ]|%40|%23/)) if (piece.length >= 6) out.add(piece);
  return [...out];
}

function assertNoLeak(where: string, text: string, secret: string): void {
  for (const f of forms(secret)) expect(text.includes(f), `${where} shows "${f}" (from secret ${secret}):\n${text.slice(0, 2000)}`).toBe(false);
}

const outputs = (r: CliResult) => `${r.stdout}\n${r.stderr}`;

let closed: number;
let auth407: Running;
let dir: string;
let caFile: string;

beforeAll(async () => {
  closed = await closedPort();
  // A proxy that asks for credentials (407) to whatever it is sent, so proxy-auth paths print too.
  const server = net.createServer((s) => {
    s.once('data', () => s.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  auth407 = track(server);
  dir = tempDir('ollama-tls-secrets-');
  const ca = await makeCa('Secrets Test CA', 'Secrets Tests');
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
});

afterAll(async () => {
  await auth407?.close();
});

// Each proxy form with its own secret, so a leak names the form that leaked.
const proxyForms = (port: () => number) => [
  { name: 'plain', value: () => `http://alice:S3cretPlain01@127.0.0.1:${port()}`, secret: 'S3cretPlain01' },
  { name: 'slash in password', value: () => `http://alice:pa/S3cretSlash02@127.0.0.1:${port()}`, secret: 'pa/S3cretSlash02' },
  { name: 'raw # in password', value: () => `http://alice:pa#S3cretHash03@127.0.0.1:${port()}`, secret: 'pa#S3cretHash03' },
  { name: 'raw ? in password', value: () => `http://alice:pa?S3cretQuery04@127.0.0.1:${port()}`, secret: 'pa?S3cretQuery04' },
  { name: 'digits ? in password', value: () => `http://alice:12?S3cretDigits05@127.0.0.1:${port()}`, secret: '12?S3cretDigits05' },
  { name: 'space in host', value: () => `http://alice:S3cretSpace06@127.0.0 .1:${port()}`, secret: 'S3cretSpace06' },
  { name: 'scheme without colon', value: () => `ftp//alice:S3cretFtp07@127.0.0.1:${port()}`, secret: 'S3cretFtp07' },
  { name: 'no scheme', value: () => `alice:S3cretNoScheme08@127.0.0.1:${port()}`, secret: 'S3cretNoScheme08' },
  { name: 'percent-encoded @', value: () => `http://alice:S3cret%40Enc09@127.0.0.1:${port()}`, secret: 'S3cret%40Enc09' },
  { name: 'socks5 with password', value: () => `socks5h://alice:S3cretSocks10@127.0.0.1:${port()}`, secret: 'S3cretSocks10' },
  { name: 'token as user name', value: () => `http://S3cretTokenUser11@127.0.0.1:${port()}`, secret: 'S3cretTokenUser11' },
];

describe('redactProxyUrl', () => {
  it('never returns any form of the password, for every proxy form', () => {
    for (const f of proxyForms(() => 3128)) assertNoLeak(f.name, redactProxyUrl(f.value()), f.secret);
  });

  it('keeps what is not secret: scheme, user, host and port of a URL that parses', () => {
    expect(redactProxyUrl('http://alice:pw@proxy.corp:3128')).toBe('http://alice:***@proxy.corp:3128');
    expect(redactProxyUrl('alice:pw@proxy.corp:3128')).toBe('alice:***@proxy.corp:3128');
    expect(redactProxyUrl('http://alice:pa/pw@proxy.corp:3128')).toBe('http://***@proxy.corp:3128 (unparsable, 34 chars)');
    expect(redactProxyUrl('alice:pw')).toBe('(unparsable, 8 chars)');
  });
});

describe('doctor: proxy credentials through text, --json, --verbose and errors', () => {
  for (const [label, port] of [['unreachable proxy', () => closed], ['proxy answering 407', () => auth407.port]] as const) {
    for (const f of proxyForms(port)) {
      it(`${label}, ${f.name}: HTTPS_PROXY, https_proxy, --proxy, with and without NO_PROXY`, async () => {
        const target = ['registry.secrets.example:443', '--timeout', '2000'];
        const runs: [string, Promise<CliResult>][] = [
          ['text', runCli(['doctor', ...target], { env: { HTTPS_PROXY: f.value() } })],
          ['--json', runCli(['doctor', ...target, '--json'], { env: { https_proxy: f.value() } })],
          ['--verbose', runCli(['doctor', ...target, '--verbose'], { env: { HTTPS_PROXY: f.value() } })],
          ['--proxy', runCli(['doctor', ...target, '--proxy', f.value(), '--json'])],
          ['NO_PROXY bypass', runCli(['doctor', '127.0.0.1:1', '--timeout', '2000', '--json'], { env: { HTTPS_PROXY: f.value(), NO_PROXY: 'secrets.example,127.0.0.1' } })],
        ];
        for (const [how, p] of runs) {
          const r = await p;
          expect([0, 1, 2], `${how}: ${r.stderr}`).toContain(r.code);
          assertNoLeak(`${f.name} via ${how}`, outputs(r), f.secret);
        }
      }, 60_000);
    }
  }
});

describe('doctor: upstream and client-certificate credentials', () => {
  it('--user, --bearer, --bearer-file and --password never appear, in any output or saved file', async () => {
    const bearerFile = path.join(dir, 'token.txt');
    writeFileSync(bearerFile, 'S3cretBearerFile12\n');
    const p12 = path.join(dir, 'client.p12');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'c.key'), '-out', path.join(dir, 'c.pem'), '-days', '30', '-subj', '/CN=client']);
    await run('openssl', ['pkcs12', '-export', '-in', path.join(dir, 'c.pem'), '-inkey', path.join(dir, 'c.key'), '-passout', 'pass:S3cretP12pw13', '-out', p12]);
    const saved = path.join(dir, 'saved-chain.pem');
    const cases: [string, string[]][] = [
      ['S3cretUser14', ['--user', 'alice:S3cretUser14']],
      ['S3cretBearer15', ['--bearer', 'S3cretBearer15']],
      ['S3cretBearerFile12', ['--bearer-file', bearerFile]],
      ['S3cretP12pw13', ['--pkcs12', p12, '--password', 'S3cretP12pw13']],
      ['S3cretWrongP12pw16', ['--pkcs12', p12, '--password', 'S3cretWrongP12pw16']],
    ];
    for (const [secret, flags] of cases) {
      for (const extra of [[], ['--json'], ['--verbose', '--save-chain', saved]]) {
        const r = await runCli(['doctor', `https://127.0.0.1:${closed}/`, ...flags, ...extra, '--timeout', '2000']);
        assertNoLeak(`${flags[0]} ${extra.join(' ')}`, outputs(r), secret);
      }
      // A usage error that echoes the flags: a non-https target with credentials.
      const misuse = await runCli(['doctor', '127.0.0.1:1', ...flags]);
      assertNoLeak(`${flags[0]} misuse`, outputs(misuse), secret);
    }
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.p12') || name === 'token.txt') continue; // the inputs themselves
      for (const [secret] of cases) assertNoLeak(`file ${name}`, readFileSync(path.join(dir, name)).toString('latin1'), secret);
    }
  }, 120_000);

  it('trust --ca with a PKCS#12 --password: not in the output, the plan or any file written', async () => {
    const p12 = path.join(dir, 'ca.p12');
    await run('openssl', ['pkcs12', '-export', '-nokeys', '-in', caFile, '-passout', 'pass:S3cretTrustP12pw17', '-out', p12]);
    const tree = tempDir('ollama-tls-secrets-tree-');
    for (const pw of ['S3cretTrustP12pw17', 'S3cretWrongTrust18']) {
      const r = await runCli(['trust', '--ca', p12, '--password', pw, '--root', tree, '--yes']);
      assertNoLeak('trust --password', outputs(r), pw);
    }
    const files = (await run('find', [tree, '-type', 'f'])).stdout.trim().split('\n').filter(Boolean);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) for (const pw of ['S3cretTrustP12pw17', 'S3cretWrongTrust18']) assertNoLeak(file, readFileSync(file).toString('latin1'), pw);
  });
});

describe('trust --compose: the proxy advice and the override written', () => {
  it('shows HTTPS_PROXY with the password masked, for every proxy form, and writes none of it', async () => {
    for (const f of proxyForms(() => 3128)) {
      const project = tempDir('ollama-tls-secrets-compose-');
      writeFileSync(path.join(project, 'compose.yaml'), 'services:\n  ollama:\n    image: ollama/ollama\n');
      const r = await runCli(['trust', '--ca', caFile, '--compose', path.join(project, 'compose.yaml'), '--yes'], { env: { HTTPS_PROXY: f.value() } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('HTTPS_PROXY');
      assertNoLeak(`compose ${f.name} output`, outputs(r), f.secret);
      for (const name of readdirSync(project)) assertNoLeak(`compose ${f.name} ${name}`, readFileSync(path.join(project, name)).toString('latin1'), f.secret);
    }
  }, 60_000);
});
