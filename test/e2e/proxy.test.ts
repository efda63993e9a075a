// The doctor through real proxies on loopback, held against a real Go net/http client (Ollama's
// registry client) going through the same proxies: a CONNECT proxy (plain and over TLS), SOCKS5,
// proxies that fail, Squid (forward and ssl-bump) and Node's http-mitm-proxy.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goClientBinary, goGetSays, runCli, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import {
  squidBinary, startConnectProxy, startFaultProxy, startMitmProxy, startSocks5Proxy, startSquid,
  type ProxyFault, type RunningProxy,
} from '../helpers/proxies.js';
import { closedPort, loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';

const HOST = 'registry.ollama.ai';
const HOSTS = { [HOST]: '127.0.0.1' };
const go = goClientBinary('httpsget');
const squid = squidBinary();

type ProxyJson = {
  url: string; scheme: string; source: string; used: boolean; bypass?: string; address?: string;
  chain?: DoctorJson['targets'][number]['chain']; verdict?: { ok: boolean; code: string | null; message: string };
};
const proxyOf = (r: DoctorJson) => r.targets[0]!.proxy as unknown as ProxyJson | null;
const goVerdict = (r: DoctorJson) => r.targets[0]!.verdicts.find((v) => v.view === 'go')!;
const codes = (r: DoctorJson) => r.targets[0]!.findings.map((f) => f.code);
const finding = (r: DoctorJson, code: string) => r.targets[0]!.findings.find((f) => f.code === code);
const sha256 = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
/** Go prints `Get "https://...": <error>`; the part after the URL is what the go view must say. */
const goError = (said: string) => said.replace(/^Get "[^"]*": /, '');

// The "public" PKI the upstream server uses in these tests, and a bundle file for each trust setup.
let publicCa: TestCa;
let upstream: Running;
let dir: string;
let publicBundle: string;
let target: string;

beforeAll(async () => {
  publicCa = await makeCa('Test Public Web Root', 'Test Public Trust Services');
  upstream = await serveChain(await issueLeaf(publicCa, [HOST]), { http: true });
  dir = tempDir('ollama-tls-proxy-');
  publicBundle = path.join(dir, 'public.pem');
  writeFileSync(publicBundle, publicCa.certPem);
  target = `${HOST}:${upstream.port}`;
});

afterAll(async () => {
  await upstream?.close();
});

describe('through an HTTP CONNECT proxy, as Go goes', () => {
  let proxy: RunningProxy;
  // A password that needs percent-encoding in the URL; the proxy must see it decoded.
  const password = 'p@ss word:1';
  let proxyUrl: string;

  beforeAll(async () => {
    proxy = await startConnectProxy({ hosts: HOSTS, auth: { user: 'alice', pass: password } });
    proxyUrl = `http://alice:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;
  });
  afterAll(async () => proxy?.close());

  it('tunnels through HTTPS_PROXY, sends what Go sends, and never resolves the target itself', async () => {
    const before = proxy.requests.length;
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: proxyUrl, SSL_CERT_FILE: publicBundle });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(proxyOf(report)).toMatchObject({
      url: `http://alice:***@127.0.0.1:${proxy.port}`, scheme: 'http', source: 'HTTPS_PROXY', used: true, address: `127.0.0.1:${proxy.port}`,
    });
    expect(result.stdout).not.toContain(encodeURIComponent(password));
    expect(report.targets[0]!.addresses).toEqual([]);
    expect(goVerdict(report)).toMatchObject({ ok: true });
    expect(report.targets[0]!.chain[0]!.san).toEqual([`DNS:${HOST}`]);
    const mine = proxy.requests.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.target).toBe(target);
    expect(Buffer.from(mine[0]!.headers['proxy-authorization']!.replace(/^Basic /, ''), 'base64').toString()).toBe(`alice:${password}`);

    if (!go) return;
    const goBefore = proxy.requests.length;
    expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: proxyUrl, SSL_CERT_FILE: publicBundle })).toBe('ok');
    const goRequest = proxy.requests[goBefore]!;
    // The same CONNECT line and the same headers, byte for byte.
    expect(mine[0]!.target).toBe(goRequest.target);
    expect(mine[0]!.headers).toEqual(goRequest.headers);
  });

  it('fails the go view exactly as Go does when the upstream CA is not trusted', async () => {
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: proxyUrl });
    expect(result.code).toBe(1);
    expect(goVerdict(report)).toMatchObject({ ok: false, code: 'unknown-authority' });
    if (go) expect(goVerdict(report).message).toBe(goError(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: proxyUrl })));
  });

  it('reads https_proxy when HTTPS_PROXY is unset, and HTTPS_PROXY wins over it', async () => {
    const lower = await runDoctorJson([target], { https_proxy: proxyUrl, SSL_CERT_FILE: publicBundle });
    expect(proxyOf(lower.report)).toMatchObject({ source: 'https_proxy', used: true });
    const closed = await closedPort();
    const both = await runDoctorJson([target], { HTTPS_PROXY: proxyUrl, https_proxy: `http://127.0.0.1:${closed}`, SSL_CERT_FILE: publicBundle });
    expect(proxyOf(both.report)).toMatchObject({ source: 'HTTPS_PROXY', used: true });
    expect(both.result.code).toBe(0);
  });

  it('NO_PROXY bypasses the proxy (and says which entry did), so the target is resolved and dialled directly', async () => {
    const before = proxy.requests.length;
    const { result, report } = await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`], {
      HTTPS_PROXY: proxyUrl, NO_PROXY: 'localhost,.ollama.ai', SSL_CERT_FILE: publicBundle,
    });
    expect(result.code, result.stdout).toBe(0);
    expect(proxyOf(report)).toMatchObject({ used: false, source: 'HTTPS_PROXY' });
    expect(proxyOf(report)!.bypass).toContain('.ollama.ai');
    expect(report.targets[0]!.addresses).toEqual([expect.objectContaining({ address: '127.0.0.1', source: 'resolve' })]);
    expect(proxy.requests.length).toBe(before);
  });

  it('never proxies loopback, as Go does not', async () => {
    const scenario = loadScenario('valid-ip');
    const server = await serveChain(scenario);
    try {
      const bundle = path.join(scenario.dir, 'ca.pem');
      const before = proxy.requests.length;
      const { result, report } = await runDoctorJson([`127.0.0.1:${server.port}`], { HTTPS_PROXY: proxyUrl, SSL_CERT_FILE: bundle });
      expect(result.code).toBe(0);
      expect(proxyOf(report)).toMatchObject({ used: false });
      expect(proxy.requests.length).toBe(before);
      if (go) {
        expect(await goGetSays(go, `https://127.0.0.1:${server.port}/`, { HTTPS_PROXY: proxyUrl, SSL_CERT_FILE: bundle })).toBe('ok');
        expect(proxy.requests.length).toBe(before);
      }
    } finally {
      await server.close();
    }
  });

  it('--proxy replaces HTTPS_PROXY; --no-proxy ignores it', async () => {
    const closed = await closedPort();
    const flag = await runDoctorJson([target, '--proxy', proxyUrl], { HTTPS_PROXY: `http://127.0.0.1:${closed}`, SSL_CERT_FILE: publicBundle });
    expect(flag.result.code).toBe(0);
    expect(proxyOf(flag.report)).toMatchObject({ source: '--proxy', used: true });

    const before = proxy.requests.length;
    const direct = await runDoctorJson([target, '--no-proxy', '--resolve', `${target}:127.0.0.1`], { HTTPS_PROXY: proxyUrl, SSL_CERT_FILE: publicBundle });
    expect(direct.result.code).toBe(0);
    expect(proxyOf(direct.report)?.used ?? false).toBe(false);
    expect(proxy.requests.length).toBe(before);
  });

  it('a scheme net/http has no special case for (ftp://) gets plain CONNECT, as in Go', async () => {
    const url = proxyUrl.replace(/^http:/, 'ftp:');
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
    expect(result.code, result.stdout).toBe(0);
    expect(proxyOf(report)).toMatchObject({ scheme: 'ftp', used: true });
    if (go) expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle })).toBe('ok');
  });

  it('wrong credentials: proxy-auth-required naming the schemes offered', async () => {
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: `http://alice:wrong@127.0.0.1:${proxy.port}` });
    expect(result.code).toBe(1);
    const f = finding(report, 'proxy-auth-required')!;
    expect(f.severity).toBe('error');
    expect(f.title).toContain('407');
    expect(f.detail).toContain('Basic');
  });

  it('warns about HTTP_PROXY (it would catch the Ollama CLI talking to 127.0.0.1:11434)', async () => {
    const { report } = await runDoctorJson([target], { HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl, SSL_CERT_FILE: publicBundle });
    const env = (report as DoctorJson & { findings: { code: string; severity: string; title: string }[] }).findings;
    expect(env).toEqual([expect.objectContaining({ code: 'ollama-proxy-env', severity: 'warning' })]);
    expect(env[0]!.title).toContain('HTTP_PROXY');
  });

  it('shows the proxy in the text report', async () => {
    const r = await runCli(['doctor', target], { env: { HTTPS_PROXY: proxyUrl, SSL_CERT_FILE: publicBundle } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`proxy +http://alice:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port} \\(HTTPS_PROXY\\)`));
  });
});

