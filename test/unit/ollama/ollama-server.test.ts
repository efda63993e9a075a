// "Ollama itself": real loopback HTTP servers stand in for `ollama serve`, temp trees hold systemd
// units, and a fake /proc holds the running server, so every check runs against real sockets and
// real files without touching this machine's Ollama (if any).
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/platform/rootfs.js';
import { advisoriesFor, compareVersions, OLLAMA_ADVISORIES, parseOllamaVersion } from '../../../src/ollama/advisories.js';
import { redactValue } from '../../../src/ollama/check.js';
import { diagnoseOllama, exposedFinding } from '../../../src/diagnose/ollama-findings.js';
import { parseOllamaHost } from '../../../src/ollama/host.js';
import { bootTime, findOllamaServers, startTicks } from '../../../src/ollama/server-process.js';
import { parseEnvFile, readSystemdService, splitWords } from '../../../src/ollama/systemd.js';
import { listen, tempDir, track, type Running } from '../../helpers/servers.js';

/** Write files (path -> content) into a fresh tree. */
function tree(files: Record<string, string>): string {
  const root = tempDir('ollama-tls-ollama-');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    writeFileSync(path.join(root, p), text);
  }
  return root;
}

interface FakeOllama extends Running {
  requests: { url: string; host?: string; authorization?: string }[];
}

/** A stand-in `ollama serve`: /api/version and / as Ollama answers them, or 401 when `auth` is set. */
async function fakeOllama(version: string, opts: { auth?: boolean } = {}): Promise<FakeOllama> {
  const requests: FakeOllama['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', host: req.headers.host, authorization: req.headers.authorization });
    if (opts.auth) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Ollama"' }).end();
    } else if (req.url === '/api/version') {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ version }));
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Ollama is running');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
    }
  });
  await listen(server);
  return { ...track(server), requests };
}

const NOW = new Date('2026-06-01T12:00:00Z');
const emptyProc = () => tempDir('ollama-tls-proc-');

describe('Ollama versions and advisories', () => {
  it.each([
    ['0.1.33', '0.1.34', -1],
    ['0.1.34', '0.1.34', 0],
    ['v0.5.7', '0.5.7', 0],
    ['0.5.7-rc1', '0.5.7', -1],
    ['0.5.7-rc2', '0.5.7-rc10', -1],
    ['0.5.7-3-gabc1234', '0.5.7', 1], // a git-describe build after the tag
    ['0.5.7-3-gabc1234-dirty', '0.5.8', -1],
    ['0.10.0', '0.9.9', 1],
    ['1.0.0', '0.35.0', 1],
  ])('%s vs %s -> %i', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(want === 0 ? 0 : -want);
  });

  it('a development build (0.0.0) or junk is unknown, never "vulnerable"', () => {
    expect(parseOllamaVersion('0.0.0')).toBeNull();
    expect(compareVersions('0.0.0', '0.1.34')).toBeNull();
    expect(compareVersions('latest', '0.1.34')).toBeNull();
    expect(advisoriesFor('0.0.0')).toBeNull();
  });

  it('matches the advisories by range', () => {
    const ids = (v: string) => advisoriesFor(v)!.map((a) => a.id);
    expect(ids('0.1.33')).toEqual(expect.arrayContaining(['CVE-2024-37032', 'CVE-2024-39721', 'CVE-2024-45436', 'CVE-2026-7482']));
    expect(ids('0.1.28')).toContain('CVE-2024-28224');
    expect(ids('0.1.29')).not.toContain('CVE-2024-28224');
    expect(ids('0.1.34-rc1')).toContain('CVE-2024-37032'); // a pre-release of the fix is not the fix
    expect(ids('0.1.34')).not.toContain('CVE-2024-37032');
    expect(ids('0.1.46')).toEqual(expect.arrayContaining(['CVE-2024-45436']));
    expect(ids('0.1.46')).not.toContain('CVE-2024-39720');
    expect(ids('0.14.2')).toContain('CVE-2025-51471');
    expect(ids('0.14.3')).not.toContain('CVE-2025-51471');
    expect(ids('0.20.1')).toContain('CVE-2026-7020');
    expect(ids('0.19.0')).not.toContain('CVE-2026-7020');
    expect(ids('0.20.3')).not.toContain('CVE-2026-7020');
    expect(ids('0.33.2')).toContain('CVE-2026-85180');
    expect(ids('0.34.2')).toEqual(['CVE-2026-103663']);
    expect(ids('0.35.0')).toEqual([]);
  });

  it('every row is usable data: a parseable range and an https source', () => {
    for (const a of OLLAMA_ADVISORIES) {
      expect(a.id).toMatch(/^CVE-\d{4}-\d{4,}$/);
      expect(a.fixed ?? a.lastAffected).toBeDefined();
      for (const v of [a.introduced, a.fixed, a.lastAffected]) if (v) expect(parseOllamaVersion(v)).not.toBeNull();
      expect(a.source).toMatch(/^https:\/\//);
      if (a.confidence === 'partial') expect(a.note).toBeTruthy();
    }
  });
});

