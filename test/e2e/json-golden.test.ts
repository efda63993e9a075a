// The machine output, field for field, for a few representative runs of `doctor --json`,
// `explain --json` and `trust`/`untrust --dry-run --json`: scripts read these, so a field that
// moves, is renamed or changes meaning must show up as a diff here. Only what legitimately varies
// between runs is normalised (test/helpers/golden.ts normaliseJson). UPDATE_GOLDEN=1 rewrites.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INSTALLED_BIN_DIR, runCli } from '../helpers/cli.js';
import { WORDINGS } from '../helpers/explain-wordings.js';
import { checkGolden, normaliseJson } from '../helpers/golden.js';
import { closedPort, loadScenario, serveChain, storeTree, tempDir, type Running, onlyCaTree, ONLY_CA_ENV } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

// PATH holds only the installed ollama-tls (no sudo, no update tool): the same output for every uid and machine.
const ENV = { PATH: INSTALLED_BIN_DIR };

describe('doctor --json', () => {
  for (const [name, code] of [['valid-rsa', 0], ['missing-intermediate', 1], ['expired-leaf', 1], ['untrusted-root-sent', 1]] as const) {
    it(name, async () => {
      const s = loadScenario(name);
      const server = await serveChain(s);
      servers.push(server);
      const root = onlyCaTree(s.caPem);
      const target = `${s.host}:${server.port}`;
      const r = await runCli(['doctor', '--json', target, '--resolve', `${target}:127.0.0.1`, '--root', root], {
        env: { ...ENV, ...ONLY_CA_ENV },
      });
      expect(r.code, r.stderr).toBe(code);
      checkGolden(`json/doctor-${name}.json`, normaliseJson(r.stdout, { ports: [server.port], paths: [root] }));
    });
  }

  it('connection refused', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', '--json', `127.0.0.1:${port}`], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    checkGolden('json/doctor-connection-refused.json', normaliseJson(r.stdout, { ports: [port] }));
  });
});

describe('doctor --fix --dry-run --json', () => {
  it('the root a --ca file holds, offered for a Debian tree without its update tool', async () => {
    const s = loadScenario('private-root-not-sent');
    const server = await serveChain(s);
    servers.push(server);
    // Its chain ends at the rogue root (the last certificate untrusted-root-sent sends), which a
    // --ca file holds; the tree trusts only the fixtures' test root. Stable bytes: stable plan sizes.
    const rogue = loadScenario('untrusted-root-sent').chainPem;
    const root = storeTree(loadScenario('valid-rsa').caPem);
    const caFile = path.join(root, 'rogue-root.pem');
    writeFileSync(caFile, rogue.slice(rogue.lastIndexOf('-----BEGIN CERTIFICATE-----')));
    const target = `${s.host}:${server.port}`;
    const r = await runCli(['doctor', '--json', target, '--resolve', `${target}:127.0.0.1`, '--root', root, '--ca', caFile, '--fix', '--dry-run'], { env: ENV });
    expect(r.code, r.stderr).toBe(1);
    checkGolden('json/doctor-fix-dry-run.json', normaliseJson(r.stdout, { ports: [server.port], paths: [root] }));
  });
});

describe('explain --json', () => {
  const wording = (client: string, code: string) => WORDINGS.find((w) => w.client === client && w.code === code)!.text;
  const CASES: [string, string, number][] = [
    ['ollama-unknown-authority', wording('ollama', 'unknown-authority'), 1],
    ['log-with-several', [wording('ollama', 'expired'), 'time=2025-01-01 level=INFO msg="nothing to see"', wording('curl', 'hostname-mismatch'), wording('ollama', 'unknown-authority')].join('\n'), 1],
    ['no-problem', 'pulling manifest\nsuccess', 0],
  ];
  for (const [name, input, code] of CASES) {
    it(name, async () => {
      const r = await runCli(['explain', '--json', input], { env: ENV });
      expect(r.code, r.stderr).toBe(code);
      checkGolden(`json/explain-${name}.json`, normaliseJson(r.stdout));
    });
  }
});

describe('trust / untrust --dry-run --json', () => {
  const s = loadScenario('valid-rsa');
  const caFile = path.join(s.dir, 'ca.pem');

  it('trust into a Debian tree without its update tool (files written directly)', async () => {
    const root = storeTree('');
    const r = await runCli(['trust', '--json', '--dry-run', '--ca', caFile, '--root', root], { env: ENV });
    expect(r.code, r.stderr).toBe(0);
    checkGolden('json/trust-debian-tree.json', normaliseJson(r.stdout, { paths: [root] }));
  });

  it('untrust where trust added nothing: nothing to do', async () => {
    const root = storeTree('');
    const r = await runCli(['untrust', '--json', '--dry-run', '--ca', caFile, '--root', root], { env: ENV });
    expect(r.code, r.stderr).toBe(0);
    checkGolden('json/untrust-nothing.json', normaliseJson(r.stdout, { paths: [root] }));
  });

  it('trust into a Dockerfile', async () => {
    const dir = tempDir('ollama-tls-df-');
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM ollama/ollama:latest\nCMD ["serve"]\n');
    const r = await runCli(['trust', '--json', '--dry-run', '--ca', caFile, '--dockerfile', path.join(dir, 'Dockerfile')], { env: ENV });
    expect(r.code, r.stderr).toBe(0);
    checkGolden('json/trust-dockerfile.json', normaliseJson(r.stdout, { paths: [dir] }));
  });
});
