// trust on a real pseudo-terminal (util-linux `script`): the plan, then inquirer asks; an answer
// typed at the prompt decides. --from-host shows the CA and asks before trusting it; so does
// doctor --fix, per CA and then for the plan.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../helpers/cli.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { loadScenario, serveChain, type Running } from '../helpers/servers.js';
import { debianTree, haveDebianTool, snapshot, snapshotDiff } from '../helpers/trees.js';

const haveScript = spawnSync('script', ['--version']).status === 0;

/**
 * Run `command` on a pseudo-terminal; each time the screen shows a prompt's text, type its answer.
 * Resolves with everything printed and the exit code.
 */
function converse(command: string, answers: [prompt: RegExp, keys: string][]): Promise<{ text: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', `stty cols 120 rows 40; ${command}`, '/dev/null'], { env: { ...cliEnv({ CI: '' }), TERM: 'xterm' } });
    let text = '';
    const pending = [...answers];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const next = pending[0];
      if (next && next[0].test(text)) {
        pending.shift();
        setTimeout(() => child.stdin.write(next[1]), 100);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ text, code: code ?? -1 });
    });
  });
}

describe.skipIf(!haveScript || !haveDebianTool())('trust on a terminal', () => {
  const scenario = loadScenario('valid-rsa');
  const ca = path.join(scenario.dir, 'ca.pem');

  it('asks before applying; "n" changes nothing (exit 1), "y" applies', async () => {
    const root = debianTree({ withTool: true });
    const before = snapshot(root);
    const no = await converse(`${process.execPath} ${BIN} trust --ca ${ca} --root ${root}`, [[/Trust as planned\?/, 'n\r']]);
    expect(no.text).toContain('write  ');
    expect(no.text).toContain('Nothing changed.');
    expect(no.code).toBe(1);
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);

    const yes = await converse(`${process.execPath} ${BIN} trust --ca ${ca} --root ${root}`, [[/Trust as planned\?/, 'y\r']]);
    expect(yes.code, yes.text).toBe(0);
    expect(yes.text).toMatch(/ok +Go \(Ollama\) loads/);
    expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(scenario.caPem.trim());
  });

  describe('--from-host', () => {
    let server: Running;
    let target: string;
    let rootPem: string;
    beforeAll(async () => {
      const root = await makeCa('Netskope Root CA', 'Netskope Inc');
      rootPem = root.certPem;
      server = await serveChain(await issueLeaf(root, ['registry.ollama.ai'], { issuedHoursAgo: 2 }));
      target = `registry.ollama.ai:${server.port}`;
    });
    afterAll(async () => server?.close());

    it('shows the CA with its SHA-256 and asks; trusting it takes two yeses', async () => {
      const root = debianTree({ withTool: true });
      const r = await converse(`${process.execPath} ${BIN} trust --from-host ${target} --resolve ${target}:127.0.0.1 --root ${root}`, [
        [/the CA your IT team gave you\?/, 'y\r'],
        [/Trust as planned\?/, 'y\r'],
      ]);
      expect(r.code, r.text).toBe(0);
      expect(r.text).toContain('"Netskope Root CA"');
      expect(r.text).toMatch(/SHA-256 [0-9a-f]{64}/);
      expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(rootPem.trim());
    });

    it('declining the CA changes nothing', async () => {
      const root = debianTree({ withTool: true });
      const before = snapshot(root);
      const r = await converse(`${process.execPath} ${BIN} trust --from-host ${target} --resolve ${target}:127.0.0.1 --root ${root}`, [
        [/the CA your IT team gave you\?/, 'n\r'],
      ]);
      expect(r.code).toBe(1);
      expect(snapshotDiff(before, snapshot(root))).toEqual([]);
    });

    // doctor --fix asks per CA, then for the plan; the re-check decides the exit status.
    const fix = (root: string) => `${process.execPath} ${BIN} doctor ${target} --resolve ${target}:127.0.0.1 --root ${root} --fix`;

    it('doctor --fix: "y" to the CA and to the plan, then the re-check passes', async () => {
      const root = debianTree({ withTool: true });
      const r = await converse(fix(root), [[/Trust "Netskope Root CA"/, 'y\r'], [/Apply this plan\?/, 'y\r']]);
      expect(r.code, r.text).toBe(0);
      expect(r.text).toContain('After the fix');
      expect(r.text).toMatch(/FAIL -> ok/);
      expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(rootPem.trim());
    });

    it('doctor --fix: "n" to the CA changes nothing (exit 1)', async () => {
      const root = debianTree({ withTool: true });
      const before = snapshot(root);
      const r = await converse(fix(root), [[/Trust "Netskope Root CA"/, 'n\r']]);
      expect(r.code, r.text).toBe(1);
      expect(r.text).toContain('Nothing changed.');
      expect(snapshotDiff(before, snapshot(root))).toEqual([]);
    });
  });
});