describe('OLLAMA_HOST as Ollama parses it', () => {
  it.each([
    [undefined, '127.0.0.1', 11434, 'http', false],
    ['', '127.0.0.1', 11434, 'http', false],
    ['1.2.3.4', '1.2.3.4', 11434, 'http', true],
    [':1234', '', 1234, 'http', true],
    ['0.0.0.0', '0.0.0.0', 11434, 'http', true],
    ['"0.0.0.0:8080"', '0.0.0.0', 8080, 'http', true],
    ['http://1.2.3.4', '1.2.3.4', 80, 'http', true],
    ['https://example.com/ollama', 'example.com', 443, 'https', true],
    ['http://', '127.0.0.1', 80, 'http', false],
    ['::1', '::1', 11434, 'http', false],
    ['[::1]:abc', '::1', 11434, 'http', false],
    ['localhost:9999', 'localhost', 9999, 'http', false],
    ['127.0.0.1:99999', '127.0.0.1', 11434, 'http', false],
  ])('%s', (value, host, port, scheme, pub) => {
    expect(parseOllamaHost(value)).toMatchObject({ host, port, scheme, public: pub });
  });

  it('keeps a path', () => {
    expect(parseOllamaHost('https://example.com/ollama').path).toBe('/ollama');
  });
});

describe('systemd: the environment of ollama serve', () => {
  it('splits Environment= words as systemd does', () => {
    expect(splitWords(`"A=a b" B='c d' C=e\\ f D="x\\"y" E=1%%`)).toEqual(['A=a b', 'B=c d', 'C=e f', 'D=x"y', 'E=1%%']);
    expect(splitWords('FOO="quoted in the middle"')).toEqual(['FOO=quoted in the middle']);
  });

  it('reads EnvironmentFile syntax', () => {
    const text = 'A=1\n# comment\n; comment\nB="two words"\nC=\'lit $x\'\nD=trail   \nE=a\\\nb\nnot a line\n9X=bad\nF=x"y"\n';
    expect(parseEnvFile(text).map((v) => [v.name, v.value])).toEqual([
      ['A', '1'], ['B', 'two words'], ['C', 'lit $x'], ['D', 'trail'], ['E', 'ab'], ['F', 'x"y"'],
    ]);
  });

  it('unit in /usr/lib, drop-ins from /usr/lib, /run and /etc in name order, /etc hiding /usr/lib, EnvironmentFile on top', () => {
    const root = tree({
      'usr/lib/systemd/system/ollama.service':
        '[Unit]\nDescription=Ollama Service\n\n[Service]\nExecStart=/usr/local/bin/ollama serve\nUser=ollama\n' +
        'Environment="PATH=/usr/local/bin:/usr/bin" "OLLAMA_HOST=127.0.0.1:11434"\nEnvironmentFile=-/etc/default/ollama\n' +
        'Environment=HTTPS_PROXY=http://unit.proxy:3128\n\n[Install]\nWantedBy=default.target\n',
      'usr/lib/systemd/system/ollama.service.d/10-vendor.conf': '[Service]\nEnvironment=OLLAMA_ORIGINS=vendor\n',
      'usr/lib/systemd/system/ollama.service.d/override.conf': '[Service]\nEnvironment=SSL_CERT_FILE=/from/usr/lib.pem\n',
      'run/systemd/system/ollama.service.d/50-run.conf': '[Service]\nEnvironment=OLLAMA_ORIGINS=run\n',
      'etc/systemd/system/ollama.service.d/override.conf':
        '### Editing /etc/systemd/system/ollama.service.d/override.conf\n[Service]\n' +
        'Environment="HTTPS_PROXY=http://alice:s3cret@proxy.corp:3128" NO_PROXY=localhost,127.0.0.1\n' +
        'Environment=SSL_CERT_FILE=/etc/ssl/corp-bundle.pem\n',
      'etc/default/ollama': '# set by the admin\nOLLAMA_HOST="0.0.0.0:11434"\n',
    });
    const svc = readSystemdService(new RootFs(root))!;
    expect(svc.unit).toBe('/usr/lib/systemd/system/ollama.service');
    expect(svc.masked).toBe(false);
    expect(svc.dropIns).toEqual([
      '/usr/lib/systemd/system/ollama.service.d/10-vendor.conf',
      '/run/systemd/system/ollama.service.d/50-run.conf',
      '/etc/systemd/system/ollama.service.d/override.conf',
    ]);
    const at = (n: string) => [svc.env[n]?.value, svc.env[n]?.source, svc.env[n]?.via];
    expect(at('HTTPS_PROXY')).toEqual(['http://alice:s3cret@proxy.corp:3128', '/etc/systemd/system/ollama.service.d/override.conf', 'Environment']);
    expect(at('NO_PROXY')).toEqual(['localhost,127.0.0.1', '/etc/systemd/system/ollama.service.d/override.conf', 'Environment']);
    expect(at('SSL_CERT_FILE')).toEqual(['/etc/ssl/corp-bundle.pem', '/etc/systemd/system/ollama.service.d/override.conf', 'Environment']);
    expect(at('OLLAMA_ORIGINS')).toEqual(['run', '/run/systemd/system/ollama.service.d/50-run.conf', 'Environment']);
    // EnvironmentFile= beats every Environment=, wherever it sits.
    expect(at('OLLAMA_HOST')).toEqual(['0.0.0.0:11434', '/etc/default/ollama', 'EnvironmentFile']);
    expect(svc.env.OLLAMA_HOST!.line).toBe(2);
    expect(svc.environmentFiles).toEqual([{ path: '/etc/default/ollama', optional: true, status: 'loaded', from: '/usr/lib/systemd/system/ollama.service' }]);
    expect(svc.files).toContain('/etc/default/ollama');
  });

  it('a unit in /etc masks the one in /usr/lib; an empty Environment= drops what came before', () => {
    const root = tree({
      'usr/lib/systemd/system/ollama.service': '[Service]\nEnvironment=A=lib\n',
      'etc/systemd/system/ollama.service': '[Service]\nEnvironment=A=etc B=etc\n',
      'etc/systemd/system/ollama.service.d/20-reset.conf': '[Service]\nEnvironment=\nEnvironment=C=after-reset\n',
    });
    const svc = readSystemdService(new RootFs(root))!;
    expect(svc.unit).toBe('/etc/systemd/system/ollama.service');
    expect(Object.keys(svc.env)).toEqual(['C']);
  });

  it('the manager DefaultEnvironment is underneath; a missing required EnvironmentFile is noted; a /dev/null link masks', () => {
    const root = tree({
      'etc/systemd/system.conf': '[Manager]\nDefaultEnvironment="HTTPS_PROXY=http://corp.proxy:8080" NO_PROXY=.corp\n',
      'usr/lib/systemd/system/ollama.service': '[Service]\nEnvironment=NO_PROXY=.internal\nEnvironmentFile=/etc/ollama.env\n',
    });
    const svc = readSystemdService(new RootFs(root))!;
    expect(svc.env.HTTPS_PROXY).toMatchObject({ value: 'http://corp.proxy:8080', source: '/etc/systemd/system.conf', via: 'DefaultEnvironment' });
    expect(svc.env.NO_PROXY).toMatchObject({ value: '.internal', via: 'Environment' });
    expect(svc.environmentFiles[0]).toMatchObject({ path: '/etc/ollama.env', optional: false, status: 'missing' });
    expect(svc.notes.join('\n')).toMatch(/refuse to start/);

    mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    symlinkSync('/dev/null', path.join(root, 'etc/systemd/system/ollama.service'));
    expect(readSystemdService(new RootFs(root))).toMatchObject({ unit: '/etc/systemd/system/ollama.service', masked: true });
    expect(readSystemdService(new RootFs(tree({ 'etc/hostname': 'x\n' })))).toBeUndefined();
  });
});

