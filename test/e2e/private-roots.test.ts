// A root that was not sent, or a missing intermediate? Both make Go say "certificate signed by
// unknown authority"; the fixes are opposite (trust a root here / fix the server). Real servers
// show each case: nginx serving a leaf signed directly by a private root, a leaf whose
// intermediate it leaves out, and mitmproxy intercepting with a CA named like Zscaler. The real
// Go client (and curl) decide what the right fix is: trusting that root makes them pass, or only
// the intermediate does.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goClientBinary, goGetSays, goSays, printedSudo, runCli, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { haveMitmdump, startMitmdump, type RunningMitmdump } from '../helpers/mitmproxy.js';
import { haveNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import { storeTree, tempDir } from '../helpers/servers.js';

type Finding = DoctorJson['targets'][number]['findings'][number] & { basis?: string };

const tlsclient = goClientBinary('tlsclient');
const httpsget = goClientBinary('httpsget');
const UNKNOWN = 'x509: certificate signed by unknown authority';

/** The first certificate of a PEM chain: what a server sends when it leaves out everything above. */
const leafOnly = (chainPem: string) => chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + 25) + '\n';
const goFinding = (r: DoctorJson): Finding | undefined =>
  r.targets[0]!.findings.find((f) => f.severity === 'error' && ['untrusted-root', 'missing-intermediate', 'unknown-authority'].includes(f.code));

function curlSays(url: string, resolve: string, caFile?: string): Promise<number> {
  return new Promise((done) => {
    execFile('curl', ['-sS', '-o', '/dev/null', '--max-time', '10', '--resolve', resolve, ...(caFile ? ['--cacert', caFile] : []), url], (err) => {
      done(err ? Number((err as { code?: number }).code ?? 99) : 0);
    });
  });
}

