// The explain corpus: real programs (Go, curl, wget, Python, pip, Node, npm, git, apt, gnutls-cli,
// OpenSSL, Java, skopeo) run against loopback servers that fail one staged way each, and what each
// one prints. Captured fresh on every run, so the corpus follows the installed versions.
// Nothing here reaches past loopback: servers and proxies listen on 127.0.0.1; every program is
// pointed at them (proxy targets are names no program resolves itself, the proxy answers first).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { goClientBinary } from './cli.js';
import { issueLeaf, makeCa } from './pki.js';
import { startFaultProxy } from './proxies.js';
import { closedPort, serveChain, tempDir, type Running } from './servers.js';
import type { Wording } from './explain-wordings.js';

type ClientId = Wording['client'];

/** A failure staged on loopback, and the codes a program may rightly give it. */
export interface Stage {
  name: 'expired' | 'self-signed' | 'wrong-host' | 'missing-intermediate' | 'private-root' | 'client-cert-required' | 'proxy-down' | 'proxy-407';
  /**
   * The finding codes that are right for it. Several where programs cannot tell causes apart from
   * the handshake alone: Go, GnuTLS and Java say "unknown authority" for a missing intermediate, a
   * private root and a self-signed leaf alike; OpenSSL names each. A refused proxy port reads as a
   * refused connection in programs that do not say it was the proxy.
   */
  codes: string[];
}

export const STAGES: Stage[] = [
  { name: 'expired', codes: ['expired'] },
  { name: 'self-signed', codes: ['self-signed-leaf', 'unknown-authority', 'untrusted-root'] },
  { name: 'wrong-host', codes: ['hostname-mismatch'] },
  { name: 'missing-intermediate', codes: ['missing-intermediate', 'unknown-authority'] },
  { name: 'private-root', codes: ['untrusted-root', 'unknown-authority'] },
  // TLS 1.3 sends the refusal as an alert after the client's Finished: programs that name the
  // alert say so; others only see their first write or read fail on a closed connection.
  { name: 'client-cert-required', codes: ['client-cert-required', 'tls-alert', 'connection-reset'] },
  { name: 'proxy-down', codes: ['proxy-unreachable', 'connection-refused'] },
  { name: 'proxy-407', codes: ['proxy-auth-required'] },
];

/** Where a program is sent for one stage. */
export interface Target {
  /** Host name to ask for; resolves to 127.0.0.1 (localhost) unless a proxy carries the request. */
  host: string;
  port: number;
  /** The CA a correctly configured client trusts (PEM file). */
  caFile: string;
  /** The same CA in a PKCS#12 trust store (password "changeit"), for Java. */
  caP12: string;
  /** http://127.0.0.1:PORT when the request goes through a proxy. */
  proxy?: string;
  /** A fresh scratch directory. */
  dir: string;
}

export interface Program {
  /** How the program is named in test titles and the report. */
  name: string;
  /** Who explain must credit. */
  client: ClientId;
  /** Its version line, or undefined when it cannot run here. */
  version: () => string | undefined;
  /** Why it cannot run here (when version() is undefined). */
  missing: string;
  /** Stages it is not run for, and why. */
  skip?: Partial<Record<Stage['name'], string>>;
  /** Stages where the program's wording does not say which failure it was: the codes it may get, and why. */
  vague?: Partial<Record<Stage['name'], { codes: string[]; why: string }>>;
  /** Programs that do not skip localhost for proxies get it; Go and skopeo get a .test name. */
  proxyHost?: string;
  /** Its output (stdout and stderr) when it failed; undefined when it succeeded. */
  run: (t: Target) => Promise<string | undefined>;
}

export interface Captured {
  program: string;
  client: ClientId;
  stage: Stage;
  text: string;
}

