// The default doctor run walks the pull path as `ollama pull` does: the manifest from the registry,
// then the blob request's redirect to another host, each host probed and judged on its own.
// A fake registry and blob store on loopback stand in for registry.ollama.ai and Cloudflare R2.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runDoctorJson } from '../helpers/cli.js';
import { makeCa } from '../helpers/pki.js';
import { squidBinary, startConnectProxy, startSquid } from '../helpers/proxies.js';
import { fakeRegistry, MANIFEST_TYPE, type FakeRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/servers.js';

function args(r: FakeRegistry, model = 'tiny'): string[] {
  return [
    '--model', `${r.registry.host}:${r.registry.port}/library/${model}`,
    '--resolve', `${r.registry.host}:${r.registry.port}:127.0.0.1`,
    '--resolve', `${r.blobs.host}:${r.blobs.port}:127.0.0.1`,
  ];
}

function trusting(r: FakeRegistry): Record<string, string> {
  const file = path.join(tempDir(), 'roots.pem');
  writeFileSync(file, r.ca.certPem);
  // Go reads SSL_CERT_FILE instead of the system bundle: the go view trusts the fake CA.
  return { SSL_CERT_FILE: file, SSL_CERT_DIR: tempDir('ollama-tls-empty-') };
}

describe('the pull path against a fake registry', () => {
  let r: FakeRegistry;
  beforeAll(async () => {
    r = await fakeRegistry();
  });
  afterAll(() => r.close());

  it('follows the manifest and the blob redirect, and checks both hosts', async () => {
    r.registry.seen.length = 0;
    r.blobs.seen.length = 0;
    const { result, report } = await runDoctorJson(args(r), trusting(r));
    expect(report.targets.map((t) => t.target)).toEqual([`${r.registry.host}:${r.registry.port}`, `${r.blobs.host}:${r.blobs.port}`]);
    expect(report.targets.map((t) => t.role)).toEqual(['registry', 'blob']);
    expect(report.pull).toMatchObject({ model: `${r.registry.host}:${r.registry.port}/library/tiny:latest`, digest: r.digest, fallback: null });
    expect(report.pull!.hosts).toEqual(report.targets.map((t) => t.target));
    // Both were judged: each has its own chain and verdicts.
    for (const t of report.targets) {
      expect(t.chain[0]!.san).toContain(`DNS:${t.host}`);
      expect(t.verdicts.find((v) => v.view === 'go')!.ok).toBe(true);
    }
    expect(result.code).toBe(0);
    expect(report.ok).toBe(true);

    // What the registry saw: the manifest with Ollama's Accept header, then HEAD and GET of the smallest layer.
    expect(r.registry.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v2/library/tiny/manifests/latest',
      `HEAD /v2/library/tiny/blobs/${r.digest}`,
      `GET /v2/library/tiny/blobs/${r.digest}`,
    ]);
    expect(r.registry.seen[0]!.headers.accept).toBe(MANIFEST_TYPE);
    expect(r.registry.seen[0]!.headers.host).toBe(`${r.registry.host}:${r.registry.port}`);
    // The blob host got the HEAD the redirect led to, and a one-byte range: never a whole body.
    expect(r.blobs.seen.map((s) => s.method)).toEqual(['HEAD', 'GET']);
    expect(r.blobs.seen[1]!.headers.range).toBe('bytes=0-0');
    expect(r.blobs.seen.every((s) => s.url.includes('X-Amz-Signature=SECRETSIGNATURE'))).toBe(true);

    // The presigned signature never reaches the report.
    const json = JSON.stringify(report);
    expect(json).not.toContain('SECRETSIGNATURE');
    const registryHttp = report.targets[0]!.http!.exchanges;
    expect(registryHttp.map((x) => x.status)).toEqual([200, 307, 307]);
    expect(registryHttp[1]!.location).toMatch(new RegExp(`^https://${r.blobs.host}:${r.blobs.port}/ollama/docker/registry/v2/blobs/sha256/aa/a+/data\\?X-Amz-Algorithm=\\.\\.\\.&X-Amz-Credential=\\.\\.\\.&X-Amz-Signature=\\.\\.\\.$`));
    expect(report.targets[1]!.http!.exchanges.map((x) => x.status)).toEqual([200, 206]);
  });

  it('prints the path in the text report', async () => {
    const res = await runCli(['doctor', ...args(r)], { env: trusting(r) });
    expect(res.stdout).toContain(`Pull path of ${r.registry.host}:${r.registry.port}/library/tiny:latest: ${r.registry.host}:${r.registry.port} -> ${r.blobs.host}:${r.blobs.port}`);
    expect(res.stdout).toMatch(/GET  \/v2\/library\/tiny\/manifests\/latest\n\s+200/);
    expect(res.stdout).not.toContain('SECRETSIGNATURE');
    expect(res.code).toBe(0);
  });

  it('judges the blob host even when only it is untrusted', async () => {
    // No SSL_CERT_FILE: neither host is trusted by Go; both are reported as problems, the walk still happens.
    const { result, report } = await runDoctorJson(args(r));
    expect(report.targets).toHaveLength(2);
    expect(report.targets.every((t) => t.findings.some((f) => f.code === 'untrusted-root' || f.code === 'unknown-authority'))).toBe(true);
    expect(result.code).toBe(1);
  });

  it('a model the registry does not have: model-not-found, and the known hosts are not assumed for a private registry', async () => {
    const { result, report } = await runDoctorJson(args(r, 'nosuchmodel'), trusting(r));
    expect(report.targets).toHaveLength(1);
    expect(report.targets[0]!.findings.map((f) => f.code)).toContain('model-not-found');
    expect(report.pull!.fallback).toMatch(/no manifest/);
    expect(report.findings.map((f) => f.code)).toContain('pull-path-fallback');
    expect(result.code).toBe(1);
  });
});

