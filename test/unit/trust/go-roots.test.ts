// Go's Linux root loading and host-name matching, by Go's documented rules (crypto/x509 root_unix.go, verify.go matchHostnames).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/platform/rootfs.js';
import { goMatchHostnames } from '../../../src/trust/go-verify.js';
import { loadUnixRoots } from '../../../src/trust/stores.js';
import { loadScenario, tempDir } from '../../helpers/servers.js';

describe('Go\'s Linux root loading', () => {
  const [a, b, c] = ['valid-rsa', 'valid-ecdsa', 'cross-signed'].map((n) => loadScenario(n).caPem);

  function tree(files: Record<string, string>, links: Record<string, string> = {}): RootFs {
    const root = tempDir('ollama-tls-go-roots-');
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), text);
    }
    for (const [p, target] of Object.entries(links)) symlinkSync(target, path.join(root, p));
    return new RootFs(root);
  }
  const subjects = async (fs: RootFs, env: Record<string, string> = {}) =>
    (await loadUnixRoots(fs, env)).certificates.map((x) => x.commonName).sort();

  it('reads only the first bundle in its list, then every directory', async () => {
    const fs = tree({ '/etc/pki/tls/certs/ca-bundle.crt': a!, '/etc/ssl/cert.pem': b!, '/etc/ssl/certs/extra.pem': c! });
    // No Debian bundle, so the RHEL one is first; Alpine's is never read; both directories are.
    expect(await subjects(fs)).toEqual(['ollama-tls Old Root CA', 'ollama-tls Test Root CA']);
  });

  it('SSL_CERT_FILE replaces the bundle list and SSL_CERT_DIR (colon-separated) the directories', async () => {
    const fs = tree({ '/etc/ssl/certs/ca-certificates.crt': a!, '/opt/one.pem': b!, '/d1/x.pem': c!, '/d2/y.pem': a! });
    expect(await subjects(fs, { SSL_CERT_FILE: '/opt/one.pem', SSL_CERT_DIR: '/d1:/d2' })).toEqual(['ollama-tls Old Root CA', 'ollama-tls Test EC Root CA', 'ollama-tls Test Root CA']);
    expect(await subjects(fs, { SSL_CERT_FILE: '/opt/missing.pem', SSL_CERT_DIR: '/d1' })).toEqual(['ollama-tls Old Root CA']);
  });

  it('skips same-directory symlinks but follows links that leave the directory, inside the tree', async () => {
    const fs = tree({ '/usr/share/ca/x.crt': a!, '/etc/ssl/certs/real.pem': b! }, { '/etc/ssl/certs/abcd1234.0': 'real.pem', '/etc/ssl/certs/x.pem': '/usr/share/ca/x.crt' });
    const store = await loadUnixRoots(fs, {});
    expect(store.certificates.map((x) => x.commonName).sort()).toEqual(['ollama-tls Test EC Root CA', 'ollama-tls Test Root CA']);
    expect(store.sources.find((s) => s.path === '/etc/ssl/certs')!.note).toContain('1 same-directory links skipped');
  });

  it('ignores "TRUSTED CERTIFICATE" blocks, as AppendCertsFromPEM does, where OpenSSL reads them', async () => {
    const trusted = a!.replace(/CERTIFICATE-----/g, 'TRUSTED CERTIFICATE-----');
    const fs = tree({ '/etc/ssl/certs/ca-certificates.crt': trusted });
    expect((await loadUnixRoots(fs, {}, 'go')).certificates).toEqual([]);
    expect((await loadUnixRoots(fs, {}, 'openssl')).certificates.map((x) => x.commonName)).toEqual(['ollama-tls Test Root CA']);
  });
});

describe('host names as Go matches them', () => {
  it.each([
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['Example.COM', 'example.com.', true],
    ['a*.example.com', 'ab.example.com', false],
  ])('%s vs %s', (pattern, host, want) => {
    expect(goMatchHostnames(pattern, host)).toBe(want);
  });
});
