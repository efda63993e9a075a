// explain: real error texts from real clients, the round trip of doctor's own verdict messages,
// collected wordings of other versions, whole logs, and input that is not a log at all.
import { execFile } from 'node:child_process';
import { openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_TRUST } from '../../src/diagnose/client-trust.js';
import { explainLines } from '../../src/diagnose/explain.js';
import { explainText } from '../../src/diagnose/explain-texts.js';
import { FINDING_CODES } from '../../src/diagnose/finding.js';
import { clockFloor } from '../../src/trust/stores.js';
import { BIN, cliEnv, runCli, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { curlSays, goClientSays, nodeSays, opensslSays, opensslVerifySays, pythonSays, type Peer } from '../helpers/clients.js';
import { loadScenario, serveChain, tempDir, type Running, onlyCaTree, ONLY_CA_ENV } from '../helpers/servers.js';
import { WORDINGS } from '../helpers/explain-wordings.js';

const OPTS = { platform: { platform: 'linux' as const, family: 'debian' as const, systemd: true }, now: new Date(), clockFloor: clockFloor() };
const explainOne = async (text: string) => (await explainLines(text.split('\n'), OPTS)).findings;

const FAILING = [
  'missing-intermediate', 'untrusted-root-sent', 'private-root-not-sent', 'self-signed-leaf', 'expired-leaf', 'expired-intermediate',
  'not-yet-valid', 'hostname-mismatch', 'cn-only', 'ip-san-missing', 'sha1-signed', 'wrong-eku', 'intermediate-not-ca',
  'ca-without-certsign', 'path-length',
];

interface Live { peer: Peer; server: Running; doctor: DoctorJson['targets'][number]; texts: Record<string, string | undefined> }
const live = new Map<string, Live>();

beforeAll(async () => {
  await Promise.all(FAILING.map(async (name) => {
    const s = loadScenario(name);
    const server = await serveChain(s);
    const peer: Peer = { port: server.port, name: s.host, caPem: s.caPem };
    const root = onlyCaTree(s.caPem);
    const target = s.host === '127.0.0.1' ? `127.0.0.1:${server.port}` : `${s.host}:${server.port}`;
    const { report } = await runDoctorJson([target, '--root', root, ...(s.host === '127.0.0.1' ? [] : ['--resolve', `${target}:127.0.0.1`])],
      ONLY_CA_ENV);
    const [go, node, curl, python, openssl, verify] = await Promise.all([
      goClientSays(peer), nodeSays(peer), curlSays(peer), pythonSays(peer), opensslSays(peer), opensslVerifySays(peer, s.chainPem),
    ]);
    live.set(name, { peer, server, doctor: report.targets[0]!, texts: { go, node, curl, python, openssl, 'openssl verify': verify } });
  }));
}, 120_000);

afterAll(async () => {
  await Promise.all([...live.values()].map((l) => l.server.close()));
});

const viewCode = (l: Live, view: string) => l.doctor.verdicts.find((v) => v.view === view)!.code;

describe('real clients, real errors', () => {
  // Each client's own words must mean what the doctor's matching view decided: Go is the go view,
  // Node the node view, curl and Python (OpenSSL, first error) the system view.
  const VIEW_OF: Record<string, string> = { go: 'go', node: 'node', curl: 'system', python: 'system' };
  for (const name of FAILING) {
    for (const client of ['go', 'node', 'curl', 'python', 'openssl', 'openssl verify']) {
      it(`${name}: ${client}`, async () => {
        const l = live.get(name)!;
        const text = l.texts[client];
        if (text === undefined) {
          // The client accepted: the doctor's view for it must agree (openssl s_client only reports).
          if (VIEW_OF[client]) expect(l.doctor.verdicts.find((v) => v.view === VIEW_OF[client])!.ok, `${client} accepted ${name}`).toBe(true);
          return;
        }
        const findings = await explainOne(text);
        expect(findings.length, text).toBeGreaterThan(0);
        if (VIEW_OF[client]) {
          expect(findings.map((f) => f.code), text).toContain(viewCode(l, VIEW_OF[client]!));
        } else {
          expect(findings.every((f) => f.client === 'openssl'), text).toBe(true);
        }
      });
    }
  }
});

// Doctor's codes come from the engines' errors (diagnose/verdict-codes.ts), explain's from the words:
// two readings of one failure that must agree (every engine error shape: test/unit/diagnose/verdict-codes.test.ts).
describe('round trip: every doctor verdict message classifies back to its code', () => {
  it('in-process, message by message', async () => {
    let checked = 0;
    for (const l of live.values()) {
      for (const v of l.doctor.verdicts.filter((x) => !x.ok)) {
        const findings = await explainOne(v.message);
        expect(findings.map((f) => f.code), `${v.view}: ${v.message}`).toEqual([v.code]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('through the CLI, from a JSON-lines log', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.log');
    const expected = new Set<string>();
    const lines: string[] = [];
    for (const l of live.values()) {
      for (const v of l.doctor.verdicts.filter((x) => !x.ok)) {
        expected.add(v.code!);
        lines.push(JSON.stringify({ time: '2026-11-22T10:00:00Z', level: 'error', view: v.view, msg: v.message }));
      }
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await runCli(['explain', '--file', file, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { code: string }[] };
    expect(new Set(report.findings.map((f) => f.code))).toEqual(expected);
  });
});

describe('collected wordings', () => {
  it('has a source for every wording', () => {
    expect(WORDINGS.length).toBeGreaterThan(50);
    for (const w of WORDINGS) expect(w.source.length, w.text).toBeGreaterThan(5);
  });
  for (const w of WORDINGS) {
    it(`${w.client}: ${w.text.slice(0, 90).replace(/\n/g, ' ')}`, async () => {
      const findings = await explainOne(w.text);
      expect(findings.map((f) => f.code), w.text).toContain(w.code);
      const f = findings.find((x) => x.code === w.code)!;
      expect(f.client, w.text).toBe(w.client);
      // The finding names host:port when the port is not 443; the table lists bare names.
      for (const h of w.hosts ?? []) expect(f.hosts.map((x) => x.replace(/^\[?(.*?)\]?(?::\d+)?$/, '$1')), w.text).toContain(h);
    });
  }
});

describe('logs', () => {
  it('one finding per distinct problem, with counts and hosts, whatever wraps the messages', async () => {
    const esc = '\x1b[31m';
    const reset = '\x1b[0m';
    const lines = [
      'Nov 22 10:00:01 gpu1 systemd[1]: Started ollama.service.',
      ...Array.from({ length: 40 }, (_, i) =>
        `Nov 22 10:00:${String(i).padStart(2, '0')} gpu1 ollama[812]: time=2026-11-22T10:00:00Z level=ERROR source=images.go:1160 msg="pull failed" error="pull model manifest: Get \\"https://registry.ollama.ai/v2/library/llama3/manifests/latest\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"`),
      `{"level":"error","ts":1732269601,"msg":"Head \\"https://dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com/ollama/docker/registry/v2/blobs/sha256/aa\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"}`,
      `${esc}npm ERR!${reset} code SELF_SIGNED_CERT_IN_CHAIN`,
      `${esc}npm ERR!${reset} errno SELF_SIGNED_CERT_IN_CHAIN`,
      '#12 4.021 curl: (60) SSL certificate problem: unable to get local issuer certificate',
      '2026-11-22T10:01:00.000Z step 3/7: nothing wrong here, just words like certificate and proxy',
    ];
    const { findings } = await explainLines(lines, OPTS);
    const summary = findings.map((f) => [f.code, f.client, f.count]);
    expect(summary).toEqual([
      ['unknown-authority', 'ollama', 41],
      // npm prints one failure as its code and again as its errno: one occurrence.
      ['untrusted-root', 'npm', 1],
      ['unknown-authority', 'curl', 1],
    ]);
    expect(findings[0]!.hosts).toEqual(['registry.ollama.ai', 'dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com']);
    expect(findings[0]!.evidence.length).toBeLessThanOrEqual(3);
    expect(findings[0]!.fixes.at(-1)!.command).toBe('ollama-tls doctor registry.ollama.ai dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com');
  });

  it('sees a wrong clock in Go\'s "current time"', async () => {
    const { findings } = await explainLines(['x509: certificate has expired or is not yet valid: current time 2018-03-01T10:00:00Z is before 2024-06-01T00:00:00Z'], OPTS);
    expect(findings.map((f) => f.code)).toEqual(['not-yet-valid', 'clock-skew']);
  });
});

describe('input that is not a clean log', () => {
  it('empty input: no findings, exit 0', async () => {
    const r = await runCli(['explain', '--json', '--file', '/dev/null']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ schema: 1, findings: [], lines: 0 });
  });

  it('text without a TLS problem: exit 0 and says so', async () => {
    const r = await runCli(['explain', 'everything is fine; the model loaded in 3.2s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No TLS or network problem recognised');
  });

  it('binary input does not crash', async () => {
    const file = path.join(tempDir(), 'random.bin');
    const bytes = Buffer.alloc(2 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(file, bytes);
    const r = await runCli(['explain', '--json', '--file', file]);
    expect([0, 1]).toContain(r.code);
    expect(r.stderr).toBe('');
    expect(Array.isArray(JSON.parse(r.stdout).findings)).toBe(true);
  });

  it('a 50 MiB log streams through with bounded memory', async () => {
    const file = path.join(tempDir(), 'big.log');
    const fd = openSync(file, 'w');
    const filler = 'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01Z level=INFO msg="llama runner started in 3.21 seconds"\n';
    const problem = 'Nov 22 10:00:02 gpu1 ollama[812]: level=ERROR error="Get \\"https://registry.ollama.ai/v2/library/x/manifests/latest\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"\n';
    const block = filler.repeat(999) + problem;
    let written = 0;
    while (written < 50 << 20) written += writeSync(fd, block);
    // A single 8 MiB line with no newline at all.
    writeSync(fd, 'x'.repeat(8 << 20));
    closeSync(fd);
    const t0 = performance.now();
    const { stdout, code, rss } = await new Promise<{ stdout: string; code: number; rss: number }>((resolve) => {
      execFile('/usr/bin/time', ['-f', '%M', process.execPath, BIN, 'explain', '--json', '--file', file], { env: cliEnv(), maxBuffer: 1 << 24, timeout: 120_000 },
        (err, out, errText) => resolve({ stdout: out, code: err ? ((err as { code?: number }).code ?? 1) : 0, rss: Number(errText.trim().split('\n').pop()) }));
    });
    const report = JSON.parse(stdout) as { findings: { code: string; count: number }[]; lines: number };
    expect(code).toBe(1);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]!.count).toBeGreaterThan(400);
    expect(report.lines).toBeGreaterThan(400_000);
    expect(rss, 'peak RSS in KiB').toBeLessThan(200 * 1024);
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 120_000);

  it('usage errors exit 2', async () => {
    expect((await runCli(['explain', '--file', '/nonexistent.log'])).code).toBe(2);
    expect((await runCli(['explain', 'some text', '--file', '/etc/hostname'])).code).toBe(2);
    expect((await runCli(['explain', '--file', '/etc'])).code).toBe(2);
  });
});

describe('counting: one failure printed several times is one occurrence', () => {
  it('a Python traceback with chained exceptions counts once', async () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3/dist-packages/urllib3/connectionpool.py", line 703, in urlopen',
      '    httplib_response = self._make_request(',
      "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:992)",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3/dist-packages/requests/adapters.py", line 486, in send',
      "urllib3.exceptions.MaxRetryError: HTTPSConnectionPool(host='mirror.example', port=443): Max retries exceeded with url: / (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:992)')))",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "<string>", line 2, in <module>',
      "requests.exceptions.SSLError: HTTPSConnectionPool(host='mirror.example', port=443): Max retries exceeded with url: / (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:992)')))",
    ];
    const { findings } = await explainLines(text, OPTS);
    expect(findings.map((f) => [f.code, f.client, f.count])).toEqual([['expired', 'python', 1]]);
    // Two separate runs pasted one after the other are two occurrences.
    const twice = await explainLines([...text, '$ python3 get.py', ...text], OPTS);
    expect(twice.findings.map((f) => [f.code, f.client, f.count])).toEqual([['expired', 'python', 2]]);
  });

  it('a Java exception whose cause sits 100 frames below counts once; the frames do not end the block', async () => {
    const frames = (n: number) => Array.from({ length: n }, (_, i) => `\tat java.net.http/jdk.internal.net.http.common.Frame${i}.run(Frame.java:${i + 1})`);
    const trace = [
      'Exception in thread "main" javax.net.ssl.SSLHandshakeException: No subject alternative DNS name matching localhost found.',
      ...frames(3),
      'Caused by: javax.net.ssl.SSLHandshakeException: No subject alternative DNS name matching localhost found.',
      ...frames(100),
      'Caused by: java.security.cert.CertificateException: No subject alternative DNS name matching localhost found.',
      ...frames(5),
      '\t... 71 more',
    ];
    const once = await explainLines(trace, OPTS);
    expect(once.findings.map((f) => [f.code, f.client, f.count])).toEqual([['hostname-mismatch', 'java', 1]]);
    // Two runs, one after the other, are still two; and 61 lines that are not frames still end a block.
    const twice = await explainLines([...trace, '$ java Get.java', ...trace], OPTS);
    expect(twice.findings.map((f) => [f.code, f.client, f.count])).toEqual([['hostname-mismatch', 'java', 2]]);
    const apart = await explainLines([trace[0]!, ...Array.from({ length: 61 }, (_, i) => `download ${i} done`), trace[0]!], OPTS);
    expect(apart.findings.map((f) => [f.code, f.client, f.count])).toEqual([['hostname-mismatch', 'java', 2]]);
  });

  it("pip's retry block is one occurrence, and its retries are said", async () => {
    const retry = (n: number) => `WARNING: Retrying (Retry(total=${n}, connect=None, read=None, redirect=None, status=None)) after connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:992)'))': /simple/x/`;
    const { findings } = await explainLines([
      'Looking in indexes: https://mirror.example/simple/',
      retry(1), retry(0),
      "Could not fetch URL https://mirror.example/simple/x/: There was a problem confirming the ssl certificate: HTTPSConnectionPool(host='mirror.example', port=443): Max retries exceeded with url: /simple/x/ (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:992)'))) - skipping",
      'ERROR: No matching distribution found for x',
    ], OPTS);
    expect(findings.map((f) => [f.code, f.client, f.count, f.retries])).toEqual([['untrusted-root', 'pip', 1, 2]]);
  });

  it('retries logged over time are counted, and said to be retries', async () => {
    const line = (s: number, msg: string) => `time=2026-11-22T10:00:0${s}Z level=INFO source=images.go:877 msg="${msg}: Get \\"https://registry.ollama.ai/v2/library/x/manifests/latest\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"`;
    const { findings } = await explainLines([line(1, 'request failed'), line(3, 'retrying in 2s'), line(7, 'retrying in 4s')], OPTS);
    expect(findings.map((f) => [f.code, f.client, f.count, f.retries])).toEqual([['unknown-authority', 'ollama', 3, 2]]);
  });
});

describe('evidence and titles', () => {
  it('an OpenSSL block followed by a Node stack trace: one finding, with its evidence', async () => {
    const { findings } = await explainLines([
      '80CBC1436F7F0000:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:ssl/statem/statem_clnt.c:2092:',
      'Error: unable to get local issuer certificate',
      '    at TLSSocket.onConnectSecure (node:_tls_wrap:1677:34)',
      '    at TLSSocket.emit (node:events:519:28)',
      "  code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'",
    ], OPTS);
    expect(findings.map((f) => [f.code, f.client])).toEqual([['unknown-authority', 'node']]);
    for (const f of findings) expect(f.evidence.length, f.title).toBeGreaterThan(0);
  });

  it('no title or detail repeats a word, whatever the code, program, hosts and facts', () => {
    const facts: Record<string, string>[] = [{}, { wanted: 'a.example', validFor: 'b.example', bound: '2026-01-01T00:00:00Z', now: '2026-02-01T00:00:00Z', status: '403', candidate: 'Corp CA', bytes: '300000', reading: 'x' }];
    const hostSets = [[], ['wronghost'], ['a.example', 'b.example:8443', 'c.example', 'd.example']];
    let checked = 0;
    for (const code of FINDING_CODES) {
      for (const client of Object.keys(CLIENT_TRUST) as (keyof typeof CLIENT_TRUST)[]) {
        for (const f of facts) {
          for (const hosts of hostSets) {
            const t = explainText(code, { client, hosts, count: 1, facts: f, platform: OPTS.platform });
            for (const text of [t.title, t.detail]) {
              expect(text, `${code} / ${client}`).not.toMatch(/\b(\w+) \1\b/i);
            }
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});

describe('the misses of issue 14, as the programs printed them', () => {
  const CASES: { text: string[]; code: string; client: string }[] = [
    {
      // pip 23 over urllib3 1.26 (Debian 12): the name check urllib3 does itself.
      text: [
        "WARNING: Certificate did not match expected hostname: a.example. Certificate: {'subject': ((('commonName', 'b.example'),),), 'subjectAltName': (('DNS', 'b.example'),)}",
        "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'SSLError(CertificateError(\"hostname 'a.example' doesn't match 'b.example'\"))': /simple/x/",
      ],
      code: 'hostname-mismatch', client: 'pip',
    },
    {
      text: [
        'Err:1 https://repo.example/debian stable InRelease',
        '  Certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown.  Could not handshake: Error in the certificate verification. [IP: 192.0.2.1 443]',
        'W: Failed to fetch https://repo.example/debian/dists/stable/InRelease  Certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown.  Could not handshake: Error in the certificate verification. [IP: 192.0.2.1 443]',
      ],
      code: 'unknown-authority', client: 'apt',
    },
    {
      text: ['- Status: The certificate is NOT trusted. The certificate issuer is unknown. ', '*** PKI verification of server certificate failed...', '*** Fatal error: Error in the certificate.'],
      code: 'unknown-authority', client: 'gnutls',
    },
    {
      text: ['time="2026-11-22T10:00:00Z" level=fatal msg="Error parsing image name \\"docker://scenario.ollama-tls.test:5000/x:latest\\": pinging container registry scenario.ollama-tls.test:5000: Get \\"https://scenario.ollama-tls.test:5000/v2/\\": x509: certificate signed by unknown authority"'],
      code: 'unknown-authority', client: 'go',
    },
    {
      text: ["ERROR: The certificate of ‘repo.example’ is not trusted.", "ERROR: The certificate of ‘repo.example’ doesn't have a known issuer."],
      code: 'unknown-authority', client: 'wget',
    },
  ];
  for (const c of CASES) {
    it(`${c.client}: ${c.text[0]!.slice(0, 70)}`, async () => {
      const { findings } = await explainLines(c.text, OPTS);
      expect(findings.map((f) => [f.code, f.client, f.count])).toEqual([[c.code, c.client, 1]]);
      expect(findings[0]!.evidence.length).toBeGreaterThan(0);
      if (c.client === 'go') expect(findings[0]!.title).toMatch(/^A Go program /);
    });
  }
});
