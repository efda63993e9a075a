// The human output, byte for byte, for a few representative runs. Only what legitimately varies
// between runs is normalised: ports, fingerprints (fixtures are regenerated with fresh keys), day
// counts, Go's "current time", and Node 24's extra hint. Set UPDATE_GOLDEN=1 to rewrite.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INSTALLED_BIN_DIR, runCli } from './helpers/cli.js';
import { closedPort, loadScenario, ROOT, serveChain, storeTree, type Running } from './helpers/servers.js';

const GOLDEN = path.join(ROOT, 'test/golden');
const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function normalise(text: string, port: number): string {
  return text
    .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
    .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PORT')
    .replace(/\(\d+ days left\)/g, '(N days left)')
    .replace(/expired \d+ days? ago/g, 'expired N days ago')
    .replace(/current time \S+/g, 'current time T')
    .replace(/after \d+ ms\b/g, 'after N ms')
    .replace(/Node\.js v\d+\.\d+\.\d+ bundled roots \(\d+ certificates\)/g, 'Node.js vX.Y.Z bundled roots (NNN certificates)')
    .replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/g, '');
}

function checkGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    if (!process.env.UPDATE_GOLDEN) throw new Error(`wrote missing golden file ${file}; check it and commit it`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

async function runScenario(name: string): Promise<{ text: string; code: number; port: number }> {
  const s = loadScenario(name);
  const server = await serveChain(s);
  servers.push(server);
  const root = storeTree(s.caPem);
  writeFileSync(path.join(root, 'ca.pem'), s.caPem);
  mkdirSync(path.join(root, 'empty'));
  const target = `${s.host}:${server.port}`;
  const r = await runCli(['doctor', target, '--resolve', `${target}:127.0.0.1`, '--root', root], {
    // PATH holds only the installed ollama-tls (no sudo): printed commands read the same for every uid and machine.
    env: { SSL_CERT_FILE: '/ca.pem', SSL_CERT_DIR: '/empty', NODE_EXTRA_CA_CERTS: '/ca.pem', PATH: INSTALLED_BIN_DIR },
  });
  return { text: normalise(r.stdout, server.port), code: r.code, port: server.port };
}

describe('golden text output', () => {
  for (const [name, code] of [['valid-rsa', 0], ['missing-intermediate', 1], ['untrusted-root-sent', 1], ['expired-leaf', 1], ['cn-only', 1]] as const) {
    it(name, async () => {
      const r = await runScenario(name);
      expect(r.code).toBe(code);
      checkGolden(name, r.text);
    });
  }

  it('connection refused', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', `127.0.0.1:${port}`], { env: { PATH: INSTALLED_BIN_DIR } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    checkGolden('connection-refused', normalise(r.stdout, port));
  });
});