const PY = '/usr/bin/python3';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, opts: { stdin?: string; timeoutMs?: number; cwd?: string } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // Through sh so stdout and stderr interleave as on a terminal (pip's warnings between its lines).
    const child = execFile('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', cmd, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', NO_PROXY: '', no_proxy: '', ...env },
      timeout: opts.timeoutMs ?? 40_000, maxBuffer: 1 << 22, cwd: opts.cwd,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
    // A program that exits without reading its input closes the pipe first: that EPIPE is not a failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.stdin ?? '');
  });
}

const failed = (r: { code: number; out: string }) => (r.code === 0 ? undefined : r.out);

function versionOf(cmd: string, args: string[], pick: (out: string) => string | undefined = (o) => o.split('\n')[0]): () => string | undefined {
  let cached: string | null | undefined;
  return () => {
    if (cached === undefined) {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
      cached = r.status === 0 ? (pick(`${r.stdout}${r.stderr}`.trim()) ?? null) : null;
    }
    return cached ?? undefined;
  };
}

const url = (t: Target, p = '/') => `https://${t.host}:${t.port}${p}`;
const proxyEnv = (t: Target): Record<string, string> => (t.proxy ? { HTTPS_PROXY: t.proxy, https_proxy: t.proxy } : {});

const pyModule = (mod: string) => versionOf(PY, ['-c', `import ${mod}; print("${mod}", ${mod}.__version__)`]);

const PY_SSL = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as s:
    with ctx.wrap_socket(s, server_hostname=sys.argv[1]) as t:
        t.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
        t.recv(100)
