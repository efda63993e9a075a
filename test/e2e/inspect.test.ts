// `inspect` against the real openssl CLI: every fixture certificate (and a few openssl mints
// with the rarer extensions) printed by `inspect --json` and by `openssl x509`, compared field by
// field; every container format openssl writes (DER, PKCS#7 PEM/DER, PKCS#12 with and without
// password and -legacy, TRUSTED CERTIFICATE, CRLF, UTF-16, text around, standard input) read
// to the same certificates.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli } from '../helpers/cli.js';
import { ROOT, tempDir } from '../helpers/servers.js';

const SCENARIOS = path.join(ROOT, 'fixtures', 'scenarios');
const openssl = (args: string[], input?: string | Buffer): string =>
  execFileSync('openssl', args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}), stdio: ['pipe', 'pipe', 'pipe'] });

interface InspectJson {
  schema: number;
  files: {
    file: string; format: string; keys: number;
    certificates: {
      index: number; subject: string; issuer: string; serial: string; serialNumber: string; notBefore: string; notAfter: string; sha256: string; sha1: string;
      san: string[]; isCA: boolean; selfSigned: boolean; keyType: string; keyBits: number; signatureAlgorithm: string; pem: string;
      keyUsage: string[] | null; extendedKeyUsage: string[] | null; basicConstraints: { critical: boolean; ca: boolean; pathLen: number | null } | null;
      nameConstraints: { permitted: string[]; excluded: string[] } | null; aia: { ocsp: string[]; caIssuers: string[] };
      crlDistributionPoints: string[]; sctCount: number; policies: string[]; subjectKeyId: string | null; authorityKeyId: string | null;
      issuedBy: number | null; duplicateOf: number | null; root: boolean; lint: { code: string; severity: string; message: string }[];
    }[];
    findings: { code: string; severity: string }[];
  }[];
}

async function inspectJson(args: string[]): Promise<InspectJson> {
  const r = await runCli(['inspect', '--json', ...args]);
  expect([0, 1], r.stderr).toContain(r.code);
  return JSON.parse(r.stdout) as InspectJson;
}

// openssl's words for key usage and EKU, as `openssl x509 -text` prints them.
const KU: Record<string, string> = {
  digitalSignature: 'Digital Signature', nonRepudiation: 'Non Repudiation', keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment', keyAgreement: 'Key Agreement', keyCertSign: 'Certificate Sign', cRLSign: 'CRL Sign',
  encipherOnly: 'Encipher Only', decipherOnly: 'Decipher Only',
};
const EKU: Record<string, string> = {
  serverAuth: 'TLS Web Server Authentication', clientAuth: 'TLS Web Client Authentication', codeSigning: 'Code Signing',
  emailProtection: 'E-mail Protection', timeStamping: 'Time Stamping', OCSPSigning: 'OCSP Signing', anyExtendedKeyUsage: 'Any Extended Key Usage',
};
const KEY_TYPES: Record<string, string> = { rsaEncryption: 'RSA', 'id-ecPublicKey': 'EC', ED25519: 'Ed25519', rsassaPss: 'RSA' };
const POLICY_NAMES: Record<string, string> = { 'X509v3 Any Policy': '2.5.29.32.0' };