describe('the proxy environment as a whole', () => {
  type EnvFinding = { code: string; severity: string; title: string; evidence: string[] };
  const envFindings = (r: DoctorJson) => (r as DoctorJson & { findings: EnvFinding[] }).findings;

  it('no HTTPS_PROXY while a public host cannot be reached directly: ollama-proxy-env', async () => {
    const closed = await closedPort();
    const t = `${HOST}:${closed}`;
    const { result, report } = await runDoctorJson([t, '--resolve', `${t}:127.0.0.1`, '--timeout', '2000']);
    expect(result.code).toBe(1);
    expect(proxyOf(report)).toBeNull();
    const f = envFindings(report).find((x) => x.code === 'ollama-proxy-env')!;
    expect(f).toMatchObject({ severity: 'warning', title: 'No HTTPS_PROXY is set, and direct connections fail' });
    expect(f.evidence).toEqual([`${t}: connection-refused`]);
  });

  it('an internal host that cannot be reached is not blamed on a missing proxy', async () => {
    const closed = await closedPort();
    const t = `ollama.corp.internal:${closed}`;
    const { report } = await runDoctorJson([t, '--resolve', `${t}:127.0.0.1`, '--timeout', '2000']);
    expect(envFindings(report)).toEqual([]);
  });

  it('a proxy value Go cannot parse is reported, and the doctor goes direct, as Go silently does', async () => {
    // Go's httpproxy drops a value that url.Parse rejects even with "http://" prepended.
    const { result, report } = await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`], { HTTPS_PROXY: '%zz', SSL_CERT_FILE: publicBundle });
    expect(result.code, result.stdout).toBe(0);
    expect(proxyOf(report)?.used ?? false).toBe(false);
    const f = envFindings(report).find((x) => x.title === 'The proxy setting cannot be parsed');
    expect(f, JSON.stringify(envFindings(report))).toBeDefined();
  });
});

describe('through SOCKS5, as Go goes', () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startSocks5Proxy({ hosts: HOSTS, auth: { user: 'bob', pass: 's3:cr@t' } });
  });
  afterAll(async () => proxy?.close());

  it.each(['socks5', 'socks5h'])('%s:// sends the host name and the credentials, like Go', async (scheme) => {
    const url = `${scheme}://bob:${encodeURIComponent('s3:cr@t')}@127.0.0.1:${proxy.port}`;
    const before = proxy.requests.length;
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
    expect(result.code, result.stdout).toBe(0);
    expect(proxyOf(report)).toMatchObject({ scheme, used: true });
    expect(proxy.requests[before]).toMatchObject({ target, socksAddressType: 3, socksCredentials: { user: 'bob', pass: 's3:cr@t' } });
    if (go) {
      expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle })).toBe('ok');
      expect(proxy.requests[before + 1]).toMatchObject({ target, socksAddressType: 3, socksCredentials: { user: 'bob', pass: 's3:cr@t' } });
    }
  });

  it('wrong SOCKS credentials: proxy-auth-required', async () => {
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: `socks5://bob:nope@127.0.0.1:${proxy.port}` });
    expect(result.code).toBe(1);
    expect(codes(report)).toContain('proxy-auth-required');
  });
});