// A fake /proc: boot at BOOT, processes with a start offset (seconds after boot).
const BOOT = Date.parse('2026-06-01T00:00:00Z') / 1000;
function statLine(pid: number, comm: string, startSeconds: number): string {
  const fields4to21 = Array.from({ length: 18 }, (_, i) => String(i + 1));
  return `${pid} (${comm}) S ${fields4to21.join(' ')} ${startSeconds * 100} 0 0 0\n`;
}
function fakeProc(procs: { pid: number; argv: string[]; startSeconds: number; environ?: Record<string, string>; cgroup?: string }[]): string {
  const dir = tempDir('ollama-tls-proc-');
  writeFileSync(path.join(dir, 'stat'), `cpu  1 2 3 4\nbtime ${BOOT}\nprocesses 42\n`);
  for (const p of procs) {
    const d = path.join(dir, String(p.pid));
    mkdirSync(d);
    writeFileSync(path.join(d, 'cmdline'), `${p.argv.join('\0')}\0`);
    writeFileSync(path.join(d, 'stat'), statLine(p.pid, 'ollama) (x', p.startSeconds));
    if (p.environ) writeFileSync(path.join(d, 'environ'), `${Object.entries(p.environ).map(([k, v]) => `${k}=${v}`).join('\0')}\0`);
    if (p.cgroup) writeFileSync(path.join(d, 'cgroup'), p.cgroup);
  }
  return dir;
}