/** What openssl says about one certificate, in inspect's terms. */
function opensslFields(pem: string): Record<string, unknown> {
  const head = openssl(['x509', '-noout', '-subject', '-issuer', '-serial', '-dates', '-fingerprint', '-sha256', '-nameopt', 'RFC2253'], pem);
  const sha1 = openssl(['x509', '-noout', '-fingerprint', '-sha1'], pem);
  const text = openssl(['x509', '-noout', '-text', '-certopt', 'no_sigdump'], pem);
  const line = (re: RegExp, s = head) => s.match(re)?.[1]?.trim();
  const date = (s: string | undefined) => new Date(Date.parse(s!)).toISOString();
  const hex = (s: string | undefined) => s?.replace(/^keyid:/, '').replace(/:/g, '').toLowerCase() ?? null;
  // Each extension's block: its header line, then the indented lines under it.
  const ext = (name: string): { critical: boolean; body: string[] } | undefined => {
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.trim().startsWith(`${name}:`));
    if (at < 0) return undefined;
    const indent = lines[at]!.search(/\S/);
    const body: string[] = [];
    for (const l of lines.slice(at + 1)) {
      if (l.trim() === '' || l.search(/\S/) <= indent) break;
      body.push(l.trim());
    }
    return { critical: /critical/.test(lines[at]!), body };
  };
  const list = (name: string) => ext(name)?.body.join(', ').split(/,\s*/).filter(Boolean);
  const san = sanForm(list('X509v3 Subject Alternative Name')?.map((s) => s.replace(/^IP Address:/, 'IP:')) ?? []);
  const bc = ext('X509v3 Basic Constraints');
  const bcText = bc?.body.join(', ') ?? '';
  const aia = ext('Authority Information Access')?.body ?? [];
  const crl = ext('X509v3 CRL Distribution Points')?.body ?? [];
  const pol = ext('X509v3 Certificate Policies')?.body ?? [];
  const nc = ext('X509v3 Name Constraints')?.body ?? [];
  const ncList = (which: string) => {
    const start = nc.indexOf(`${which}:`);
    if (start < 0) return [];
    const out: string[] = [];
    for (const l of nc.slice(start + 1)) {
      if (/^(Permitted|Excluded):$/.test(l)) break;
      out.push(l.replace(/^IP:/, 'IP:').replace(/^email:/, 'email:'));
    }
    return out;
  };
  const keyAlg = line(/Public Key Algorithm: (\S+)/, text)!;
  const keyType = KEY_TYPES[keyAlg] ?? keyAlg;
  return {
    subject: nameForm(line(/^subject=(.*)$/m)!), issuer: nameForm(line(/^issuer=(.*)$/m)!),
    serial: line(/^serial=(.*)$/m)!.toLowerCase().replace(/^(-?)0+(?=.)/, '$1'),
    notBefore: date(line(/^notBefore=(.*)$/m)), notAfter: date(line(/^notAfter=(.*)$/m)),
    sha256: hex(line(/Fingerprint=(.*)$/m)), sha1: hex(line(/Fingerprint=(.*)$/m, sha1)),
    san, keyType,
    ...(keyType === 'Ed25519' ? {} : { keyBits: Number(line(/Public-Key: \((\d+) bit\)/, text)) }),
    signatureAlgorithm: line(/Signature Algorithm: (\S+)/, text),
    keyUsage: list('X509v3 Key Usage') ?? null,
    extendedKeyUsage: list('X509v3 Extended Key Usage') ?? null,
    basicConstraints: bc ? { critical: bc.critical, ca: /CA:TRUE/.test(bcText), pathLen: /pathlen:(\d+)/.test(bcText) ? Number(bcText.match(/pathlen:(\d+)/)![1]) : null } : null,
    subjectKeyId: hex(ext('X509v3 Subject Key Identifier')?.body[0]),
    authorityKeyId: hex(ext('X509v3 Authority Key Identifier')?.body.find((l) => /^(keyid:)?[0-9A-F]{2}:/.test(l))),
    aia: {
      ocsp: aia.filter((l) => l.startsWith('OCSP - URI:')).map((l) => l.slice('OCSP - URI:'.length)),
      caIssuers: aia.filter((l) => l.startsWith('CA Issuers - URI:')).map((l) => l.slice('CA Issuers - URI:'.length)),
    },
    crlDistributionPoints: crl.filter((l) => l.startsWith('URI:')).map((l) => l.slice(4)),
    policies: pol.filter((l) => l.startsWith('Policy: ')).map((l) => l.slice(8)).map((p) => POLICY_NAMES[p] ?? p),
    nameConstraints: nc.length ? { permitted: ncList('Permitted'), excluded: ncList('Excluded') } : null,
  };
}