describe('through an https:// proxy: its own certificate is judged too', () => {
  const identity = loadScenario('valid-ip'); // CN/SAN 127.0.0.1, under the fixtures' test root
  let proxy: RunningProxy;
  let url: string;
  let bothBundle: string;
  beforeAll(async () => {
    proxy = await startConnectProxy({ hosts: HOSTS, tls: identity });
    url = `https://127.0.0.1:${proxy.port}`;
    bothBundle = path.join(dir, 'public+fixtures.pem');
    writeFileSync(bothBundle, publicCa.certPem + readFileSync(path.join(identity.dir, 'ca.pem'), 'utf8'));
  });
  afterAll(async () => proxy?.close());

  it('passes when Go trusts both the proxy and the server', async () => {
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: bothBundle });
    expect(result.code, result.stdout).toBe(0);
    const p = proxyOf(report)!;
    expect(p).toMatchObject({ scheme: 'https', used: true, verdict: { ok: true } });
    expect(p.chain![0]!.san).toContain('IP:127.0.0.1');
    if (go) expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: bothBundle })).toBe('ok');
  });

  it("fails, as Go does, when the proxy's certificate is not trusted", async () => {
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
    expect(result.code).toBe(1);
    const p = proxyOf(report)!;
    expect(p.verdict).toMatchObject({ ok: false, code: 'unknown-authority' });
    expect(report.targets[0]!.findings.some((f) => f.title.includes('https:// proxy'))).toBe(true);
    if (go) {
      const said = await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
      expect(said).toContain(p.verdict!.message);
    }
  });
});