`;

const JAVA_GET = `
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Get {
  public static void main(String[] args) throws Exception {
    HttpClient client = HttpClient.newBuilder().proxy(java.net.ProxySelector.getDefault()).build();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(args[0])).build(), HttpResponse.BodyHandlers.ofString());
    System.out.println("ok " + r.statusCode());
  }
}
`;

function javaProps(t: Target): string[] {
  const props = [`-Djavax.net.ssl.trustStore=${t.caP12}`, '-Djavax.net.ssl.trustStorePassword=changeit', '-Djavax.net.ssl.trustStoreType=PKCS12'];
  if (t.proxy) {
    const u = new URL(t.proxy);
    // The JDK's default nonProxyHosts skips localhost; a name matching nothing lets it through.
    props.push(`-Dhttps.proxyHost=${u.hostname}`, `-Dhttps.proxyPort=${u.port}`, '-Dhttp.nonProxyHosts=nothing.invalid');
  }
  return props;
}

const CERT_ONLY = 'it checks a certificate file, not a connection';

export const PROGRAMS: Program[] = [
  {
    name: 'Go net/http', client: 'go', version: versionOf('go', ['env', 'GOVERSION']), missing: 'go is not installed',
    proxyHost: 'scenario.ollama-tls.test',
    run: async (t) => {
      const bin = goClientBinary('httpsget')!;
      mkdirSync(path.join(t.dir, 'empty'), { recursive: true });
      return failed(await run(bin, [url(t)], { SSL_CERT_FILE: t.caFile, SSL_CERT_DIR: path.join(t.dir, 'empty'), ...proxyEnv(t) }));
    },
  },
  {
    name: 'skopeo', client: 'go', version: versionOf('skopeo', ['--version']), missing: 'skopeo is not installed',
    proxyHost: 'scenario.ollama-tls.test',
    run: async (t) => {
      const certs = path.join(t.dir, 'certs');
      mkdirSync(certs, { recursive: true });
      writeFileSync(path.join(certs, 'ca.crt'), readFileSync(t.caFile));
      const conf = path.join(t.dir, 'registries.conf');
      writeFileSync(conf, '');
      return failed(await run('skopeo', ['--registries-conf', conf, 'inspect', '--cert-dir', certs, `docker://${t.host}:${t.port}/corpus/x:latest`],
        { ...proxyEnv(t), REGISTRY_AUTH_FILE: path.join(t.dir, 'auth.json'), XDG_RUNTIME_DIR: t.dir, HOME: t.dir }));
    },
  },
  {
    name: 'curl', client: 'curl', version: versionOf('curl', ['--version']), missing: 'curl is not installed',
    run: async (t) => failed(await run('curl', ['-sS', '-o', '/dev/null', '--cacert', t.caFile, url(t)], proxyEnv(t))),
  },
  {
    name: 'wget', client: 'wget', version: versionOf('wget', ['--version']), missing: 'wget is not installed (Debian package wget)',
    run: async (t) => failed(await run('wget', ['-O', '/dev/null', '--tries=1', '--no-config', '--no-hsts', `--ca-certificate=${t.caFile}`, url(t)], { ...proxyEnv(t), HOME: t.dir })),
  },
  {
    name: 'Python ssl', client: 'python', version: versionOf(PY, ['--version']), missing: 'python3 is not installed',
    skip: { 'proxy-down': 'the ssl module has no proxy support', 'proxy-407': 'the ssl module has no proxy support' },
    run: async (t) => failed(await run(PY, ['-c', PY_SSL, t.host, String(t.port), t.caFile])),
  },
  {
    name: 'Python urllib', client: 'python', version: versionOf(PY, ['--version']), missing: 'python3 is not installed',
    run: async (t) => failed(await run(PY, ['-c', 'import ssl, sys, urllib.request\nurllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=sys.argv[2]), timeout=20)', url(t), t.caFile], proxyEnv(t))),
  },
  {
    name: 'Python requests', client: 'python', version: pyModule('requests'), missing: 'python3-requests is not installed',
    run: async (t) => failed(await run(PY, ['-c', 'import sys, requests\nrequests.get(sys.argv[1], verify=sys.argv[2], timeout=20)', url(t), t.caFile], proxyEnv(t))),
  },
  {
    name: 'Python httpx', client: 'python', version: pyModule('httpx'), missing: 'python3-httpx is not installed (Debian package python3-httpx)',
    run: async (t) => failed(await run(PY, ['-c', 'import sys, httpx\nhttpx.get(sys.argv[1], verify=sys.argv[2], timeout=20)', url(t), t.caFile], proxyEnv(t))),
  },
  {
    name: 'pip', client: 'pip', version: versionOf(PY, ['-m', 'pip', '--version']), missing: 'pip is not installed for /usr/bin/python3 (Debian package python3-pip)',
    run: async (t) => failed(await run(PY, [
      '-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '--no-cache-dir', '--retries', '2', '--timeout', '10',
      '--cert', t.caFile, '--index-url', url(t, '/simple/'), '-d', path.join(t.dir, 'dl'), ...(t.proxy ? ['--proxy', t.proxy] : []), 'corpus-package',
    ], { PIP_CONFIG_FILE: '/dev/null', HOME: t.dir })),
  },
  {
    name: 'Node https', client: 'node', version: () => process.version, missing: '',
    skip: { 'proxy-down': "Node's https module does not read HTTPS_PROXY", 'proxy-407': "Node's https module does not read HTTPS_PROXY" },
    run: async (t) => failed(await run(process.execPath, ['-e', `require('https').get(${JSON.stringify(url(t))}, (r) => r.resume())`], { NODE_EXTRA_CA_CERTS: t.caFile })),
  },
  {
    name: 'Node fetch', client: 'node', version: () => process.version, missing: '',
    skip: { 'proxy-down': "Node 20's fetch does not read HTTPS_PROXY", 'proxy-407': "Node 20's fetch does not read HTTPS_PROXY" },
    run: async (t) => failed(await run(process.execPath, ['-e', `fetch(${JSON.stringify(url(t))}).then((r) => r.text())`], { NODE_EXTRA_CA_CERTS: t.caFile })),
  },
  {
    name: 'npm', client: 'npm', version: versionOf('npm', ['--version'], (o) => `npm ${o}`), missing: 'npm is not installed',
    run: async (t) => {
      const rc = path.join(t.dir, 'npmrc');
      writeFileSync(rc, '');
      return failed(await run('npm', [
        'view', 'corpus-package', '--registry', url(t), '--cafile', t.caFile, '--fetch-retries', '0', '--cache', path.join(t.dir, 'cache'),
        '--logs-dir', path.join(t.dir, 'logs'), '--userconfig', rc, '--no-update-notifier', '--no-audit', '--no-fund',
        ...(t.proxy ? ['--https-proxy', t.proxy, '--noproxy', ''] : []),
      ], { HOME: t.dir }, { cwd: t.dir }));
    },
  },
  {
    name: 'git', client: 'git', version: versionOf('git', ['--version']), missing: 'git is not installed',
    vague: { expired: { codes: ['unknown-authority'], why: "git built with libcurl-gnutls prints only 'server certificate verification failed' whatever the reason" } },
    run: async (t) => failed(await run('git', ['-c', `http.sslCAInfo=${t.caFile}`, ...(t.proxy ? ['-c', `http.proxy=${t.proxy}`] : []), 'ls-remote', url(t, '/corpus.git')],
      { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: t.dir })),
  },
  {
    name: 'apt', client: 'apt', version: versionOf('apt-get', ['--version']), missing: 'apt-get is not installed',
    run: async (t) => {
      // A private apt world in the scratch directory: its own source list, lists, cache and
      // status; the machine's apt configuration and state are never read or written.
      const d = (p: string) => path.join(t.dir, p);
      for (const p of ['lists/partial', 'cache/archives/partial', 'etc/apt.conf.d', 'etc/preferences.d', 'etc/trusted.gpg.d', 'log']) mkdirSync(d(p), { recursive: true });
      writeFileSync(d('sources.list'), `deb [trusted=yes] ${url(t, '/debian')} stable main\n`);
      writeFileSync(d('status'), '');
      writeFileSync(d('apt.conf'), '');
      const r = await run('apt-get', [
        '-o', `Dir::Etc::SourceList=${d('sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::Etc::Parts=${d('etc/apt.conf.d')}`,
        '-o', `Dir::Etc::PreferencesParts=${d('etc/preferences.d')}`, '-o', `Dir::Etc::TrustedParts=${d('etc/trusted.gpg.d')}`,
        '-o', `Dir::State::Lists=${d('lists')}`, '-o', `Dir::State::status=${d('status')}`, '-o', `Dir::Cache=${d('cache')}`, '-o', `Dir::Log=${d('log')}`,
        '-o', 'Debug::NoLocking=1', '-o', 'APT::Sandbox::User=root', '-o', `Acquire::https::CAInfo=${t.caFile}`, '-o', 'Acquire::Retries=0',
        ...(t.proxy ? ['-o', `Acquire::https::Proxy=${t.proxy}`] : ['-o', 'Acquire::https::Proxy=DIRECT']),
        'update',
      ], { APT_CONFIG: d('apt.conf') });
      // apt-get update exits 0 after a source failed: its Err:/W: lines are the failure.
      return /^(?:Err:|W: Failed|E: )/m.test(r.out) ? r.out : undefined;
    },
  },
  {
    name: 'gnutls-cli', client: 'gnutls', version: versionOf('gnutls-cli', ['--version']), missing: 'gnutls-cli is not installed (Debian package gnutls-bin)',
    skip: { 'proxy-down': 'gnutls-cli has no proxy option', 'proxy-407': 'gnutls-cli has no proxy option' },
    run: async (t) => failed(await run('gnutls-cli', ['--x509cafile', t.caFile, '-p', String(t.port), t.host], {}, { stdin: 'GET / HTTP/1.0\r\n\r\n' })),
  },
  {
    name: 'openssl s_client', client: 'openssl', version: versionOf('openssl', ['version']), missing: 'openssl is not installed',
    run: async (t) => {
      const r = await run('openssl', ['s_client', '-connect', `${t.host}:${t.port}`, '-servername', t.host, '-verify_hostname', t.host, '-CAfile', t.caFile, '-ign_eof',
        ...(t.proxy ? ['-proxy', new URL(t.proxy).host] : [])], {}, { stdin: 'GET / HTTP/1.0\r\n\r\n' });
      // s_client exits 0 after a verify failure it only reports, and after an alert that ends
      // the session once it is up: the report is the failure.
      return r.code !== 0 || /Verify return code: [1-9]|:error:/.test(r.out) ? r.out : undefined;
    },
  },
  {
    name: 'openssl verify', client: 'openssl', version: versionOf('openssl', ['version']), missing: 'openssl is not installed',
    skip: { 'client-cert-required': CERT_ONLY, 'proxy-down': CERT_ONLY, 'proxy-407': CERT_ONLY },
    // Filled in per stage by the corpus (it needs the served chain, not a connection).
    run: async () => undefined,
  },
  {
    name: 'Java HttpClient', client: 'java', version: versionOf('java', ['-version']), missing: 'java is not installed (Debian package default-jre-headless)',
    skip: {
      'proxy-down': 'the JDK HttpClient here fails a refused proxy and a 407 alike with a bare java.net.ConnectException that names neither',
      'proxy-407': 'the JDK HttpClient here fails a refused proxy and a 407 alike with a bare java.net.ConnectException that names neither',
    },
    run: async (t) => {
      const src = path.join(t.dir, 'Get.java');
      writeFileSync(src, JAVA_GET);
      return failed(await run('java', [`-Duser.home=${t.dir}`, ...javaProps(t), src, url(t)], { HOME: t.dir }, { timeoutMs: 60_000 }));
    },
  },
];