/** inspect's JSON for one certificate, in the same terms. */
function inspectFields(c: InspectJson['files'][number]['certificates'][number]): Record<string, unknown> {
  return {
    subject: nameForm(c.subject), issuer: nameForm(c.issuer), serial: c.serialNumber.replace(/^(-?)0+(?=.)/, '$1'), notBefore: c.notBefore, notAfter: c.notAfter,
    sha256: c.sha256, sha1: c.sha1, san: sanForm(c.san), keyType: c.keyType, ...(c.keyType === 'Ed25519' ? {} : { keyBits: c.keyBits }),
    signatureAlgorithm: c.signatureAlgorithm,
    keyUsage: c.keyUsage?.map((k) => KU[k] ?? k) ?? null,
    extendedKeyUsage: c.extendedKeyUsage?.map((k) => EKU[k] ?? k) ?? null,
    basicConstraints: c.basicConstraints, subjectKeyId: c.subjectKeyId, authorityKeyId: c.authorityKeyId, aia: c.aia,
    crlDistributionPoints: c.crlDistributionPoints, policies: c.policies,
    nameConstraints: c.nameConstraints ? {
      permitted: c.nameConstraints.permitted.map(ncWords), excluded: c.nameConstraints.excluded.map(ncWords),
    } : null,
  };
}
/**
 * A name in a normalised form: RFC 2253 as both print it, with the attributes of a multi-valued
 * RDN sorted (openssl prints them in DER SET order, inspect in the certificate's order).
 */
function nameForm(name: string): string {
  return name.split(/(?<!\\),/).map((rdn) => rdn.split(/(?<!\\)\+/).sort().join('+')).join(',');
}

/**
 * SANs in a normalised form: sorted (inspect groups them by type, as the doctor does; openssl
 * keeps the certificate's order), IPv6 compressed (openssl prints every group).
 */
