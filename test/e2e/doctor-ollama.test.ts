// The default run also looks at the Ollama on this machine: OLLAMA_HOST as Ollama reads it, the
// version it reports, and the service's own environment (a --root tree holds the systemd unit).
// The pull path goes to a fake registry on loopback, so nothing leaves the machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runDoctorJson } from '../helpers/cli.js';
import { fakeOllama, type FakeOllama } from '../helpers/fake-ollama.js';
import { fakeRegistry, type FakeRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/servers.js';

describe('doctor and the local Ollama', () => {
  let registry: FakeRegistry;
  let old: FakeOllama;
  let current: FakeOllama;
  let pull: string[];
  let roots: Record<string, string>;
  beforeAll(async () => {
    [registry, old, current] = await Promise.all([fakeRegistry(), fakeOllama({ version: '0.1.33' }), fakeOllama({ version: '0.40.1' })]);
    pull = [
      '--model', `${registry.registry.host}:${registry.registry.port}/library/tiny`,
      '--resolve', `${registry.registry.host}:${registry.registry.port}:127.0.0.1`, '--resolve', `${registry.blobs.host}:${registry.blobs.port}:127.0.0.1`,
    ];
    const file = path.join(tempDir(), 'roots.pem');
    writeFileSync(file, registry.ca.certPem);
    roots = { SSL_CERT_FILE: file, SSL_CERT_DIR: tempDir('ollama-tls-empty-') };
  });
  afterAll(async () => {
    await Promise.all([registry.close(), old.close(), current.close()]);
  });

  it('reports the version OLLAMA_HOST answers with, and an old one as vulnerable (the run fails)', async () => {
    const { result, report } = await runDoctorJson(pull, { ...roots, OLLAMA_HOST: `127.0.0.1:${old.port}` });
    expect(report.ollama).toMatchObject({ reachable: true, version: '0.1.33', host: { url: `http://127.0.0.1:${old.port}` } });
    const f = report.findings.find((x) => x.code === 'ollama-version-vulnerable')!;
    expect(f.severity).toBe('error');
    expect(`${f.title} ${f.detail}`).toContain('CVE-2024-37032');
    // The targets themselves pass; the environment fails the run.
    expect(report.targets.every((t) => t.ok)).toBe(true);
    expect(report.ok).toBe(false);
    expect(result.code).toBe(1);
    const text = await runCli(['doctor', ...pull], { env: { ...roots, OLLAMA_HOST: `127.0.0.1:${old.port}` } });
    expect(text.stdout).toContain('version 0.1.33');
    expect(text.stdout).toContain('The targets pass, but the environment has problems');
  });

  it('a current version and nothing else wrong: exit 0', async () => {
    const { result, report } = await runDoctorJson(pull, { ...roots, OLLAMA_HOST: `http://127.0.0.1:${current.port}` });
    expect(report.ollama).toMatchObject({ reachable: true, version: '0.40.1' });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('nothing listening: a note, not a failure', async () => {
    const { result, report } = await runDoctorJson(pull, { ...roots, OLLAMA_HOST: '127.0.0.1:1' });
    expect(report.ollama).toMatchObject({ reachable: false, version: null });
    expect(result.code).toBe(0);
  });

  it('explicit targets alone leave the local Ollama out', async () => {
    const { report } = await runDoctorJson([`${registry.registry.host}:${registry.registry.port}`, '--resolve', `${registry.registry.host}:${registry.registry.port}:127.0.0.1`], roots);
    expect(report.ollama).toBeUndefined();
    expect(report.pull).toBeUndefined();
  });

  it('reads the service from a --root tree: the server lacks the proxy the shell has', async () => {
    const root = tempDir('ollama-tls-root-');
    const unitDir = path.join(root, 'etc/systemd/system');
    mkdirSync(path.join(unitDir, 'ollama.service.d'), { recursive: true });
    writeFileSync(path.join(unitDir, 'ollama.service'), '[Unit]\nDescription=Ollama Service\n\n[Service]\nExecStart=/usr/local/bin/ollama serve\nUser=ollama\nEnvironment="PATH=/usr/local/bin:/usr/bin:/bin"\n');
    writeFileSync(path.join(unitDir, 'ollama.service.d/override.conf'), `[Service]\nEnvironment="OLLAMA_HOST=127.0.0.1:${current.port}"\n`);
    // The trust views read this tree too: give it the fake registry's CA as the bundle Go reads.
    mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
    writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), registry.ca.certPem);
    const { report } = await runDoctorJson([...pull, '--root', root], { OLLAMA_HOST: `127.0.0.1:${current.port}`, HTTPS_PROXY: 'http://proxy.corp.example:3128', NO_PROXY: '.test' });
    expect(report.ollama!.service).toMatchObject({ unit: expect.stringContaining('ollama.service'), dropIns: [expect.stringContaining('override.conf')] });
    const proxyNote = report.findings.find((f) => f.code === 'ollama-proxy-env' && /ollama serve does not/.test(f.title))!;
    expect(proxyNote, JSON.stringify(report.findings.map((f) => [f.code, f.title]), null, 2)).toBeDefined();
    expect(proxyNote.fixes.map((x) => x.command ?? '').join('\n')).toContain('HTTPS_PROXY=http://proxy.corp.example:3128');
  });
});
