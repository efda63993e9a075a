// An https:// URL target is a service behind a proxy: after the handshake the doctor asks it
// Ollama's /api/version and /api/tags on the same connection, with the credentials given, and says
// who answered and why it refused. A real nginx on loopback stands in front of a fake Ollama, each
// server block (one port each) configured the way people front Ollama, rightly or wrongly.
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, runDoctorJson, type CliResult, type DoctorJson } from '../helpers/cli.js';
import { fakeOllama, type FakeOllama } from '../helpers/fake-ollama.js';
import { haveNginx, htpasswd, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { closedPort, listen, tempDir, track } from '../helpers/servers.js';

const HOST = 'ollama.test';
const USER = 'alice';
const PASSWORD = 'pa55-Wombat-7781';
const TOKEN = 's3cret-token';
/** Everything that must never be printed: the secrets and the header values carrying them. */
const SECRETS = [PASSWORD, TOKEN, Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), Buffer.from(`${USER}:wrong-password`).toString('base64'), 'wrong-password', 'wrong-token'];

const FRONTS = ['basic', 'bearer', 'bearerBare', 'open', 'badGateway', 'hostHeader', 'defaultPage', 'webapp'] as const;
type Front = (typeof FRONTS)[number];

describe.skipIf(!haveNginx())('upstream checks through a real nginx in front of a fake Ollama', () => {
  let ollama: FakeOllama;
  let nginx: RunningNginx<Front>;
  let caFile: string;
  let trusting: Record<string, string>;

  beforeAll(async () => {
    ollama = await fakeOllama({ version: '0.40.1', hostCheck: true });
    const dead = await closedPort();
    nginx = await startNginx({
      ports: FRONTS,
      hosts: [HOST],
      config: async ({ port, dir }) => {
        const users = await htpasswd(dir, { [USER]: PASSWORD, bob: 'another-password' });
        // Ollama listens on loopback and checks the Host: the proxy must pass a local one. The
        // X-Front header tells the fake which server block a request came through.
        const toOllama = (front: Front, extra = '') => `
      location / {
        proxy_pass http://127.0.0.1:${ollama.port};
        proxy_set_header Host localhost:11434;
        proxy_set_header X-Front ${front};${extra}
      }`;
        const stripAuth = '\n        proxy_set_header Authorization "";';
        return `
  map $http_authorization $token_ok {
    default 0;
    "Bearer ${TOKEN}" 1;
  }
  # HTTP Basic with an htpasswd file; the proxy's credentials are not passed on to Ollama.
  server {
    listen 127.0.0.1:${port.basic} ssl;
    server_name ${HOST};
    auth_basic "Ollama";
    auth_basic_user_file ${users};${toOllama('basic', stripAuth)}
  }
  # An API key checked by a map, saying so in a challenge.
  server {
    listen 127.0.0.1:${port.bearer} ssl;
    server_name ${HOST};
    add_header WWW-Authenticate 'Bearer realm="ollama"' always;
    if ($token_ok = 0) { return 401; }${toOllama('bearer', stripAuth)}
  }
  # The same check, with a bare 401 (no WWW-Authenticate), as most such configs have.
  server {
    listen 127.0.0.1:${port.bearerBare} ssl;
    server_name ${HOST};
    if ($token_ok = 0) { return 401; }${toOllama('bearerBare', stripAuth)}
  }
  # No check at all, and whatever Authorization the client sends reaches Ollama.
  server {
    listen 127.0.0.1:${port.open} ssl;
    server_name ${HOST};${toOllama('open')}
  }
  # Ollama is not running where proxy_pass points.
  server {
    listen 127.0.0.1:${port.badGateway} ssl;
    server_name ${HOST};
    location / {
      proxy_pass http://127.0.0.1:${dead};
    }
  }
  # The usual copy-paste: the public Host passed on, which Ollama refuses.
  server {
    listen 127.0.0.1:${port.hostHeader} ssl;
    server_name ${HOST};
    location / {
      proxy_pass http://127.0.0.1:${ollama.port};
      proxy_set_header Host $host;
      proxy_set_header X-Front hostHeader;
    }
  }
  # A freshly installed nginx: a welcome page at /, nothing else (its own 404 page).
  server {
    listen 127.0.0.1:${port.defaultPage} ssl;
    server_name ${HOST};
    root ${dir}/html;
    location = / {
      default_type text/html;
      return 200 '<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>';
    }
  }
  # Another service on every path.
  server {
    listen 127.0.0.1:${port.webapp} ssl;
    server_name ${HOST};
    location / {
      default_type text/html;
      return 200 '<!DOCTYPE html><html><head><title>Grafana</title></head><body>Grafana</body></html>';
    }
  }`;
      },
    });
    const dir = tempDir();
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, nginx.ca.certPem);
    // Go reads SSL_CERT_FILE instead of the system bundle: the go view trusts the test CA.
    trusting = { SSL_CERT_FILE: caFile, SSL_CERT_DIR: tempDir('ollama-tls-empty-') };
  });
  afterAll(async () => {
    await nginx?.close();
    await ollama?.close();
  });
  beforeEach(() => {
    ollama.seen.length = 0;
  });

  const url = (front: Front, p = '/') => `https://${HOST}:${nginx.ports[front]}${p}`;
  const resolve = (front: Front) => ['--resolve', `${HOST}:${nginx.ports[front]}:127.0.0.1`];
  const doctor = (front: Front, extra: string[] = [], env: Record<string, string> = trusting, p = '/') =>
    runDoctorJson([url(front, p), ...resolve(front), ...extra], env);
  const through = (front: Front) => ollama.seen.filter((s) => s.headers['x-front'] === front);
  const errorsOf = (t: DoctorJson['targets'][number]) => t.findings.filter((f) => f.code.startsWith('upstream-') && f.severity === 'error');

  function expectNoSecret(...results: CliResult[]): void {
    for (const r of results) {
      for (const secret of SECRETS) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
    }
  }

  describe('HTTP Basic (auth_basic)', () => {
    it('no credentials: upstream-auth-required naming the scheme and realm, exit 1', async () => {
      const { result, report } = await doctor('basic');
      const t = report.targets[0]!;
      expect(t.role).toBe('upstream');
      // TLS itself is fine: only the HTTP answer is the problem.
      expect(t.verdicts.find((v) => v.view === 'go')!.ok).toBe(true);
      const f = t.findings.find((x) => x.code === 'upstream-auth-required')!;
      expect(f.severity).toBe('error');
      expect(f.title).toContain('401');
      expect(f.title).toContain('Basic realm "Ollama"');
      expect(f.evidence).toContain('WWW-Authenticate: Basic realm="Ollama"');
      expect(f.detail).toContain('auth_basic');
      expect(f.fixes.map((x) => x.command)).toContain('ollama-tls doctor https://HOST/ --user USER:PASSWORD');
      expect(t.http!.exchanges).toMatchObject([{ method: 'GET', url: url('basic', '/api/version'), status: 401, server: expect.stringMatching(/^nginx/) }]);
      expect(t.http!.exchanges[0]!.auth).toBeUndefined();
      expect(t.http!.credentialsWithheld).toBeUndefined();
      // nginx refused it: nothing reached Ollama.
      expect(through('basic')).toEqual([]);
      expect(report.ok).toBe(false);
      expect(result.code).toBe(1);
    });

    it('a wrong password: upstream-auth-rejected, and the password is never printed', async () => {
      const { result, report } = await doctor('basic', ['--user', `${USER}:wrong-password`]);
      const t = report.targets[0]!;
      const f = t.findings.find((x) => x.code === 'upstream-auth-rejected')!;
      expect(f.severity).toBe('error');
      expect(f.title).toContain('basic');
      expect(f.title).toContain('401');
      expect(f.evidence).toContain('WWW-Authenticate: Basic realm="Ollama"');
      expect(t.findings.map((x) => x.code)).not.toContain('upstream-auth-required');
      expect(t.http!.exchanges).toMatchObject([{ status: 401, auth: 'basic' }]);
      expect(result.code).toBe(1);
      const text = await runCli(['doctor', '--verbose', url('basic'), ...resolve('basic'), '--user', `${USER}:wrong-password`], { env: trusting });
      expect(text.stdout).toContain('upstream');
      expect(text.code).toBe(1);
      expectNoSecret(result, text);
    });

    it('the right password: Ollama answers both requests, its version is reported, exit 0', async () => {
      const { result, report } = await doctor('basic', ['--user', `${USER}:${PASSWORD}`]);
      const t = report.targets[0]!;
      expect(errorsOf(t)).toEqual([]);
      expect(t.findings.map((f) => f.code)).not.toContain('upstream-not-ollama');
      expect(t.http!.exchanges).toMatchObject([
        { method: 'GET', url: url('basic', '/api/version'), status: 200, auth: 'basic', contentType: expect.stringContaining('application/json') },
        { method: 'GET', url: url('basic', '/api/tags'), status: 200, auth: 'basic' },
      ]);
      expect(t.http!.ollamaVersion).toBe(ollama.version);
      // Ollama got the requests with a local Host and without the proxy's credentials.
      expect(through('basic').map((s) => `${s.method} ${s.url}`)).toEqual(['GET /api/version', 'GET /api/tags']);
      expect(through('basic').every((s) => s.headers.host === 'localhost:11434' && s.headers.authorization === undefined)).toBe(true);
      expect(t.ok).toBe(true);
      expect(report.ok).toBe(true);
      expect(result.code).toBe(0);

      const text = await runCli(['doctor', '--verbose', url('basic'), ...resolve('basic'), '--user', `${USER}:${PASSWORD}`], { env: trusting });
      expect(text.stdout).toMatch(/GET  \/api\/version \(with basic credentials\)\n\s+200/);
      expect(text.stdout).toContain(ollama.version);
      expect(text.code).toBe(0);
      expectNoSecret(result, text);
    });

    it('--ca counts as trusted: the credentials are sent', async () => {
      // No SSL_CERT_FILE: only the user's own --ca vouches for the certificate.
      const { result, report } = await doctor('basic', ['--ca', caFile, '--user', `${USER}:${PASSWORD}`], {});
      const t = report.targets[0]!;
      expect(t.http!.credentialsWithheld).toBeUndefined();
      expect(t.http!.exchanges).toMatchObject([{ status: 200, auth: 'basic' }, { status: 200, auth: 'basic' }]);
      expect(errorsOf(t)).toEqual([]);
      expectNoSecret(result);
    });
  });

  describe('a bearer token checked by a map', () => {
    for (const front of ['bearer', 'bearerBare'] as const) {
      const challenge = front === 'bearer';
      it(`${challenge ? 'with' : 'without'} a WWW-Authenticate challenge: none, wrong, right`, async () => {
        const none = await doctor(front);
        const required = none.report.targets[0]!.findings.find((f) => f.code === 'upstream-auth-required')!;
        expect(required.severity).toBe('error');
        if (challenge) {
          expect(required.title).toContain('Bearer realm "ollama"');
          expect(required.evidence).toContain('WWW-Authenticate: Bearer realm="ollama"');
        } else {
          // No challenge: the doctor says what such a 401 usually is.
          expect(required.detail).toContain('without a WWW-Authenticate header');
          expect(required.evidence.some((e) => e.startsWith('WWW-Authenticate'))).toBe(false);
        }
        expect(required.fixes.map((x) => x.command)).toContain('ollama-tls doctor https://HOST/ --bearer-file token.txt');
        expect(none.result.code).toBe(1);

        const wrong = await doctor(front, ['--bearer', 'wrong-token']);
        const rejected = wrong.report.targets[0]!.findings.find((f) => f.code === 'upstream-auth-rejected')!;
        expect(rejected.title).toContain('bearer');
        expect(wrong.report.targets[0]!.http!.exchanges).toMatchObject([{ status: 401, auth: 'bearer' }]);
        expect(wrong.result.code).toBe(1);

        const right = await doctor(front, ['--bearer', TOKEN]);
        const t = right.report.targets[0]!;
        expect(errorsOf(t)).toEqual([]);
        expect(t.http!.exchanges).toMatchObject([{ status: 200, auth: 'bearer' }, { status: 200, auth: 'bearer' }]);
        expect(t.http!.ollamaVersion).toBe(ollama.version);
        expect(right.result.code).toBe(0);
        expect(through(front).map((s) => s.url)).toEqual(['/api/version', '/api/tags']);

        const text = await runCli(['doctor', '--verbose', url(front), ...resolve(front), '--bearer', TOKEN], { env: trusting });
        expect(text.stdout).toContain('(with bearer credentials)');
        expect(text.code).toBe(0);
        expectNoSecret(none.result, wrong.result, right.result, text);
      });
    }

    it('--bearer-file reads the token (trailing newline and all)', async () => {
      const file = path.join(tempDir(), 'token.txt');
      writeFileSync(file, `${TOKEN}\n`);
      const { result, report } = await doctor('bearer', ['--bearer-file', file]);
      const t = report.targets[0]!;
      expect(errorsOf(t)).toEqual([]);
      expect(t.http!.exchanges).toMatchObject([{ status: 200, auth: 'bearer' }, { status: 200, auth: 'bearer' }]);
      expect(result.code).toBe(0);
      const text = await runCli(['doctor', url('bearer'), ...resolve('bearer'), '--bearer-file', file], { env: trusting });
      expect(text.code).toBe(0);
      expectNoSecret(result, text);
    });
  });

  describe('credentials and an untrusted certificate', () => {
    it('are withheld: nginx sees none and asks for them, and the report says why', async () => {
      // No SSL_CERT_FILE, no --ca: Go does not trust the test CA.
      const { result, report } = await doctor('basic', ['--user', `${USER}:${PASSWORD}`], {});
      const t = report.targets[0]!;
      expect(t.verdicts.find((v) => v.view === 'go')!.ok).toBe(false);
      expect(t.http!.credentialsWithheld).toMatch(/not trusted/);
      expect(t.http!.exchanges).toMatchObject([{ status: 401 }]);
      expect(t.http!.exchanges[0]!.auth).toBeUndefined();
      const f = t.findings.find((x) => x.code === 'upstream-auth-required')!;
      expect(f.detail).toContain('Credentials were given but not sent, because the certificate is not trusted.');
      // The fix is trust, not the credentials the user already gave.
      expect(f.fixes.map((x) => x.title).join('\n')).toContain('--ca');
      expect(f.fixes.some((x) => x.command?.includes('--user'))).toBe(false);
      expect(through('basic')).toEqual([]);
      expect(result.code).toBe(1);
      const text = await runCli(['doctor', url('basic'), ...resolve('basic'), '--user', `${USER}:${PASSWORD}`], { env: {} });
      expect(text.stdout).toContain('credentials not sent: the certificate is not trusted');
      expectNoSecret(result, text);
    });

    it('are withheld from a proxy that would pass them on: the backend gets no Authorization', async () => {
      const untrusted = await doctor('open', ['--bearer', TOKEN], {});
      expect(untrusted.report.targets[0]!.http!.credentialsWithheld).toBeTruthy();
      expect(through('open').length).toBeGreaterThan(0);
      expect(through('open').every((s) => s.headers.authorization === undefined)).toBe(true);
      expectNoSecret(untrusted.result);

      // Trusted, the same proxy hands the token to Ollama: the header is really sent.
      ollama.seen.length = 0;
      const trusted = await doctor('open', ['--bearer', TOKEN]);
      expect(trusted.report.targets[0]!.http!.credentialsWithheld).toBeUndefined();
      expect(through('open').map((s) => s.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
      expectNoSecret(trusted.result);
    });
  });

  describe('what is behind the proxy', () => {
    it('an open proxy passing a local Host: Ollama, no upstream finding, exit 0', async () => {
      const { result, report } = await doctor('open');
      const t = report.targets[0]!;
      expect(t.findings.filter((f) => f.code.startsWith('upstream-'))).toEqual([]);
      expect(t.http!.exchanges.map((x) => `${x.method} ${x.url.replace(/^https:\/\/[^/]+/, '')} ${x.status}`)).toEqual(['GET /api/version 200', 'GET /api/tags 200']);
      expect(t.http!.ollamaVersion).toBe(ollama.version);
      expect(through('open').every((s) => s.headers.host === 'localhost:11434')).toBe(true);
      expect(result.code).toBe(0);
    });

    it('nothing listening behind it: 502, upstream-error', async () => {
      const { result, report } = await doctor('badGateway');
      const t = report.targets[0]!;
      const f = t.findings.find((x) => x.code === 'upstream-error')!;
      expect(f.severity).toBe('error');
      expect(f.title).toContain('502');
      expect(f.detail).toContain('could not get an answer from the service behind it');
      expect(f.detail).toContain('nginx');
      expect(t.http!.exchanges).toMatchObject([{ status: 502 }]);
      expect(result.code).toBe(1);
    });

    it('the public Host passed on: Ollama\'s empty 403, upstream-forbidden with the proxy_set_header fix', async () => {
      const { result, report } = await doctor('hostHeader');
      const t = report.targets[0]!;
      const f = t.findings.find((x) => x.code === 'upstream-forbidden')!;
      expect(f.severity).toBe('error');
      expect(f.title).toContain('403');
      expect(f.detail).toContain('Host header');
      expect(f.fixes.map((x) => x.command)).toContain('proxy_set_header Host localhost:11434;');
      // It was Ollama that refused, seeing the public name.
      expect(through('hostHeader').map((s) => s.headers.host)).toEqual([`${HOST}`]);
      expect(result.code).toBe(1);
    });

    it('a default nginx page at / and its 404 elsewhere: upstream-not-ollama, a warning only', async () => {
      const { result, report } = await doctor('defaultPage');
      const t = report.targets[0]!;
      const f = t.findings.find((x) => x.code === 'upstream-not-ollama')!;
      expect(f.severity).toBe('warning');
      expect(f.detail).toContain('404');
      expect(f.detail).not.toContain('an Ollama is there');
      expect(t.http!.exchanges).toMatchObject([{ url: url('defaultPage', '/api/version'), status: 404 }]);
      expect(t.http!.ollamaVersion).toBeUndefined();
      // Warnings do not fail the run.
      expect(t.ok).toBe(true);
      expect(report.ok).toBe(true);
      expect(result.code).toBe(0);
    });

    it('another service answering 200 on every path: upstream-not-ollama', async () => {
      const { result, report } = await doctor('webapp');
      const t = report.targets[0]!;
      const f = t.findings.find((x) => x.code === 'upstream-not-ollama')!;
      expect(f.severity).toBe('warning');
      expect(f.detail).toContain('200');
      expect(t.http!.exchanges[0]).toMatchObject({ url: url('webapp', '/api/version'), status: 200, contentType: 'text/html' });
      expect(t.http!.ollamaVersion).toBeUndefined();
      expect(result.code).toBe(0);
    });

    it('a given path: exactly that request', async () => {
      const { result, report } = await doctor('basic', ['--user', `${USER}:${PASSWORD}`], trusting, '/api/tags');
      const t = report.targets[0]!;
      expect(t.http!.exchanges).toMatchObject([{ method: 'GET', url: url('basic', '/api/tags'), status: 200, auth: 'basic' }]);
      expect(t.http!.exchanges).toHaveLength(1);
      expect(through('basic').map((s) => `${s.method} ${s.url}`)).toEqual(['GET /api/tags']);
      expect(result.code).toBe(0);
      expectNoSecret(result);
    });
  });
});

describe('credential flags', () => {
  it('--user without an https:// target: exit 2', async () => {
    for (const args of [['--user', 'a:b'], ['ollama.test:443', '--user', 'a:b'], ['ollama.test:443', '--bearer', 'tok']]) {
      const res = await runCli(['doctor', ...args]);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain('https://');
    }
  });

  it('--user without a colon: exit 2, the value not echoed', async () => {
    const res = await runCli(['doctor', 'https://ollama.test/', '--user', 'nocolonsecret']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--user');
    expect(res.stderr).not.toContain('nocolonsecret');
  });

  it('--bearer-file that cannot be read: exit 2', async () => {
    const res = await runCli(['doctor', 'https://ollama.test/', '--bearer-file', '/nonexistent/token.txt']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--bearer-file');
  });
});

describe('an Ollama answering directly over TLS', () => {
  /** An https server that answers /api/version with `version` (and 404 elsewhere), trusted through SSL_CERT_FILE. */
  async function directOllama(version: string): Promise<{ port: number; env: Record<string, string>; close(): Promise<void> }> {
    const ca = await makeCa('Direct Ollama Test CA');
    const leaf = await issueLeaf(ca, [HOST]);
    const server = https.createServer({ key: leaf.keyPem, cert: leaf.chainPem }, (req, res) => {
      if (req.url === '/api/version') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ version }));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found');
      }
    });
    await listen(server);
    const running = track(server);
    const file = path.join(tempDir(), 'ca.pem');
    writeFileSync(file, ca.certPem);
    return { port: running.port, env: { SSL_CERT_FILE: file, SSL_CERT_DIR: tempDir('ollama-tls-empty-') }, close: running.close };
  }

  it('an old version: ollama-version-vulnerable names CVE-2024-37032 (code execution: an error)', async () => {
    const s = await directOllama('0.1.33');
    try {
      const { result, report } = await runDoctorJson([`https://${HOST}:${s.port}/`, '--resolve', `${HOST}:${s.port}:127.0.0.1`], s.env);
      const t = report.targets[0]!;
      expect(t.http!.ollamaVersion).toBe('0.1.33');
      const f = t.findings.find((x) => x.code === 'ollama-version-vulnerable')!;
      expect(f.severity).toBe('error');
      expect(`${f.title} ${f.detail}`).toContain('CVE-2024-37032');
      // Loopback is not exposed to the network, however open it is.
      expect(t.findings.map((x) => x.code)).not.toContain('ollama-exposed');
      // /api/tags answered 404 (a given Ollama-like server without it): reported as an exchange, not an error.
      expect(result.code).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('a current version: no advisory', async () => {
    const s = await directOllama('0.40.1');
    try {
      const { report } = await runDoctorJson([`https://${HOST}:${s.port}/api/version`, '--resolve', `${HOST}:${s.port}:127.0.0.1`], s.env);
      const t = report.targets[0]!;
      expect(t.http!.exchanges).toHaveLength(1);
      expect(t.http!.ollamaVersion).toBe('0.40.1');
      expect(t.findings.map((x) => x.code)).not.toContain('ollama-version-vulnerable');
      expect(t.ok).toBe(true);
    } finally {
      await s.close();
    }
  });
});