function sanForm(san: string[]): string[] {
  return san.map((s) => (s.startsWith('IP:') && s.includes(':', 3) ? `IP:${new URL(`http://[${s.slice(3)}]/`).hostname.slice(1, -1)}` : s)).sort();
}

// openssl prints an IP constraint as IP:10.0.0.0/255.0.0.0, as inspect does.
const ncWords = (s: string) => s;

let dir: string;
/** Every fixture certificate file, plus the openssl mints below. */
const files: string[] = [];

beforeAll(() => {
  dir = tempDir('ollama-tls-inspect-');
  for (const s of readdirSync(SCENARIOS, { withFileTypes: true })) {
    if (!s.isDirectory()) {
      if (s.name.endsWith('.pem')) files.push(path.join(SCENARIOS, s.name));
      continue;
    }
    for (const f of ['chain.pem', 'ca.pem']) {
      try {
        readFileSync(path.join(SCENARIOS, s.name, f));
        files.push(path.join(SCENARIOS, s.name, f));
      } catch { /* not in this scenario */ }
    }
  }
  // The rarer extensions, as openssl itself writes them.
  const mint = (name: string, keyArgs: string[], exts: string[]) => {
    const out = path.join(dir, `${name}.pem`);
    openssl(['req', '-x509', ...keyArgs, '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', out, '-days', '400',
      '-subj', `/C=DE/O=Inspect, Tests/OU=Unit+CN=${name}.example`, ...exts.flatMap((e) => ['-addext', e])]);
    files.push(out);
  };
  mint('rich-rsa', ['-newkey', 'rsa:3072'], [
    'subjectAltName=DNS:rich.example,DNS:*.rich.example,IP:10.1.2.3,email:ops@rich.example,URI:https://rich.example/',
    'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth',
    'authorityInfoAccess=OCSP;URI:http://ocsp.rich.example,caIssuers;URI:http://ca.rich.example/ca.crt',
    'crlDistributionPoints=URI:http://crl.rich.example/a.crl,URI:http://crl2.rich.example/b.crl',
    'certificatePolicies=2.23.140.1.2.1,1.3.6.1.4.1.99999.1',
  ]);
  mint('constrained-ca', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], [
    'basicConstraints=critical,CA:TRUE,pathlen:2', 'keyUsage=critical,keyCertSign,cRLSign',
    'nameConstraints=critical,permitted;DNS:corp.example,permitted;IP:10.0.0.0/255.0.0.0,excluded;DNS:bad.corp.example',
    'certificatePolicies=2.5.29.32.0',
  ]);
  // A negative serial: OpenSSL writes it, Go refuses it.
  mint('negative-serial', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-set_serial', '-1234'], ['subjectAltName=DNS:neg.example']);
  mint('ed25519', ['-newkey', 'ed25519'], ['basicConstraints=critical,CA:FALSE', 'subjectAltName=DNS:ed.example', 'extendedKeyUsage=codeSigning']);
}, 60_000);

describe('inspect equals openssl x509, field by field', () => {
  it('for every fixture certificate and the openssl mints', async () => {
    const report = await inspectJson(files);
    expect(report.schema).toBe(1);
    expect(report.files.map((f) => f.file)).toEqual(files);
    let certs = 0;
    let fields = 0;
    const seen = new Set<string>();
    for (const f of report.files) {
      for (const c of f.certificates) {
        if (seen.has(c.sha256)) continue;
        seen.add(c.sha256);
        const want = opensslFields(c.pem);
        const got = inspectFields(c);
        for (const key of Object.keys(want)) {
          expect(got[key], `${f.file} #${c.index} ${key}`).toEqual(want[key]);
          fields++;
        }
        certs++;
      }
    }
    // Enough to mean something: every scenario's certificates and the three mints.
    expect(certs).toBeGreaterThanOrEqual(35);
    console.log(`inspect vs openssl: ${certs} certificates, ${fields} fields equal`);
  }, 120_000);

  it('the rare extensions really were there to compare', async () => {
    const report = await inspectJson(files.slice(-4));
    const [rich, ca, neg, ed] = report.files.map((f) => f.certificates[0]!);
    expect(neg!.serialNumber).toBe('-04d2');
    expect(neg!.lint.find((l) => l.code === 'malformed-certificate')?.message).toMatch(/negative serial/);
    expect(rich!.aia.ocsp).toEqual(['http://ocsp.rich.example']);
    expect(rich!.crlDistributionPoints).toHaveLength(2);
    expect(rich!.policies).toContain('2.23.140.1.2.1');
    expect(rich!.san).toContain('IP:10.1.2.3');
    expect(ca!.nameConstraints!.permitted).toEqual(['DNS:corp.example', 'IP:10.0.0.0/255.0.0.0']);
    expect(ca!.basicConstraints).toEqual({ critical: true, ca: true, pathLen: 2 });
    expect(ed!.keyType).toBe('Ed25519');
    // An Ed25519 code-signing certificate is linted as one Go refuses for a server.
    expect(ed!.lint.map((l) => l.code)).toContain('wrong-eku');
  }, 60_000);
});

describe('inspect reads every format openssl writes, to the same certificates', () => {
  const chainPem = () => readFileSync(path.join(SCENARIOS, 'valid-rsa', 'chain.pem'), 'utf8');
  const keyFile = () => path.join(SCENARIOS, 'valid-rsa', 'key.pem');
  const sha256s = (pem: string) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)]
    .map((m) => openssl(['x509', '-noout', '-fingerprint', '-sha256'], m[0]).split('=')[1]!.trim().replace(/:/g, '').toLowerCase());

  it('DER, PKCS#7 PEM and DER, PKCS#12 (password, none, -legacy), TRUSTED CERTIFICATE, CRLF, UTF-16, text around', async () => {
    const pem = chainPem();
    const chain = path.join(dir, 'chain.pem');
    writeFileSync(chain, pem);
    const want = sha256s(pem);
    const made: [file: string, format: string, sha256: string[], password?: string][] = [];
    const out = (name: string) => path.join(dir, name);
    openssl(['x509', '-in', chain, '-outform', 'DER', '-out', out('leaf.der')]);
    made.push([out('leaf.der'), 'der', want.slice(0, 1)]);
    openssl(['crl2pkcs7', '-nocrl', '-certfile', chain, '-out', out('chain.p7b')]);
    made.push([out('chain.p7b'), 'pkcs7', want]);
    openssl(['crl2pkcs7', '-nocrl', '-certfile', chain, '-outform', 'DER', '-out', out('chain.p7b.der')]);
    made.push([out('chain.p7b.der'), 'pkcs7', want]);
    for (const [name, extra, password] of [
      ['pw.p12', [], 'correct horse'], ['nopw.p12', [], ''], ['legacy.p12', ['-legacy'], 'legacy pw'], ['legacy-nopw.p12', ['-legacy'], ''],
    ] as [string, string[], string][]) {
      openssl(['pkcs12', '-export', ...extra, '-in', chain, '-inkey', keyFile(), '-passout', `pass:${password}`, '-out', out(name)]);
      made.push([out(name), 'pkcs12', want, password]);
    }
    openssl(['x509', '-in', chain, '-trustout', '-addtrust', 'serverAuth', '-out', out('trusted.pem')]);
    made.push([out('trusted.pem'), 'pem', want.slice(0, 1)]);
    writeFileSync(out('crlf.pem'), pem.replace(/\n/g, '\r\n'));
    made.push([out('crlf.pem'), 'pem', want]);
    writeFileSync(out('utf16.pem'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pem, 'utf16le')]));
    made.push([out('utf16.pem'), 'pem', want]);
    writeFileSync(out('text.pem'), openssl(['x509', '-in', chain, '-text']) + 'and a signature line\n');
    made.push([out('text.pem'), 'pem', want.slice(0, 1)]);
    for (const [file, format, sha, password] of made) {
      const report = await inspectJson([file, ...(password ? ['--password', password] : [])]);
      const f = report.files[0]!;
      expect(f.format, file).toBe(format);
      expect(f.certificates.map((c) => c.sha256), file).toEqual(sha);
      if (format === 'pkcs12') expect(f.keys, file).toBe(1);
    }
    expect(made.length).toBe(11);
    // The password is never printed.
    const r = await runCli(['inspect', out('pw.p12'), '--password', 'correct horse', '--verbose']);
    expect(r.stdout + r.stderr).not.toMatch(/correct horse|PRIVATE KEY/);
  }, 60_000);

  it('reads standard input for "-"', () => {
    const r = spawnSync(process.execPath, [BIN, 'inspect', '-', '--json'], { input: chainPem(), env: cliEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as InspectJson;
    expect(report.files[0]!.file).toBe('-');
    expect(report.files[0]!.certificates.map((c) => c.sha256)).toEqual(sha256s(chainPem()));
  });

  it('a wrong or missing PKCS#12 password, and a file that is no certificate, are exit 2 with a reason', async () => {
    const p12 = path.join(dir, 'pw.p12');
    const wrong = await runCli(['inspect', p12, '--password', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/wrong password/);
    const missing = await runCli(['inspect', p12]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/password-protected/);
    const junk = path.join(dir, 'junk.txt');
    writeFileSync(junk, 'hello\n');
    const r = await runCli(['inspect', junk]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a certificate file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('bundles and lint', () => {
  it('a bundle: order, duplicates, who issued whom, roots', async () => {
    const dirOf = (s: string) => path.join(SCENARIOS, s);
    const leaf = readFileSync(path.join(dirOf('valid-rsa'), 'chain.pem'), 'utf8');
    const root = readFileSync(path.join(dirOf('valid-rsa'), 'ca.pem'), 'utf8');
    const [leafPem, interPem] = leaf.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
    const bundle = path.join(dir, 'bundle.pem');
    // root, intermediate, leaf, intermediate again: issuers before what they issued, and a duplicate.
    writeFileSync(bundle, [root, interPem, leafPem, interPem].join('\n'));
    const report = await inspectJson([bundle]);
    const c = report.files[0]!.certificates;
    expect(c.map((x) => [x.issuedBy, x.duplicateOf, x.root])).toEqual([[null, null, true], [0, null, false], [1, null, false], [0, 1, false]]);
    expect(report.files[0]!.findings.map((f) => f.code)).toContain('chain-order');
  });

  it('lints with the doctor codes: exit 1 on an error, 0 on warnings only', async () => {
    const cases: [scenario: string, code: string, exit: number][] = [
      ['expired-leaf', 'expired', 1], ['not-yet-valid', 'not-yet-valid', 1], ['cn-only', 'cn-only', 1], ['sha1-signed', 'weak-signature', 1],
      ['wrong-eku', 'wrong-eku', 1], ['intermediate-not-ca', 'invalid-ca', 1], ['ca-without-certsign', 'invalid-ca', 1],
      ['rsa-1024', 'weak-key', 0], ['expired-intermediate', 'expired-intermediate', 1],
    ];
    for (const [scenario, code, exit] of cases) {
      const file = path.join(SCENARIOS, scenario, 'chain.pem');
      const r = await runCli(['inspect', '--json', file]);
      const report = JSON.parse(r.stdout) as InspectJson;
      const codes = report.files[0]!.findings.map((f) => f.code);
      expect(codes, scenario).toContain(code);
      expect(r.code, `${scenario}: ${codes.join(',')}`).toBe(exit);
    }
    const ok = await runCli(['inspect', path.join(SCENARIOS, 'valid-rsa', 'chain.pem')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/No lint findings/);
  });
});