describe('running ollama serve processes', () => {
  it('finds servers only, with start time and environment', () => {
    const proc = fakeProc([
      { pid: 812, argv: ['/usr/local/bin/ollama', 'serve'], startSeconds: 60, environ: { PATH: '/usr/bin', HTTPS_PROXY: 'http://p:3128', SECRET_TOKEN: 'x' }, cgroup: '0::/system.slice/ollama.service\n' },
      { pid: 900, argv: ['/usr/local/bin/ollama', 'runner', '--model', '/x'], startSeconds: 70 },
      { pid: 901, argv: ['ollama', 'run', 'llama3'], startSeconds: 80 },
      { pid: 950, argv: ['/bin/ollama', 'serve'], startSeconds: 90, cgroup: '0::/system.slice/docker-0123abcd.scope\n' },
    ]);
    const servers = findOllamaServers(proc);
    expect(servers.map((s) => s.pid)).toEqual([812, 950]);
    expect(servers[0]).toMatchObject({
      startedAt: new Date((BOOT + 60) * 1000).toISOString(), envReadable: true, env: { HTTPS_PROXY: 'http://p:3128' }, unit: 'ollama.service', container: false,
    });
    expect(servers[0]!.env).not.toHaveProperty('SECRET_TOKEN');
    expect(servers[1]).toMatchObject({ envReadable: false, container: true });
  });

  it('reads this machine\'s /proc too', () => {
    expect(bootTime('/proc')).toBeGreaterThan(0);
    expect(startTicks(statLine(1, 'a) b', 5))).toBe(500);
    expect(Array.isArray(findOllamaServers('/proc'))).toBe(true);
  });
});