describe('proxy faults: each its code, exit 1, within the timeout', () => {
  const identity = loadScenario('valid-ip');
  const TIMEOUT = 1500;
  const cases: { fault: ProxyFault | 'closed' | 'http-for-https'; scheme?: string; code: string; says?: RegExp }[] = [
    { fault: '407', code: 'proxy-auth-required', says: /Basic/ },
    { fault: '407-ntlm', code: 'proxy-auth-required', says: /NTLM, Negotiate/ },
    { fault: '403', code: 'proxy-refused', says: /403 Forbidden/ },
    { fault: 'close', code: 'proxy-refused', says: /closed the connection/ },
    { fault: 'garbage', code: 'proxy-refused', says: /not HTTP/ },
    { fault: 'silent', code: 'proxy-refused', says: /did not answer within 1500 ms/ },
    { fault: 'closed', code: 'proxy-unreachable', says: /ECONNREFUSED|refused/ },
    { fault: 'tls', code: 'proxy-scheme-mismatch', says: /https:\/\// },
    { fault: 'http-for-https', scheme: 'https', code: 'proxy-scheme-mismatch', says: /plain HTTP/ },
  ];

  it.each(cases)('$fault -> $code', async ({ fault, scheme, code, says }) => {
    let running: Running | undefined;
    let port: number;
    if (fault === 'closed') port = await closedPort();
    else if (fault === 'http-for-https') running = await startConnectProxy({ hosts: HOSTS });
    else running = await startFaultProxy(fault, identity);
    port ??= running!.port;
    try {
      const url = `${scheme ?? 'http'}://127.0.0.1:${port}`;
      const { result, report } = await runDoctorJson([target, '--timeout', String(TIMEOUT)], { HTTPS_PROXY: url });
      expect(result.code).toBe(1);
      expect(result.ms).toBeLessThan(TIMEOUT + 4000);
      const f = finding(report, code);
      expect(f, JSON.stringify(report.targets[0]!.findings, null, 2)).toBeDefined();
      expect(f!.severity).toBe('error');
      if (says) expect(`${f!.title} ${f!.detail}`).toMatch(says);
      expect(report.targets[0]!.chain).toEqual([]);
      // A real Go client fails through the same proxy too.
      if (go && fault !== 'silent') expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url })).not.toBe('ok');
    } finally {
      await running?.close();
    }
  });
});

describe.skipIf(!squid)('through Squid (squid-openssl)', () => {
  it('forward proxy: the go view passes, as real Go does, and Squid logged the tunnel', async () => {
    const proxy = await startSquid({ hosts: HOSTS, upstreamCaPem: publicCa.certPem });
    try {
      const url = `http://127.0.0.1:${proxy.port}`;
      const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
      expect(result.code, result.stdout).toBe(0);
      expect(proxyOf(report)).toMatchObject({ used: true, source: 'HTTPS_PROXY' });
      expect(report.targets[0]!.chain[0]!.issuer).toContain('Test Public Web Root');
      expect(codes(report)).not.toContain('interception-confirmed');
      if (go) expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle })).toBe('ok');
      expect(proxy.accessLog()).toContain(`CONNECT ${target}`);
    } finally {
      await proxy.close();
    }
  });

  describe('ssl-bump with a CA the test generates', () => {
    let bumpCa: TestCa;
    let proxy: Awaited<ReturnType<typeof startSquid>>;
    let url: string;
    beforeAll(async () => {
      bumpCa = await makeCa('Corp Squid Inspection CA', 'Example Corp');
      proxy = await startSquid({ hosts: HOSTS, upstreamCaPem: publicCa.certPem, bump: { caCertPem: bumpCa.certPem, caKeyPem: bumpCa.keyPem } });
      url = `http://127.0.0.1:${proxy.port}`;
    });
    afterAll(async () => proxy?.close());

    it('fails the go view exactly as Go does, and names Squid as the interceptor', async () => {
      const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
      expect(result.code).toBe(1);
      expect(report.targets[0]!.chain[0]!.issuer).toContain('Corp Squid Inspection CA');
      expect(goVerdict(report)).toMatchObject({ ok: false, code: 'unknown-authority' });
      if (go) expect(goVerdict(report).message).toBe(goError(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle })));
      const f = finding(report, 'interception-confirmed')!;
      expect(f, JSON.stringify(codes(report))).toBeDefined();
      expect(f.severity).toBe('error');
      expect(f.title).toContain('Squid');
      expect(f.evidence.join('\n')).toContain('Squid');
      expect(f.detail).toContain(sha256(bumpCa.certPem));
      expect(f.fixes.map((x) => x.title).join('\n')).toMatch(/IT team/);
    });

    it('with the bump CA in SSL_CERT_FILE the go view passes (as for real Go), and interception is info', async () => {
      const bundle = path.join(dir, 'public+squid.pem');
      writeFileSync(bundle, publicCa.certPem + bumpCa.certPem);
      const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: bundle });
      expect(result.code, result.stdout).toBe(0);
      expect(goVerdict(report)).toMatchObject({ ok: true });
      const f = report.targets[0]!.findings.find((x) => x.code.startsWith('interception-'))!;
      expect(f.severity).toBe('info');
      expect(f.title).toContain('Squid');
      if (go) expect(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: bundle })).toBe('ok');
    });

    it('--save-ca writes the CA to trust and prints its SHA-256', async () => {
      const file = path.join(dir, 'saved-squid-ca.pem');
      const r = await runCli(['doctor', target, '--save-ca', file], { env: { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle } });
      expect(r.code).toBe(1);
      const saved = readFileSync(file, 'utf8');
      expect(sha256(saved)).toBe(sha256(bumpCa.certPem));
      expect(saved.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
      expect(r.stdout + r.stderr).toContain(sha256(bumpCa.certPem));
    });

    it('--compare-direct: a different leaf on the direct path confirms it', async () => {
      const { report } = await runDoctorJson([target, '--compare-direct', '--resolve', `${target}:127.0.0.1`], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
      const f = finding(report, 'interception-confirmed')!;
      expect(f.evidence.join('\n')).toMatch(/directly it is issued by "[^"]*Test Public Web Root/);
    });
  });
});