/** Programs asked about but not run, and why (listed in the test output). */
export const NOT_RUN: { name: string; why: string }[] = [
  {
    name: 'docker CLI',
    why: 'the docker CLI only relays errors from a Docker daemon (the TLS handshake happens in dockerd), and no daemon runs here; dockerd words them as Go does, which the collected wordings cover',
  },
  {
    name: 'keytool -printcert -sslserver',
    why: 'it prints whatever chain the server sends without verifying it (no trust, expiry or name error to capture), and words every connection failure, refused proxy or 407 alike, "No certificate from the SSL server"',
  },
  {
    name: 'podman',
    why: 'not installed; it pulls through containers/image, the same Go library skopeo uses, so its TLS wording is the one skopeo prints here',
  },
];

interface StagedServer {
  stage: Stage;
  server?: Running;
  port: number;
  /** Chain file and leaf for `openssl verify`. */
  verify?: { leaf: string; untrusted?: string; host: string };
}

export interface Corpus {
  captured: Captured[];
  /** Program/stage pairs that printed nothing (the program accepted), with the reason when skipped. */
  silent: { program: string; stage: string; why: string }[];
  close(): Promise<void>;
}

function selfSigned(dir: string, host: string): { keyPem: string; chainPem: string } {
  const key = path.join(dir, 'self.key');
  const cert = path.join(dir, 'self.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${host}`,
    '-addext', `subjectAltName=DNS:${host}`, '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth'], { stdio: 'ignore' });
  return { keyPem: readFileSync(key, 'utf8'), chainPem: readFileSync(cert, 'utf8') };
}