describe('checkOllama against a real server on loopback', () => {
  let old: FakeOllama;
  let current: FakeOllama;
  let guarded: FakeOllama;
  beforeAll(async () => {
    [old, current, guarded] = await Promise.all([fakeOllama('0.1.33'), fakeOllama('0.35.0'), fakeOllama('0.35.0', { auth: true })]);
  });
  afterAll(async () => {
    await Promise.all([old, current, guarded].map((s) => s.close()));
  });

  const run = (env: NodeJS.ProcessEnv, root = tree({}), procDir = emptyProc(), trustFiles?: string[]) =>
    diagnoseOllama({ fs: new RootFs(root), env, now: NOW, timeoutMs: 5000, procDir, ...(trustFiles ? { trustFiles } : {}) });

  it('a vulnerable version: every advisory that applies, with the fix', async () => {
    const { report, findings } = await run({ OLLAMA_HOST: `127.0.0.1:${old.port}` });
    expect(report).toMatchObject({ reachable: true, status: 200, running: true, version: '0.1.33', host: { url: `http://127.0.0.1:${old.port}`, public: false } });
    const f = findings.find((x) => x.code === 'ollama-version-vulnerable')!;
    expect(f.severity).toBe('error');
    expect(f.detail).toContain('CVE-2024-37032');
    expect(f.detail).toContain('fixed in 0.1.34');
    expect(f.evidence).toContain('CVE-2024-37032: https://nvd.nist.gov/vuln/detail/CVE-2024-37032');
    expect(f.fixes.map((x) => x.command)).toContain('curl -fsSL https://ollama.com/install.sh | sh');
    expect(report.advisories!.map((a) => a.id)).toContain('CVE-2024-37032');
    expect(findings.map((x) => x.code)).not.toContain('ollama-exposed');
    // What the CLI sends: no credentials, the Host it would use.
    expect(old.requests.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/version', '/']));
    expect(old.requests.every((r) => r.authorization === undefined && r.host === `127.0.0.1:${old.port}`)).toBe(true);
  });

  it('a current version: no finding', async () => {
    const { report, findings } = await run({ OLLAMA_HOST: `http://127.0.0.1:${current.port}` });
    expect(report.version).toBe('0.35.0');
    expect(report.advisories).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('nothing running: a note, no finding', async () => {
    const probe = http.createServer();
    await listen(probe);
    const { port } = track(probe);
    await new Promise<void>((r) => probe.close(() => r()));
    const { report, findings } = await run({ OLLAMA_HOST: `127.0.0.1:${port}` });
    expect(report.reachable).toBe(false);
    expect(report.version).toBeNull();
    expect(report.error).toMatch(/ECONNREFUSED/);
    expect(report.notes.join('\n')).toMatch(/Nothing answers/);
    expect(findings).toEqual([]);
  });

  it('the unit binds 0.0.0.0 and the API answers without credentials: ollama-exposed', async () => {
    const root = tree({ 'etc/systemd/system/ollama.service': `[Service]\nExecStart=/usr/local/bin/ollama serve\nEnvironment="OLLAMA_HOST=0.0.0.0:${current.port}"\n` });
    const { report, findings } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root);
    expect(report.bind).toMatchObject({ host: '0.0.0.0', public: true });
    expect(report.bind!.source).toContain('/etc/systemd/system/ollama.service:3');
    const f = findings.find((x) => x.code === 'ollama-exposed')!;
    expect(f.severity).toBe('error');
    expect(f.detail).toMatch(/no authentication of its own/);
    const commands = f.fixes.map((x) => x.command ?? '').join('\n');
    expect(commands).toContain('OLLAMA_HOST=127.0.0.1:11434');
    expect(commands).toMatch(/auth_basic_user_file/);
    expect(commands).toContain('proxy_pass           http://127.0.0.1:11434;');
    expect(commands).toMatch(/basic_auth \{/);
    expect(commands).toMatch(/Authorization "Bearer/);
  });

  it('a proxy in front that asks for credentials is not exposed', async () => {
    const root = tree({ 'etc/systemd/system/ollama.service': `[Service]\nEnvironment="OLLAMA_HOST=0.0.0.0:${guarded.port}"\n` });
    const { report, findings } = await run({ OLLAMA_HOST: `127.0.0.1:${guarded.port}` }, root);
    expect(report).toMatchObject({ reachable: true, status: 401, version: null });
    expect(findings.map((x) => x.code)).not.toContain('ollama-exposed');
  });

  it('exposedFinding is reusable for an upstream target', () => {
    const f = exposedFinding('http://10.0.0.5:11434', ['GET http://10.0.0.5:11434/api/version -> 200']);
    expect(f).toMatchObject({ code: 'ollama-exposed', severity: 'error', evidence: ['GET http://10.0.0.5:11434/api/version -> 200'] });
  });

  it('OLLAMA_ORIGINS=* for the server: a warning; the shell\'s value does not count when the unit is known', async () => {
    const { findings, report } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}`, OLLAMA_ORIGINS: '*' });
    expect(report.origins).toEqual({ value: '*', source: 'shell', open: true });
    expect(findings.find((x) => x.code === 'ollama-origins-open')?.severity).toBe('warning');

    const root = tree({ 'usr/lib/systemd/system/ollama.service': '[Service]\nEnvironment=OLLAMA_ORIGINS=https://app.example.com,chrome-extension://*\n' });
    const withUnit = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}`, OLLAMA_ORIGINS: '*' }, root);
    expect(withUnit.report.origins).toMatchObject({ open: false, source: '/usr/lib/systemd/system/ollama.service:2' });
    expect(withUnit.findings.map((x) => x.code)).not.toContain('ollama-origins-open');

    const open = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, tree({ 'usr/lib/systemd/system/ollama.service': '[Service]\nEnvironment="OLLAMA_ORIGINS=https://*"\n' }));
    expect(open.findings.find((x) => x.code === 'ollama-origins-open')?.title).toContain('https://*');
  });

  it('the shell has HTTPS_PROXY, the service does not: ollama-proxy-env with the drop-in lines, password hidden', async () => {
    const root = tree({ 'etc/systemd/system/ollama.service': '[Service]\nExecStart=/usr/local/bin/ollama serve\n' });
    const { findings } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}`, HTTPS_PROXY: 'http://bob:pa55@proxy.corp:3128', NO_PROXY: 'localhost' }, root);
    const info = findings.find((x) => x.code === 'ollama-service-env' && x.severity === 'info')!;
    expect(info.evidence).toEqual(expect.arrayContaining(['HTTPS_PROXY not set', 'SSL_CERT_FILE not set']));
    const f = findings.find((x) => x.code === 'ollama-proxy-env')!;
    expect(f.severity).toBe('warning');
    expect(f.fixes[0]!.command).toContain('sudo systemctl edit ollama');
    expect(f.fixes[0]!.command).toContain('[Service]\nEnvironment="HTTPS_PROXY=http://bob:***@proxy.corp:3128"\nEnvironment="NO_PROXY=localhost"');
    expect(JSON.stringify(findings)).not.toContain('pa55');
  });

  it('the service has its proxy: only the note, which says where it came from', async () => {
    const root = tree({
      'usr/lib/systemd/system/ollama.service': '[Service]\nExecStart=/usr/local/bin/ollama serve\n',
      'etc/systemd/system/ollama.service.d/override.conf': '[Service]\nEnvironment="HTTPS_PROXY=http://svc:secret@proxy.corp:3128"\n',
    });
    const { findings, report } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}`, HTTPS_PROXY: 'http://proxy.corp:3128' }, root);
    expect(findings.map((x) => x.code)).toEqual(['ollama-service-env']);
    expect(findings[0]!.evidence[0]).toBe('HTTPS_PROXY=http://svc:***@proxy.corp:3128 (/etc/systemd/system/ollama.service.d/override.conf:2)');
    expect(report.service!.env).toEqual([{ name: 'HTTPS_PROXY', value: 'http://svc:***@proxy.corp:3128', source: '/etc/systemd/system/ollama.service.d/override.conf:2' }]);
  });

  it('SSL_CERT_FILE for the service points at nothing: an error', async () => {
    const root = tree({ 'usr/lib/systemd/system/ollama.service': '[Service]\nEnvironment=SSL_CERT_FILE=/etc/ssl/corp-bundle.pem\n' });
    const { findings } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root);
    expect(findings.find((x) => x.code === 'ollama-cert-file-missing')).toMatchObject({ severity: 'error', evidence: ['SSL_CERT_FILE=/etc/ssl/corp-bundle.pem (/usr/lib/systemd/system/ollama.service:2)', '/etc/ssl/corp-bundle.pem: no such file'] });
    mkdirSync(path.join(root, 'etc/ssl'), { recursive: true });
    writeFileSync(path.join(root, 'etc/ssl/corp-bundle.pem'), '-----BEGIN CERTIFICATE-----\n');
    expect((await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root)).findings.map((x) => x.code)).not.toContain('ollama-cert-file-missing');
  });

  it('a server started before the bundle changed: ollama-restart-needed', async () => {
    const root = tree({
      'etc/ssl/certs/ca-certificates.crt': 'bundle\n',
      'etc/systemd/system/ollama.service': '[Service]\nExecStart=/usr/local/bin/ollama serve\n',
    });
    const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
    const unitFile = path.join(root, 'etc/systemd/system/ollama.service');
    const old = (BOOT - 86400) as number;
    utimesSync(unitFile, old, old);
    const proc = fakeProc([{ pid: 812, argv: ['/usr/local/bin/ollama', 'serve'], startSeconds: 60, environ: { HOME: '/usr/share/ollama' }, cgroup: '0::/system.slice/ollama.service\n' }]);

    utimesSync(bundle, BOOT + 3600, BOOT + 3600); // update-ca-certificates ran an hour after the server started
    const { findings, report } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root, proc);
    expect(report.processes).toEqual([{ pid: 812, startedAt: new Date((BOOT + 60) * 1000).toISOString(), unit: 'ollama.service', container: false, envReadable: true, env: [] }]);
    const f = findings.find((x) => x.code === 'ollama-restart-needed')!;
    expect(f.severity).toBe('warning');
    expect(f.evidence).toEqual([`pid 812 started ${new Date((BOOT + 60) * 1000).toISOString()}`, `/etc/ssl/certs/ca-certificates.crt changed ${new Date((BOOT + 3600) * 1000).toISOString()}`]);
    expect(f.fixes[0]!.command).toBe('sudo systemctl restart ollama');

    utimesSync(bundle, BOOT + 30, BOOT + 30); // before the server started: nothing to do
    expect((await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root, proc)).findings.map((x) => x.code)).not.toContain('ollama-restart-needed');

    // Explicit trust files (what `trust` just wrote) are compared the same way.
    writeFileSync(path.join(root, 'etc/ssl/certs/new.pem'), 'x');
    utimesSync(path.join(root, 'etc/ssl/certs/new.pem'), BOOT + 7200, BOOT + 7200);
    const explicit = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root, proc, ['/etc/ssl/certs/new.pem']);
    expect(explicit.findings.find((x) => x.code === 'ollama-restart-needed')!.evidence[1]).toMatch(/^\/etc\/ssl\/certs\/new\.pem changed/);
  });

  it('the unit was edited after the server started: restart, with daemon-reload, and the running values win', async () => {
    const root = tree({ 'etc/systemd/system/ollama.service': '[Service]\nEnvironment="HTTPS_PROXY=http://new.proxy:3128" OLLAMA_ORIGINS=*\n' });
    utimesSync(path.join(root, 'etc/systemd/system/ollama.service'), BOOT + 600, BOOT + 600);
    const proc = fakeProc([{ pid: 812, argv: ['/usr/local/bin/ollama', 'serve'], startSeconds: 60, environ: { HTTPS_PROXY: 'http://old.proxy:3128' } }]);
    const { findings, report } = await run({ OLLAMA_HOST: `127.0.0.1:${current.port}` }, root, proc);
    // The running server has no OLLAMA_ORIGINS yet, so no CORS warning; its proxy is the old one.
    expect(report.origins).toBeUndefined();
    expect(findings.find((x) => x.code === 'ollama-service-env')!.evidence[0]).toBe('HTTPS_PROXY=http://old.proxy:3128 (/proc/812/environ)');
    const f = findings.find((x) => x.code === 'ollama-restart-needed')!;
    expect(f.fixes[0]!.command).toBe('sudo systemctl daemon-reload && sudo systemctl restart ollama');
    expect(f.evidence).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/etc\/systemd\/system\/ollama\.service changed/),
      'HTTPS_PROXY: the unit says "http://new.proxy:3128", the running server has "http://old.proxy:3128"',
      'OLLAMA_ORIGINS: the unit says "*", the running server has nothing',
    ]));
  });

  it('hides proxy passwords, with or without a scheme', () => {
    expect(redactValue('HTTPS_PROXY', 'http://u:p@h:1')).toBe('http://u:***@h:1');
    expect(redactValue('https_proxy', 'u:p@h:1')).toBe('u:***@h:1');
    expect(redactValue('HTTPS_PROXY', 'http://h:3128')).toBe('http://h:3128');
    expect(redactValue('OLLAMA_HOST', 'a:b@c')).toBe('a:b@c');
  });
});