describe("through Node's http-mitm-proxy", () => {
  let proxy: Awaited<ReturnType<typeof startMitmProxy>>;
  let url: string;
  beforeAll(async () => {
    proxy = await startMitmProxy({ hosts: HOSTS });
    url = `http://127.0.0.1:${proxy.port}`;
  });
  afterAll(async () => proxy?.close());

  it('fails the go view as Go does and names the product from its CA', async () => {
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle });
    expect(result.code).toBe(1);
    // Its leaves get node-forge serial numbers: Go 1.23+ cannot even parse the negative ones.
    const leafNegative = new X509Certificate(report.targets[0]!.chain[0]!.pem).serialNumber.startsWith('-');
    expect(goVerdict(report)).toMatchObject({ ok: false, code: leafNegative ? 'malformed-certificate' : 'unknown-authority' });
    if (go) expect(goVerdict(report).message).toBe(goError(await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: publicBundle })));
    const f = report.targets[0]!.findings.find((x) => x.code.startsWith('interception-'))!;
    expect(f.title).toContain('http-mitm-proxy');
    // Only the leaf is sent; the CA to trust is named by its issuer, and not yet known by fingerprint.
    expect(report.targets[0]!.chain).toHaveLength(1);
  });

  it('with its CA in SSL_CERT_FILE the go view decides as real Go does, and says why when it still fails', async () => {
    const bundle = path.join(dir, 'public+mitm.pem');
    writeFileSync(bundle, publicCa.certPem + proxy.caCertPem);
    const { result, report } = await runDoctorJson([target], { HTTPS_PROXY: url, SSL_CERT_FILE: bundle });
    const verdict = goVerdict(report);
    if (go) {
      const said = await goGetSays(go, `https://${target}/`, { HTTPS_PROXY: url, SSL_CERT_FILE: bundle });
      expect(verdict.ok ? 'ok' : verdict.message).toBe(said === 'ok' ? 'ok' : goError(said));
    }
    // http-mitm-proxy mints serial numbers with node-forge, negative half the time; Go 1.23+
    // refuses those, so the CA (or the leaf) may be ignored although it is trusted.
    const negative = [proxy.caCertPem, report.targets[0]!.chain[0]!.pem].some((pem) => new X509Certificate(pem).serialNumber.startsWith('-'));
    if (!negative) {
      expect(result.code, result.stdout).toBe(0);
      expect(verdict.ok).toBe(true);
      const f = report.targets[0]!.findings.find((x) => x.code.startsWith('interception-'))!;
      expect(f.severity).toBe('info');
      expect(f.detail).toContain(sha256(proxy.caCertPem));
    } else {
      expect(result.code).toBe(1);
      const f = finding(report, 'malformed-certificate')!;
      expect(`${f.title} ${f.detail}`).toContain('negative serial number');
    }
  });

});