describe('HTTP answers that are not the registry', () => {
  it('a proxy block page in place of the manifest: http-blocked naming the product', async () => {
    const r = await fakeRegistry({
      override: (_req, res) => {
        res.writeHead(403, { 'content-type': 'text/html', server: 'Zscaler/6.2' });
        res.end('<html><head><title>Website blocked</title></head><body>Zscaler: access to this site is blocked by policy (category: AI/ML Applications).</body></html>');
      },
    });
    try {
      const { result, report } = await runDoctorJson(args(r), trusting(r));
      const f = report.targets[0]!.findings.find((x) => x.code === 'http-blocked')!;
      expect(f.severity).toBe('error');
      expect(f.title).toContain('403');
      expect(f.title).toContain('Zscaler');
      expect(f.evidence.join('\n')).toContain('page title "Website blocked"');
      expect(report.pull!.fallback).toBeTruthy();
      expect(result.code).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('a captive portal redirecting the manifest to a sign-in page', async () => {
    const r = await fakeRegistry({
      override: (_req, res) => {
        res.writeHead(302, { location: 'https://portal.example/login?continue=1', 'content-length': 0 });
        res.end();
      },
    });
    try {
      const { report } = await runDoctorJson(args(r), trusting(r));
      const f = report.targets[0]!.findings.find((x) => x.code === 'http-blocked')!;
      expect(f.title).toContain('captive portal');
      expect(f.evidence.join('\n')).toContain('Location: https://portal.example/login?...');
    } finally {
      await r.close();
    }
  });
});

describe('the model name', () => {
  it('rejects a malformed --model with exit 2', async () => {
    const res = await runCli(['doctor', '--model', 'a/b/c/d']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--model');
  });
});

describe('when the registry cannot be reached', () => {
  it('falls back to the known pull hosts and says so (all on loopback: nothing listens on 127.0.0.1:443)', async () => {
    const r2 = 'dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com';
    const { result, report } = await runDoctorJson([
      '--model', 'registry.ollama.ai/library/tiny',
      '--resolve', 'registry.ollama.ai:443:127.0.0.1', '--resolve', `${r2}:443:127.0.0.1`, '--timeout', '3000',
    ]);
    expect(report.targets.map((t) => [t.target, t.role])).toEqual([['registry.ollama.ai:443', 'registry'], [`${r2}:443`, 'fallback']]);
    expect(report.targets.every((t) => t.address === null || t.address === '127.0.0.1')).toBe(true);
    expect(report.pull!.fallback).toMatch(/could not be reached/);
    const note = report.findings.find((f) => f.code === 'pull-path-fallback')!;
    expect(note.severity).toBe('info');
    expect(note.evidence).toEqual([`${r2}:443`]);
    expect(result.code).toBe(1);
  });
});

describe('the pull path through a proxy, as Ollama would take it', () => {
  it('a CONNECT proxy: both hosts are reached through it', async () => {
    const r = await fakeRegistry();
    const proxy = await startConnectProxy({ hosts: { [r.registry.host]: '127.0.0.1', [r.blobs.host]: '127.0.0.1' } });
    try {
      const { result, report } = await runDoctorJson(args(r), { ...trusting(r), HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
      expect(proxy.requests.map((q) => q.target)).toEqual([`${r.registry.host}:${r.registry.port}`, `${r.blobs.host}:${r.blobs.port}`]);
      expect(report.targets.map((t) => t.proxy)).toEqual([expect.objectContaining({ used: true }), expect.objectContaining({ used: true })]);
      expect(report.targets[1]!.http!.exchanges.map((x) => x.status)).toEqual([200, 206]);
      expect(result.code).toBe(0);
    } finally {
      await proxy.close();
      await r.close();
    }
  });

  it.skipIf(!squidBinary())('Squid ssl-bump: the walk goes on through the interception, and both hosts show it', async () => {
    const r = await fakeRegistry();
    const bumpCa = await makeCa('Corp Squid Inspection CA', 'Example Corp');
    const proxy = await startSquid({
      hosts: { [r.registry.host]: '127.0.0.1', [r.blobs.host]: '127.0.0.1' }, upstreamCaPem: r.ca.certPem,
      bump: { caCertPem: bumpCa.certPem, caKeyPem: bumpCa.keyPem },
    });
    try {
      const { result, report } = await runDoctorJson(args(r), { ...trusting(r), HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
      expect(report.targets.map((t) => t.role)).toEqual(['registry', 'blob']);
      for (const t of report.targets) {
        expect(t.chain[0]!.issuer).toContain('Corp Squid Inspection CA');
        expect(t.findings.map((f) => f.code)).toContain('interception-confirmed');
      }
      expect(report.targets[0]!.http!.exchanges.map((x) => x.status)).toEqual([200, 307, 307]);
      expect(proxy.accessLog()).toContain(`CONNECT ${r.blobs.host}:${r.blobs.port}`);
      expect(result.code).toBe(1);
    } finally {
      await proxy.close();
      await r.close();
    }
  });
});
