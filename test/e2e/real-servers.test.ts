// The doctor against servers nobody on the team wrote: Go's net/http TLS server (HTTP/2 by
// default), Caddy (Debian's, HTTP/2 by default, basicauth), nginx with http2, each in front of the
// fake Ollama or serving the pull path; plus the one fault real servers do not produce here (an
// HTTP/1.0 answer without keep-alive, our own). Every case holds the doctor's verdict (ok, exit
// code, findings, the protocol spoken) against what Go's net/http client (as Ollama: default
// transport, ProxyFromEnvironment, redirects followed) and curl --http2 get from the same server.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, goClientBinary, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { caddyHash, haveCaddy, startCaddy, type RunningCaddy } from '../helpers/caddy.js';
import { fakeOllama, type FakeOllama } from '../helpers/fake-ollama.js';
import { startGoServer, type RunningGoServer } from '../helpers/go-servers.js';
import { http10Registry, serve10 } from '../helpers/http10.js';
import { haveNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import { squidBinary, startSquid } from '../helpers/proxies.js';
import { listen, tempDir, track } from '../helpers/servers.js';

const USER = 'alice';
const PASSWORD = 'Caddy-pa55-9123';
const GO = goClientBinary('httpsget');

/** Go's roots and curl's CA file: only the test CA. */
function trust(ca: TestCa): { env: Record<string, string>; caFile: string } {
  const caFile = path.join(tempDir(), 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  return { caFile, env: { SSL_CERT_FILE: caFile, SSL_CERT_DIR: tempDir('ollama-tls-empty-') } };
}

interface ClientSays {
  ok: boolean;
  /** h2, http/1.1, http/1.0: in the doctor's words. */
  protocol?: string;
  status?: number;
  /** host:port the last answer came from (after redirects). */
  host?: string;
  text: string;
}

/** Go's net/http client, as Ollama's: GET, redirects followed; names pointed at loopback. */
function goGet(url: string, caEnv: Record<string, string>, resolve: Record<string, string>): Promise<ClientSays> {
  return new Promise((done) => {
    const env = cliEnv({ ...caEnv, HTTPSGET_RESOLVE: Object.entries(resolve).map(([n, a]) => `${n}=${a}`).join(',') });
    execFile(GO!, [url, 'detail'], { env, timeout: 30_000 }, (_e, stdout) => {
      const m = /^ok (HTTP\/[\d.]+) (\d+) (\S+)$/.exec(stdout.trim());
      done(m
        ? { ok: Number(m[2]) < 400, protocol: m[1] === 'HTTP/2.0' ? 'h2' : m[1]!.toLowerCase(), status: Number(m[2]), host: m[3]!, text: stdout.trim() }
        : { ok: false, text: stdout.trim() });
    });
  });
}

/** curl's %{http_version} (it prints "1" for HTTP/1.0) in the doctor's words. */
const CURL_VERSIONS: Record<string, string> = { 1: 'http/1.0', '1.0': 'http/1.0', '1.1': 'http/1.1', 2: 'h2' };

/** curl --http2 (h2 offered in ALPN, as Go does), redirects followed, the test CA only. */
function curlGet(url: string, caFile: string, resolve: string[], extra: string[] = []): Promise<ClientSays> {
  return new Promise((done) => {
    // (A proxy, when wanted, comes as -x in extra: cliEnv drops the proxy variables.)
    const args = ['-sS', '--http2', '-L', '-o', '/dev/null', '--cacert', caFile, ...resolve.flatMap((r) => ['--resolve', r]), '-w', '%{http_version} %{http_code} %{url_effective}', ...extra, url];
    execFile('curl', args, { env: cliEnv(), timeout: 30_000 }, (_e, stdout, stderr) => {
      const m = /^([\d.]+) (\d+) https:\/\/(?:[^@/]*@)?([^/]+)/.exec(stdout.trim());
      done(m
        ? { ok: Number(m[2]) < 400 && Number(m[2]) > 0, protocol: CURL_VERSIONS[m[1]!] ?? m[1]!, status: Number(m[2]), host: m[3]!, text: stdout.trim() }
        : { ok: false, text: `${stdout}${stderr}`.trim() });
    });
  });
}

type Target = DoctorJson['targets'][number];
const protocols = (t: Target) => [...new Set(t.http!.exchanges.map((x) => x.protocol))];
const codes = (t: Target) => t.findings.filter((f) => f.severity !== 'info').map((f) => f.code);
/** Findings other than Node's own trust opinion (the test CA is only in Go's roots, by design). */
const beyondNode = (t: Target) => codes(t).filter((c) => !(c === 'untrusted-root' && t.verdicts.find((v) => v.view === 'go')!.ok));

/** What the doctor and both reference clients agreed on, collected for the summary at the end. */
const agreement: { case: string; doctor: boolean; go: boolean; curl: boolean; protocol: string }[] = [];
function agree(name: string, doctorOk: boolean, go: ClientSays, curl: ClientSays, protocol: string) {
  agreement.push({ case: name, doctor: doctorOk, go: go.ok, curl: curl.ok, protocol });
  expect({ go: go.ok, curl: curl.ok }, `${name}: go said ${go.text}; curl said ${curl.text}`).toEqual({ go: doctorOk, curl: doctorOk });
  expect({ go: go.protocol, curl: curl.protocol }, name).toEqual({ go: protocol, curl: protocol });
}

afterAll(() => {
  // One line per case, for the report: doctor, Go and curl verdicts and the protocol all three spoke.
  console.log(agreement.map((a) => `${a.case}: doctor ${a.doctor ? 'ok' : 'problem'}, go ${a.go ? 'ok' : 'problem'}, curl ${a.curl ? 'ok' : 'problem'} (${a.protocol})`).join('\n'));
});

describe.skipIf(!GO)('Go net/http TLS servers (HTTP/2 by default)', () => {
  const HOST = 'ollama.test';
  const servers: RunningGoServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const start = async (o: Parameters<typeof startGoServer>[0]) => {
    const s = (await startGoServer(o))!;
    servers.push(s);
    return s;
  };

  for (const variant of [
    { name: 'HTTP/2', opts: {}, protocol: 'h2' },
    { name: 'HTTP/1.1 only', opts: { h1: true }, protocol: 'http/1.1' },
    { name: 'HTTP/2, GOAWAY after every answer', opts: { close: true }, protocol: 'h2' },
    { name: 'HTTP/1.1, Connection: close on every answer', opts: { h1: true, close: true }, protocol: 'http/1.1' },
  ]) {
    it(`an Ollama API, ${variant.name}: exit 0, the version read, as Go and curl`, async () => {
      const s = await start({ mode: 'ollama', hosts: [HOST], version: '0.41.0', ...variant.opts });
      const { env, caFile } = trust(s.ca);
      const url = `https://${HOST}:${s.port}/`;
      const { result, report } = await runDoctorJson([url, '--resolve', `${HOST}:${s.port}:127.0.0.1`], env);
      const t = report.targets[0]!;
      expect(t.tls!.alpn).toBe(variant.protocol);
      expect(t.http!.exchanges.map((x) => `${x.method} ${x.url.replace(/^https:\/\/[^/]+/, '')} ${x.status}`)).toEqual(['GET /api/version 200', 'GET /api/tags 200']);
      expect(protocols(t)).toEqual([variant.protocol]);
      expect(t.http!.ollamaVersion).toBe('0.41.0');
      expect(beyondNode(t)).toEqual([]);
      expect(result.code, result.stdout).toBe(0);
      // Go's server saw both requests, in the protocol the doctor reports.
      expect(s.seen.map((x) => `${x.proto} ${x.uri}`)).toEqual([`${variant.protocol === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1'} /api/version`, `${variant.protocol === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1'} /api/tags`]);
      if (variant.opts.close) {
        // A new connection for the second request, as Go's Transport makes one.
        const conns = t.http!.connections!;
        expect(conns.map((c) => c.chain)).toEqual(['same', 'same']);
        expect(conns[1]!.reason).toMatch(variant.protocol === 'h2' ? /GOAWAY/ : /Connection: close/);
      } else {
        expect(t.http!.connections).toBeUndefined();
      }
      const api = `https://${HOST}:${s.port}/api/version`;
      agree(`go server ${variant.name}`, report.ok, await goGet(api, env, { [HOST]: '127.0.0.1' }), await curlGet(api, caFile, [`${HOST}:${s.port}:127.0.0.1`]), variant.protocol);
    });
  }

  for (const variant of [
    { name: 'HTTP/2', opts: {}, protocol: 'h2' },
    { name: 'HTTP/2, GOAWAY after every answer', opts: { close: true }, protocol: 'h2' },
    { name: 'HTTP/1.1, Connection: close on every answer', opts: { h1: true, close: true }, protocol: 'http/1.1' },
  ]) {
    it(`the pull path, ${variant.name}: the registry and the blob host on another name, both reached, exit 0`, async () => {
      const s = await start({ mode: 'registry', hosts: ['registry.test'], blobHost: 'blobs.test', ...variant.opts });
      const { env, caFile } = trust(s.ca);
      const resolve = [`registry.test:${s.port}:127.0.0.1`, `blobs.test:${s.blobPort}:127.0.0.1`];
      const { result, report } = await runDoctorJson(['--model', `registry.test:${s.port}/library/tiny`, ...resolve.flatMap((r) => ['--resolve', r])], env);
      expect(report.pull!.hosts).toEqual([`registry.test:${s.port}`, `blobs.test:${s.blobPort}`]);
      expect(report.pull!.fallback).toBeNull();
      const [registry, blobs] = report.targets as [Target, Target];
      expect(registry.http!.exchanges.map((x) => x.status)).toEqual([200, 307, 307]);
      expect(blobs.http!.exchanges.map((x) => x.status)).toEqual([200, 206]);
      for (const t of [registry, blobs]) {
        expect(t.tls!.alpn).toBe(variant.protocol);
        expect(protocols(t)).toEqual([variant.protocol]);
        expect(beyondNode(t)).toEqual([]);
      }
      expect(result.code, result.stdout).toBe(0);
      // What Go's server saw: every request in that protocol; the blob host a one-byte range.
      const proto = variant.protocol === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1';
      expect(s.seen.map((x) => `${x.listener} ${x.proto} ${x.method}`)).toEqual([
        `main ${proto} GET`, `main ${proto} HEAD`, `main ${proto} GET`, `blobs ${proto} HEAD`, `blobs ${proto} GET`,
      ]);
      expect(s.seen[4]!.range).toBe('bytes=0-0');
      if (variant.opts.close) expect(registry.http!.connections).toHaveLength(3);
      // Go and curl follow the blob URL's redirect to the other host, in the same protocol.
      const blobUrl = `https://registry.test:${s.port}/v2/library/tiny/blobs/${report.pull!.digest}`;
      const go = await goGet(blobUrl, env, { 'registry.test': '127.0.0.1', 'blobs.test': '127.0.0.1' });
      const curl = await curlGet(blobUrl, caFile, resolve);
      expect([go.host, curl.host]).toEqual([`blobs.test:${s.blobPort}`, `blobs.test:${s.blobPort}`]);
      agree(`go registry ${variant.name}`, report.ok, go, curl, variant.protocol);
    });
  }
});

describe.skipIf(!GO || !squidBinary())('the pull path through Squid to a Go server that sends GOAWAY after every answer', () => {
  it('each new connection goes through the proxy again (a new CONNECT), both hosts reached, exit 0, as Go and curl', async () => {
    const s = (await startGoServer({ mode: 'registry', hosts: ['registry.test'], blobHost: 'blobs.test', close: true }))!;
    const squid = await startSquid({ hosts: { 'registry.test': '127.0.0.1', 'blobs.test': '127.0.0.1' } });
    try {
      const { env, caFile } = trust(s.ca);
      const proxyEnv = { ...env, HTTPS_PROXY: `http://127.0.0.1:${squid.port}` };
      const { result, report } = await runDoctorJson(['--model', `registry.test:${s.port}/library/tiny`], proxyEnv);
      const [registry, blobs] = report.targets as [Target, Target];
      expect(report.pull!.hosts).toEqual([`registry.test:${s.port}`, `blobs.test:${s.blobPort}`]);
      expect(registry.proxy).toMatchObject({ used: true });
      expect(registry.http!.connections!.map((c) => c.reason)).toEqual(['first', 'the server sent GOAWAY (NO_ERROR)', 'the server sent GOAWAY (NO_ERROR)']);
      expect(protocols(registry)).toEqual(['h2']);
      expect(protocols(blobs)).toEqual(['h2']);
      expect(result.code, result.stdout).toBe(0);
      // Squid saw one CONNECT per connection: three to the registry, two to the blob host (it logs a
      // tunnel when it closes: give the last one a moment).
      const connects = () => ['registry.test:' + s.port, 'blobs.test:' + s.blobPort].map((host) => squid.accessLog().split('\n').filter((l) => l.includes(`CONNECT ${host}`)).length);
      for (let i = 0; i < 40 && connects().join() !== '3,2'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(connects()).toEqual([3, 2]);
      const blobUrl = `https://registry.test:${s.port}/v2/library/tiny/blobs/${report.pull!.digest}`;
      const go = await goGet(blobUrl, proxyEnv, {});
      const curl = await curlGet(blobUrl, caFile, [], ['-x', `http://127.0.0.1:${squid.port}`]);
      expect([go.host, curl.host]).toEqual([`blobs.test:${s.blobPort}`, `blobs.test:${s.blobPort}`]);
      agree('go registry via Squid, GOAWAY after every answer', report.ok, go, curl, 'h2');
    } finally {
      await squid.close();
      await s.close();
    }
  });
});

describe.skipIf(!haveCaddy() || !GO)('Caddy with basicauth in front of the fake Ollama', () => {
  const HOST = 'ollama.test';
  let ollama: FakeOllama;
  const caddies: RunningCaddy[] = [];
  let hash: string;
  beforeAll(async () => {
    ollama = await fakeOllama({ version: '0.40.1', hostCheck: true });
    hash = await caddyHash(PASSWORD);
  });
  afterAll(async () => {
    await Promise.all(caddies.map((c) => c.close()));
    await ollama?.close();
  });

  for (const variant of [{ name: 'HTTP/2 (its default)', protocols: ['h1', 'h2'] as ('h1' | 'h2')[], protocol: 'h2' }, { name: 'HTTP/1.1 only', protocols: ['h1'] as ('h1' | 'h2')[], protocol: 'http/1.1' }]) {
    it(`${variant.name}: without credentials upstream-auth-required naming Basic; with them exit 0 and the version`, async () => {
      // Caddy 2.6 spells it basicauth (basic_auth from 2.8 on).
      const caddy = await startCaddy({
        host: HOST, protocols: variant.protocols,
        site: `\tbasicauth {\n\t\t${USER} ${hash}\n\t}\n\treverse_proxy 127.0.0.1:${ollama.port} {\n\t\theader_up Host localhost:11434\n\t}`,
      });
      caddies.push(caddy);
      const { env, caFile } = trust(caddy.ca);
      const url = `https://${HOST}:${caddy.port}/`;
      const resolve = `${HOST}:${caddy.port}:127.0.0.1`;

      const without = await runDoctorJson([url, '--resolve', resolve], env);
      const t = without.report.targets[0]!;
      expect(t.tls!.alpn).toBe(variant.protocol);
      expect(protocols(t)).toEqual([variant.protocol]);
      const auth = t.findings.find((f) => f.code === 'upstream-auth-required')!;
      expect(auth.title).toMatch(/401, Basic/);
      expect(auth.evidence.join('\n')).toMatch(/WWW-Authenticate: Basic realm="restricted"/);
      expect(without.result.code).toBe(1);
      const api = `https://${HOST}:${caddy.port}/api/version`;
      agree(`caddy ${variant.name} without credentials`, without.report.ok, await goGet(api, env, { [HOST]: '127.0.0.1' }), await curlGet(api, caFile, [resolve]), variant.protocol);

      const withCreds = await runDoctorJson([url, '--resolve', resolve, '--user', `${USER}:${PASSWORD}`], env);
      const w = withCreds.report.targets[0]!;
      expect(w.http!.exchanges.map((x) => `${x.status} ${x.auth}`)).toEqual(['200 basic', '200 basic']);
      expect(protocols(w)).toEqual([variant.protocol]);
      expect(w.http!.ollamaVersion).toBe('0.40.1');
      expect(beyondNode(w)).toEqual([]);
      expect(withCreds.result.code, withCreds.result.stdout).toBe(0);
      expect(withCreds.result.stdout).not.toContain(PASSWORD);
      // Go sends the URL's user info as Basic credentials; curl -u.
      const goUrl = `https://${USER}:${PASSWORD}@${HOST}:${caddy.port}/api/version`;
      agree(`caddy ${variant.name} with credentials`, withCreds.report.ok, await goGet(goUrl, env, { [HOST]: '127.0.0.1' }), await curlGet(api, caFile, [resolve], ['-u', `${USER}:${PASSWORD}`]), variant.protocol);
    });
  }
});

describe.skipIf(!haveNginx() || !GO)('nginx with http2 in front of the fake Ollama', () => {
  const HOST = 'ollama.test';
  let ollama: FakeOllama;
  let nginx: RunningNginx<'h2' | 'noKeepalive'>;
  beforeAll(async () => {
    ollama = await fakeOllama({ version: '0.40.1', hostCheck: true });
    const toOllama = `location / {\n      proxy_pass http://127.0.0.1:${ollama.port};\n      proxy_set_header Host localhost:11434;\n    }`;
    nginx = await startNginx({
      ports: ['h2', 'noKeepalive'] as const,
      hosts: [HOST],
      config: ({ port }) => `
  # nginx 1.22 spelling (1.25+: http2 on;)
  server {
    listen 127.0.0.1:${port.h2} ssl http2;
    server_name ${HOST};
    ${toOllama}
  }
  # Keep-alive off: every answer says Connection: close.
  server {
    listen 127.0.0.1:${port.noKeepalive} ssl;
    server_name ${HOST};
    keepalive_timeout 0;
    ${toOllama}
  }`,
    });
  });
  afterAll(async () => {
    await nginx?.close();
    await ollama?.close();
  });

  for (const variant of [{ front: 'h2' as const, protocol: 'h2' }, { front: 'noKeepalive' as const, protocol: 'http/1.1' }]) {
    it(`${variant.front === 'h2' ? 'listen ... ssl http2' : 'keepalive_timeout 0 (Connection: close)'}: exit 0, the version read`, async () => {
      const port = nginx.ports[variant.front];
      const { env, caFile } = trust(nginx.ca);
      const resolve = `${HOST}:${port}:127.0.0.1`;
      const { result, report } = await runDoctorJson([`https://${HOST}:${port}/`, '--resolve', resolve], env);
      const t = report.targets[0]!;
      expect(t.tls!.alpn).toBe(variant.protocol);
      expect(protocols(t)).toEqual([variant.protocol]);
      expect(t.http!.exchanges.map((x) => x.status)).toEqual([200, 200]);
      expect(t.http!.ollamaVersion).toBe('0.40.1');
      if (variant.front === 'noKeepalive') {
        expect(t.http!.connections!.map((c) => c.reason)).toEqual(['first', 'the server said Connection: close']);
      }
      expect(beyondNode(t)).toEqual([]);
      expect(result.code, result.stdout).toBe(0);
      const api = `https://${HOST}:${port}/api/version`;
      agree(`nginx ${variant.front}`, report.ok, await goGet(api, env, { [HOST]: '127.0.0.1' }), await curlGet(api, caFile, [resolve]), variant.protocol);
    });
  }
});

describe.skipIf(!GO)('a registry answering HTTP/1.0 without keep-alive (our own: real servers answer 1.1)', () => {
  it('every request on a new connection: both hosts reached, exit 0, as Go and curl', async () => {
    const r = await http10Registry();
    try {
      const { env, caFile } = trust(r.ca);
      const resolve = [`${r.registry.host}:${r.registry.port}:127.0.0.1`, `${r.blobs.host}:${r.blobs.port}:127.0.0.1`];
      const { result, report } = await runDoctorJson(['--model', `${r.registry.host}:${r.registry.port}/library/tiny`, ...resolve.flatMap((x) => ['--resolve', x])], env);
      const [registry, blobs] = report.targets as [Target, Target];
      expect(registry.http!.exchanges.map((x) => `${x.status} ${x.protocol}`)).toEqual(['200 http/1.0', '307 http/1.0', '307 http/1.0']);
      expect(blobs.http!.exchanges.map((x) => x.status)).toEqual([200, 206]);
      expect(registry.http!.connections!.map((c) => c.reason)).toEqual([
        'first', 'the server answered HTTP/1.0 without keep-alive', 'the server answered HTTP/1.0 without keep-alive',
      ]);
      expect(r.registry.connections).toBe(3);
      expect(r.blobs.seen.map((s) => `${s.method} ${s.headers.range ?? ''}`.trim())).toEqual(['HEAD', 'GET bytes=0-0']);
      expect(beyondNode(registry)).toEqual([]);
      expect(beyondNode(blobs)).toEqual([]);
      expect(result.code, result.stdout).toBe(0);
      const blobUrl = `https://${r.registry.host}:${r.registry.port}/v2/library/tiny/blobs/${r.digest}`;
      const go = await goGet(blobUrl, env, { [r.registry.host]: '127.0.0.1', [r.blobs.host]: '127.0.0.1' });
      const curl = await curlGet(blobUrl, caFile, resolve);
      expect([go.host, curl.host]).toEqual([`${r.blobs.host}:${r.blobs.port}`, `${r.blobs.host}:${r.blobs.port}`]);
      agree('HTTP/1.0 registry', report.ok, go, curl, 'http/1.0');
    } finally {
      await r.close();
    }
  });

  it('a new connection that presents another chain: judged too, and said (exit 1 when Go would not trust it)', async () => {
    const other = await makeCa('Other Backend CA');
    const r = await http10Registry({ alternateRegistryCa: other });
    try {
      const { env } = trust(r.ca);
      const resolve = [`${r.registry.host}:${r.registry.port}:127.0.0.1`, `${r.blobs.host}:${r.blobs.port}:127.0.0.1`];
      const { result, report } = await runDoctorJson(['--model', `${r.registry.host}:${r.registry.port}/library/tiny`, ...resolve.flatMap((x) => ['--resolve', x])], env);
      const registry = report.targets[0]!;
      const conns = registry.http!.connections!;
      expect(conns.map((c) => c.chain)).toEqual(['same', 'different', 'same']);
      expect(conns[1]!.verdicts!.find((v) => v.view === 'go')!.ok).toBe(false);
      const onNew = registry.findings.filter((f) => f.title.startsWith('On a new connection:'));
      expect(onNew.map((f) => f.severity)).toContain('error');
      expect(onNew[0]!.evidence[0]).toMatch(/connection 2 .* presented a different chain/);
      expect(registry.ok).toBe(false);
      expect(result.code).toBe(1);
    } finally {
      await r.close();
    }
  });
});

describe('credentials and a new connection with another chain (our own server: an upstream behind a load balancer whose backends disagree)', () => {
  it('are not sent over the new connection when its chain is not trusted; the report says why', async () => {
    const ca = await makeCa('Upstream Test CA');
    const other = await makeCa('Other Backend CA');
    const { server, state } = serve10([await issueLeaf(ca, ['ollama.test']), await issueLeaf(other, ['ollama.test'])], (_m, url) =>
      url === '/api/version'
        ? { status: '200 OK', headers: { 'content-type': 'application/json' }, body: '{"version":"0.40.1"}' }
        : { status: '200 OK', headers: { 'content-type': 'application/json' }, body: '{"models":[]}' });
    await listen(server);
    const running = track(server);
    try {
      const { env } = trust(ca);
      const { result, report } = await runDoctorJson([`https://ollama.test:${running.port}/`, '--resolve', `ollama.test:${running.port}:127.0.0.1`, '--user', `${USER}:${PASSWORD}`], env);
      const t = report.targets[0]!;
      // The first connection (trusted) carried the version request with the credentials; the second
      // presented the other backend's chain, which Go would refuse: nothing went over it.
      expect(t.http!.exchanges.map((x) => `${x.url.replace(/^https:\/\/[^/]+/, '')} ${x.status} ${x.auth}`)).toEqual(['/api/version 200 basic']);
      expect(t.http!.connections!.map((c) => c.chain)).toEqual(['same', 'different']);
      expect(t.http!.failure!.message).toMatch(/different certificate chain that is not trusted/);
      expect(state.seen.map((x) => x.url)).toEqual(['/api/version']);
      expect(t.findings.some((f) => f.title.startsWith('On a new connection:') && f.severity === 'error')).toBe(true);
      expect(result.code).toBe(1);
      expect(result.stdout).not.toContain(PASSWORD);
    } finally {
      await running.close();
    }
  });
});