describe.skipIf(!haveNginx())('a real nginx: a leaf from a private root, and a leaf whose intermediate is missing', () => {
  const HOST = 'ollama.corp.internal';
  const SERVED = ['rootSigned', 'plainSigned', 'aiaLeafOnly', 'aiaFullChain'] as const;
  let nginx: RunningNginx<(typeof SERVED)[number]>;
  let files: Record<'corpRoot' | 'plainCa' | 'publicRoot' | 'tlsCa', string>;
  let corpRoot: TestCa;
  let tlsCa: TestCa;
  const AIA = 'http://crt.example-trust.test/tls-ca-2025.der';

  beforeAll(async () => {
    // Named like a root; named neither way (CN differs from O, no "Root"); a public-style PKI whose
    // intermediate is named neither way either, so only its leaf's AIA tells.
    corpRoot = await makeCa('Example Corp Root CA', 'Example Corp');
    const plainCa = await makeCa('Example Corp Private CA', 'Example Corp');
    const publicRoot = await makeCa('Example Trust Services R1', 'Example Trust Services');
    tlsCa = await makeCa('Example Trust TLS CA 2025', 'Example Trust Services', { issuer: publicRoot });
    const dir = tempDir();
    files = {
      corpRoot: path.join(dir, 'corp-root.pem'), plainCa: path.join(dir, 'private-ca.pem'),
      publicRoot: path.join(dir, 'public-root.pem'), tlsCa: path.join(dir, 'tls-ca.pem'),
    };
    writeFileSync(files.corpRoot, corpRoot.certPem);
    writeFileSync(files.plainCa, plainCa.certPem);
    writeFileSync(files.publicRoot, publicRoot.certPem);
    writeFileSync(files.tlsCa, tlsCa.certPem);
    const leaves = {
      rootSigned: await issueLeaf(corpRoot, [HOST]),
      plainSigned: await issueLeaf(plainCa, [HOST]),
      aia: await issueLeaf(tlsCa, [HOST], { aiaCaIssuers: AIA }),
    };
    nginx = await startNginx({
      ports: SERVED,
      hosts: [HOST],
      config: ({ port, dir: d }) => {
        const block = (name: (typeof SERVED)[number], chainPem: string, keyPem: string) => {
          writeFileSync(path.join(d, `${name}.pem`), chainPem);
          writeFileSync(path.join(d, `${name}.key`), keyPem, { mode: 0o600 });
          return `
  server {
    listen 127.0.0.1:${port[name]} ssl;
    server_name ${HOST};
    ssl_certificate ${d}/${name}.pem;
    ssl_certificate_key ${d}/${name}.key;
    location / { return 200 "ok\\n"; }
  }`;
        };
        return [
          block('rootSigned', leafOnly(leaves.rootSigned.chainPem), leaves.rootSigned.keyPem),
          block('plainSigned', leafOnly(leaves.plainSigned.chainPem), leaves.plainSigned.keyPem),
          block('aiaLeafOnly', leafOnly(leaves.aia.chainPem), leaves.aia.keyPem),
          // The fixed server: leaf and intermediate (the root left out, as usual).
          block('aiaFullChain', leafOnly(leaves.aia.chainPem) + tlsCa.certPem, leaves.aia.keyPem),
        ].join('\n');
      },
    });
  }, 60_000);
  afterAll(async () => {
    await nginx?.close();
  });

  const doctor = (served: (typeof SERVED)[number], args: string[] = [], env: Record<string, string> = {}) => {
    const target = `${HOST}:${nginx.ports[served]}`;
    return runDoctorJson([target, '--resolve', `${target}:127.0.0.1`, ...args], env);
  };

  it('a leaf signed directly by "Example Corp Root CA", root not sent: untrusted-root, and trusting that root is what makes Go and curl pass', async () => {
    const { result, report } = await doctor('rootSigned');
    expect(result.code).toBe(1);
    expect(report.targets[0]!.chain).toHaveLength(1);
    const f = goFinding(report)!;
    expect(f, JSON.stringify(report.targets[0]!.findings.map((x) => x.code))).toMatchObject({ code: 'untrusted-root', basis: 'issuer-name' });
    expect(f.title).toContain('"Example Corp Root CA" (not sent)');
    expect(f.evidence.join('\n')).toContain('a root that was not sent, not a missing intermediate, because: the issuer, "Example Corp Root CA", is named like a root');
    expect(f.fixes.map((x) => x.command)).toContain(`${printedSudo()}ollama-tls trust --ca corp-ca.pem`);
    expect(report.targets[0]!.findings.map((x) => x.code)).not.toContain('missing-intermediate');

    // --ca ROOT proves it: the file's key verifies the leaf, and the fix names that very file.
    const withCa = await doctor('rootSigned', ['--ca', files.corpRoot]);
    const g = goFinding(withCa.report)!;
    expect(g).toMatchObject({ code: 'untrusted-root', basis: 'held-root' });
    expect(g.evidence.join('\n')).toContain(`your --ca file ${files.corpRoot} holds "Example Corp Root CA" (SHA-256 `);
    expect(g.evidence.join('\n')).toMatch(/SHA-256 [0-9a-f]{64}\), a self-signed root whose key verifies the signature on "ollama\.corp\.internal"/);
    expect(g.fixes.map((x) => x.command)).toContain(`${printedSudo()}ollama-tls trust --ca ${files.corpRoot}`);
    expect(withCa.report.targets[0]!.verdicts.find((v) => v.view === 'extra')!.ok).toBe(true);

    // The real clients: unknown authority as things are; trusting the root (not any server change) fixes them.
    const url = `https://${HOST}:${nginx.ports.rootSigned}/`;
    const resolve = `${HOST}:${nginx.ports.rootSigned}:127.0.0.1`;
    expect(await curlSays(url, resolve)).toBe(60);
    expect(await curlSays(url, resolve, files.corpRoot)).toBe(0);
    if (tlsclient) {
      expect(await goSays(tlsclient, `127.0.0.1:${nginx.ports.rootSigned}`, HOST, {})).toContain(UNKNOWN);
      expect(await goSays(tlsclient, `127.0.0.1:${nginx.ports.rootSigned}`, HOST, { SSL_CERT_FILE: files.corpRoot })).toBe('ok');
    }
    const trusted = await doctor('rootSigned', [], { SSL_CERT_FILE: files.corpRoot });
    expect(trusted.result.code).toBe(0);
  });

  it('the root in the OS store while Go reads elsewhere stays trusted-by-system-not-go, --ca or not', async () => {
    const tree = storeTree(corpRoot.certPem);
    writeFileSync(path.join(tree, 'other.pem'), tlsCa.certPem);
    const env = { SSL_CERT_FILE: '/other.pem', SSL_CERT_DIR: '/nowhere' };
    for (const args of [[], ['--ca', files.corpRoot]]) {
      const { report } = await doctor('rootSigned', ['--root', tree, ...args], env);
      const codes = report.targets[0]!.findings.filter((f) => f.severity === 'error').map((f) => f.code);
      expect(codes, args.join(' ')).toEqual(['trusted-by-system-not-go']);
    }
  });

  it('a leaf from a CA whose name says neither: says it cannot tell, and how to find out; --ca settles it', async () => {
    const { result, report } = await doctor('plainSigned');
    expect(result.code).toBe(1);
    const f = goFinding(report)!;
    expect(f).toMatchObject({ code: 'unknown-authority', basis: 'undecided' });
    expect(f.title).toContain('cannot tell whether "Example Corp Private CA" (not sent) is a private root or a missing intermediate');
    expect(f.detail).toContain('run the doctor again with --ca');
    expect(f.fixes.map((x) => x.command)).toContain(`ollama-tls doctor ${HOST}:${nginx.ports.plainSigned} --ca issuer.pem`);

    const withCa = await doctor('plainSigned', ['--ca', files.plainCa]);
    expect(goFinding(withCa.report)).toMatchObject({ code: 'untrusted-root', basis: 'held-root' });
    if (tlsclient) {
      expect(await goSays(tlsclient, `127.0.0.1:${nginx.ports.plainSigned}`, HOST, {})).toContain(UNKNOWN);
      expect(await goSays(tlsclient, `127.0.0.1:${nginx.ports.plainSigned}`, HOST, { SSL_CERT_FILE: files.plainCa })).toBe('ok');
    }
  });

  it('a leaf with AIA whose intermediate the server leaves out: missing-intermediate; only sending the intermediate makes Go pass', async () => {
    // The root is trusted here, as a public root would be: only the intermediate is missing.
    const env = { SSL_CERT_FILE: files.publicRoot };
    const { result, report } = await doctor('aiaLeafOnly', [], env);
    expect(result.code).toBe(1);
    const f = goFinding(report)!;
    expect(f).toMatchObject({ code: 'missing-intermediate', basis: 'aia' });
    expect(f.evidence.join('\n')).toContain(`a missing intermediate, not a root, because: the certificate names its issuer's download address (AIA caIssuers ${AIA})`);
    expect(f.fixes[0]!.title).toContain('send the full chain');

    // An intermediate in a --ca file verifies the leaf but is not self-signed: still the server's fault.
    const withCa = await doctor('aiaLeafOnly', ['--ca', files.tlsCa], env);
    const g = goFinding(withCa.report)!;
    expect(g).toMatchObject({ code: 'missing-intermediate', basis: 'held-intermediate' });
    expect(g.fixes.map((x) => x.command)).toContain(`${printedSudo()}ollama-tls trust --ca ${files.tlsCa}`);

    if (tlsclient) {
      expect(await goSays(tlsclient, `127.0.0.1:${nginx.ports.aiaLeafOnly}`, HOST, env)).toContain(UNKNOWN);
      expect(await goSays(tlsclient, `127.0.0.1:${nginx.ports.aiaFullChain}`, HOST, env)).toBe('ok');
    }
    expect(await curlSays(`https://${HOST}:${nginx.ports.aiaLeafOnly}/`, `${HOST}:${nginx.ports.aiaLeafOnly}:127.0.0.1`, files.publicRoot)).toBe(60);
    expect(await curlSays(`https://${HOST}:${nginx.ports.aiaFullChain}/`, `${HOST}:${nginx.ports.aiaFullChain}:127.0.0.1`, files.publicRoot)).toBe(0);
    const fixed = await doctor('aiaFullChain', [], env);
    expect(fixed.result.code).toBe(0);
  });
});

