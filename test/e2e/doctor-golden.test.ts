// The human output, byte for byte, for a few representative runs. Only what legitimately varies
// between runs is normalised: ports, fingerprints (fixtures are regenerated with fresh keys), day
// counts, Go's "current time", and Node 24's extra hint. Set UPDATE_GOLDEN=1 to rewrite.
import { afterAll, describe, expect, it } from 'vitest';
import { INSTALLED_BIN_DIR, runCli } from '../helpers/cli.js';
import { checkGolden, normaliseText } from '../helpers/golden.js';
import { closedPort, loadScenario, serveChain, type Running, onlyCaTree, ONLY_CA_ENV } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const normalise = (text: string, port: number): string => normaliseText(text, { ports: [port] });

async function runScenario(name: string): Promise<{ text: string; code: number; port: number }> {
  const s = loadScenario(name);
  const server = await serveChain(s);
  servers.push(server);
  const root = onlyCaTree(s.caPem);
  const target = `${s.host}:${server.port}`;
  const r = await runCli(['doctor', target, '--resolve', `${target}:127.0.0.1`, '--root', root], {
    // PATH holds only the installed ollama-tls (no sudo): printed commands read the same for every uid and machine.
    env: { ...ONLY_CA_ENV, PATH: INSTALLED_BIN_DIR },
  });
  return { text: normalise(r.stdout, server.port), code: r.code, port: server.port };
}

describe('golden text output', () => {
  for (const [name, code] of [['valid-rsa', 0], ['missing-intermediate', 1], ['untrusted-root-sent', 1], ['expired-leaf', 1], ['cn-only', 1]] as const) {
    it(name, async () => {
      const r = await runScenario(name);
      expect(r.code).toBe(code);
      checkGolden(`${name}.txt`, r.text);
    });
  }

  it('connection refused', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', `127.0.0.1:${port}`], { env: { PATH: INSTALLED_BIN_DIR } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    checkGolden('connection-refused.txt', normalise(r.stdout, port));
  });
});
