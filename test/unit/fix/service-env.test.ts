// doctor --fix's service drop-in: the environment the doctor found ollama serve lacks (the shell's
// HTTPS_PROXY and NO_PROXY, its SSL_CERT_FILE) planned as one file of ollama-tls's own, applied
// to a tree, and read back by the same systemd reader the doctor uses. A proxy URL with
// credentials is a secret: it is never written.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../../src/fix/apply.js';
import { trustContext } from '../../../src/fix/context.js';
import { DROP_IN, serviceEnvPlan, serviceEnvWanted } from '../../../src/fix/service-env.js';
import { readSystemdService } from '../../../src/ollama/systemd.js';
import { tempDir } from '../../helpers/servers.js';

function treeWithService(): string {
  const root = tempDir('ollama-tls-svc-');
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  writeFileSync(path.join(root, 'etc/systemd/system/ollama.service'), '[Unit]\nDescription=Ollama Service\n[Service]\nExecStart=/usr/local/bin/ollama serve\nEnvironment="PATH=/usr/bin"\n');
  return root;
}

const proxyFinding = { code: 'ollama-proxy-env', evidence: ['HTTPS_PROXY=http://proxy.corp:3128 (shell)', 'HTTPS_PROXY not set for the ollama.service unit'] };

describe('the service drop-in', () => {
  it('gives the service the shell\'s proxy and certificate file; the systemd reader then finds them', async () => {
    const root = treeWithService();
    const shell = { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: 'localhost,127.0.0.1,.corp', SSL_CERT_FILE: '/etc/ssl/corp bundle.pem' };
    const want = serviceEnvWanted([proxyFinding, { code: 'ollama-service-env', evidence: ['SSL_CERT_FILE=/etc/ssl/corp bundle.pem (shell)'] }], shell);
    expect(want.set.map((v) => v.name)).toEqual(['HTTPS_PROXY', 'NO_PROXY', 'SSL_CERT_FILE']);
    const ctx = trustContext({ root });
    expect(readSystemdService(ctx.fs)!.env.HTTPS_PROXY).toBeUndefined();
    const plan = serviceEnvPlan(ctx, want)!;
    expect(plan.steps.map((st) => st.kind)).toEqual(['write']);
    await applyPlan(plan);
    const svc = readSystemdService(trustContext({ root }).fs)!;
    expect(svc.dropIns).toContain(DROP_IN);
    expect(svc.env.HTTPS_PROXY!.value).toBe('http://proxy.corp:3128');
    expect(svc.env.NO_PROXY!.value).toBe('localhost,127.0.0.1,.corp');
    expect(svc.env.SSL_CERT_FILE!.value).toBe('/etc/ssl/corp bundle.pem');
    expect(svc.env.PATH!.value).toBe('/usr/bin');
  });

  it('a proxy URL with credentials is never written; the plan says why', () => {
    const root = treeWithService();
    const want = serviceEnvWanted([proxyFinding], { HTTPS_PROXY: 'http://alice:s3cret@proxy.corp:3128' });
    expect(want.set).toEqual([]);
    expect(want.skipped.join(' ')).toContain('credentials');
    expect(JSON.stringify(want)).not.toContain('s3cret');
    expect(serviceEnvPlan(trustContext({ root }), want)).toBeUndefined();
  });

  it('no unit in the tree, or nothing the doctor asked for: no plan', () => {
    const empty = tempDir('ollama-tls-svc-none-');
    const want = serviceEnvWanted([proxyFinding], { HTTPS_PROXY: 'http://proxy.corp:3128' });
    expect(serviceEnvPlan(trustContext({ root: empty }), want)).toBeUndefined();
    expect(serviceEnvWanted([], { HTTPS_PROXY: 'http://proxy.corp:3128', SSL_CERT_FILE: '/x.pem' }).set).toEqual([]);
  });
});