describe.skipIf(!haveMitmdump() || !haveNginx())('a real mitmproxy intercepting with a CA named like Zscaler', () => {
  // A public-looking name: Go never proxies loopback names, so mitmproxy gets this one and
  // connects it to the nginx on 127.0.0.1 (test/helpers/mitmproxy-loopback.py).
  const NAME = 'models.example.com';
  const ZSCALER_DN = 'O=Zscaler Inc.,CN=Zscaler Root CA';
  let upstream: RunningNginx<'site'>;
  let zscaler: TestCa;
  let caFile: string;
  let leafOnlyProxy: RunningMitmdump;
  let chainProxy: RunningMitmdump;

  beforeAll(async () => {
    zscaler = await makeCa('Zscaler Root CA', 'Zscaler Inc.');
    caFile = path.join(tempDir(), 'zscaler-root.pem');
    writeFileSync(caFile, zscaler.certPem);
    upstream = await startNginx({
      ports: ['site'], hosts: [NAME],
      config: ({ port }) => `
  server {
    listen 127.0.0.1:${port.site} ssl;
    server_name ${NAME};
    location / { return 200 "ok\\n"; }
  }`,
    });
    const common = { ca: { certPem: zscaler.certPem, keyPem: zscaler.keyPem }, map: { [`${NAME}:443`]: upstream.port }, upstreamCaPem: upstream.ca.certPem };
    [leafOnlyProxy, chainProxy] = await Promise.all([startMitmdump(common), startMitmdump({ ...common, sendCa: true })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([leafOnlyProxy?.close(), chainProxy?.close(), upstream?.close()]);
  });

  it('leaf only: interception named, untrusted-root (not missing-intermediate), and --save-ca says why there is nothing to save, in the finding\'s words', async () => {
    const file = path.join(tempDir(), 'saved.pem');
    const r = await runCli(['doctor', '--json', NAME, '--save-ca', file], { env: { HTTPS_PROXY: leafOnlyProxy.url } });
    const report = JSON.parse(r.stdout) as DoctorJson;
    const t = report.targets[0]!;
    expect(t.chain, leafOnlyProxy.log()).toHaveLength(1); // what mitmproxy 8 sends with a one-certificate CA file
    expect(t.chain[0]!.issuer).toBe(ZSCALER_DN);
    const intercepted = t.findings.find((f) => f.code === 'interception-confirmed')!;
    expect(intercepted.title).toContain('intercepted by Zscaler');
    expect(goFinding(report)).toMatchObject({ code: 'untrusted-root', basis: 'interception' });
    expect(t.findings.map((f) => f.code)).not.toContain('missing-intermediate');
    // One decision, said twice: the finding and --save-ca give the same reason and the same way to get the CA.
    expect(r.code).toBe(2);
    const reason = intercepted.detail.slice(intercepted.detail.indexOf('The CA of Zscaler'));
    expect(reason).toContain('only the server certificate was sent');
    expect(reason).toContain('Get it from your IT team, or export it from a browser');
    expect(r.stderr).toContain(reason);
    expect(r.stderr).not.toContain('no interception CA was found');

    if (httpsget) {
      expect(await goGetSays(httpsget, `https://${NAME}/`, { HTTPS_PROXY: leafOnlyProxy.url })).toContain(UNKNOWN);
      expect(await goGetSays(httpsget, `https://${NAME}/`, { HTTPS_PROXY: leafOnlyProxy.url, SSL_CERT_FILE: caFile })).toBe('ok');
    }
    // And the doctor agrees once the CA is trusted: Ollama would work, the interception is a note.
    const trusted = await runDoctorJson([NAME], { HTTPS_PROXY: leafOnlyProxy.url, SSL_CERT_FILE: caFile });
    expect(trusted.result.code).toBe(0);
    expect(trusted.report.targets[0]!.findings.find((f) => f.code === 'interception-confirmed')!.severity).toBe('info');
  });

  it('leaf only with --ca: the --ca key verifies the leaf, the trust fix names that file, and --save-ca writes the CA', async () => {
    const file = path.join(tempDir(), 'saved.pem');
    const r = await runCli(['doctor', '--json', NAME, '--ca', caFile, '--save-ca', file], { env: { HTTPS_PROXY: leafOnlyProxy.url } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorJson;
    const f = goFinding(report)!;
    expect(f).toMatchObject({ code: 'untrusted-root', basis: 'held-root' });
    expect(f.evidence.join('\n')).toContain(`your --ca file ${caFile} holds "Zscaler Root CA"`);
    expect(f.fixes.map((x) => x.command)).toContain(`${printedSudo()}ollama-tls trust --ca ${caFile}`);
    expect(readFileSync(file, 'utf8')).toContain(zscaler.certPem.trim());
    expect(r.stderr).toMatch(/Saved "Zscaler Root CA" to .*; SHA-256 [0-9a-f]{64}/);
  });

  it('CA sent after the leaf: the root came with the chain, and --save-ca writes it', async () => {
    const file = path.join(tempDir(), 'saved.pem');
    const r = await runCli(['doctor', '--json', NAME, '--save-ca', file], { env: { HTTPS_PROXY: chainProxy.url } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorJson;
    expect(report.targets[0]!.chain.map((c) => c.subject)).toEqual([`CN=${NAME}`, ZSCALER_DN]);
    expect(goFinding(report)).toMatchObject({ code: 'untrusted-root', basis: 'root-sent' });
    expect(report.targets[0]!.findings.find((f) => f.code === 'interception-confirmed')!.detail).toContain('The root to trust is "Zscaler Root CA" (sent with the chain)');
    expect(readFileSync(file, 'utf8')).toContain(zscaler.certPem.trim());
    if (httpsget) {
      expect(await goGetSays(httpsget, `https://${NAME}/`, { HTTPS_PROXY: chainProxy.url })).toContain(UNKNOWN);
      expect(await goGetSays(httpsget, `https://${NAME}/`, { HTTPS_PROXY: chainProxy.url, SSL_CERT_FILE: caFile })).toBe('ok');
    }
  });
});