const firstCert = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0];

/** Start the staged servers, run every program against each, and collect what they print. */
export async function captureCorpus(opts: { programs?: Program[]; parallel?: number } = {}): Promise<Corpus> {
  const dir = tempDir('ollama-tls-corpus-');
  const root = await makeCa('Corpus Test Root', 'ollama-tls corpus');
  const inter = await makeCa('Corpus Test Intermediate', 'ollama-tls corpus', { issuer: root });
  const privateRoot = await makeCa('Corpus Private Root', 'Somewhere Else');
  const clientCa = await makeCa('Corpus Client CA', 'ollama-tls corpus');
  const names = ['localhost', 'scenario.ollama-tls.test'];
  const good = await issueLeaf(inter, names);
  const expired = await issueLeaf(inter, names, { issuedHoursAgo: 24 * 200 });
  const other = await issueLeaf(inter, ['other.ollama-tls.test']);
  const priv = await issueLeaf(privateRoot, names);
  const self = selfSigned(dir, 'localhost');
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, root.certPem);
  const caP12 = path.join(dir, 'ca.p12');
  // Java reads a PKCS#12 trust store (Java 17 takes no PEM); only when Java is here to use it.
  if (spawnSync('keytool', ['-help']).status === 0) execFileSync('keytool', ['-importcert', '-noprompt', '-alias', 'corpus-root', '-file', caFile, '-keystore', caP12, '-storetype', 'PKCS12', '-storepass', 'changeit'], { stdio: 'ignore' });

  const file = (name: string, pem: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, pem);
    return f;
  };
  const leafOnly = (pem: string) => firstCert(pem);
  const rest = (pem: string) => pem.slice(firstCert(pem).length).trim() + '\n';
  const staged: StagedServer[] = [];
  const tlsStage = async (name: Stage['name'], chain: { keyPem: string; chainPem: string }, extra: Parameters<typeof serveChain>[1] = {}, verifyHost = 'localhost') => {
    const server = await serveChain(chain, { http: true, ...extra });
    const untrusted = rest(chain.chainPem);
    staged.push({
      stage: STAGES.find((s) => s.name === name)!, server, port: server.port,
      verify: { leaf: file(`${name}-leaf.pem`, leafOnly(chain.chainPem)), untrusted: untrusted.includes('BEGIN') ? file(`${name}-rest.pem`, untrusted) : undefined, host: verifyHost },
    });
  };
  await tlsStage('expired', expired);
  await tlsStage('self-signed', self);
  await tlsStage('wrong-host', other);
  await tlsStage('missing-intermediate', { keyPem: good.keyPem, chainPem: leafOnly(good.chainPem) });
  await tlsStage('private-root', priv);
  // TLS 1.3: the refusal arrives as a certificate_required alert after the client's Finished.
  await tlsStage('client-cert-required', good, { tls: { requestCert: true, rejectUnauthorized: true, ca: clientCa.certPem } });
  staged.push({ stage: STAGES.find((s) => s.name === 'proxy-down')!, port: await closedPort() });
  const p407 = await startFaultProxy('407');
  staged.push({ stage: STAGES.find((s) => s.name === 'proxy-407')!, server: p407, port: p407.port });

  const captured: Captured[] = [];
  const silent: Corpus['silent'] = [];
  const jobs: (() => Promise<void>)[] = [];
  for (const program of opts.programs ?? PROGRAMS) {
    if (!program.version()) continue;
    for (const s of staged) {
      const why = program.skip?.[s.stage.name];
      if (why) {
        silent.push({ program: program.name, stage: s.stage.name, why });
        continue;
      }
      jobs.push(async () => {
        const scratch = tempDir('ollama-tls-corpus-run-');
        const proxied = s.stage.name.startsWith('proxy-');
        // A proxied request's own target is never dialled: the proxy fails first.
        const t: Target = proxied
          ? { host: program.proxyHost ?? 'localhost', port: 443, caFile, caP12, proxy: `http://127.0.0.1:${s.port}`, dir: scratch }
          : { host: 'localhost', port: s.port, caFile, caP12, dir: scratch };
        let text: string | undefined;
        if (program.name === 'openssl verify') {
          const v = s.verify!;
          const r = await run('openssl', ['verify', '-CAfile', caFile, ...(v.untrusted ? ['-untrusted', v.untrusted] : []), '-purpose', 'sslserver', '-verify_hostname', v.host, v.leaf]);
          text = failed(r);
        } else {
          text = await program.run(t);
        }
        if (text === undefined) silent.push({ program: program.name, stage: s.stage.name, why: 'the program reported no failure' });
        else captured.push({ program: program.name, client: program.client, stage: s.stage, text });
      });
    }
  }
  const parallel = opts.parallel ?? 4;
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
  captured.sort((a, b) => a.program.localeCompare(b.program) || a.stage.name.localeCompare(b.stage.name));
  return {
    captured, silent,
    close: async () => {
      await Promise.all(staged.map((s) => s.server?.close()));
    },
  };
}
