// The interactive path, on a real pseudo-terminal made by util-linux `script`: spinner and colour
// for a person, neither for NO_COLOR, and no runaway on a terminal that reports no width.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../helpers/cli.js';
import { loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';

const haveScript = spawnSync('script', ['--version']).status === 0;

function onTerminal(command: string, env: Record<string, string> = {}): Promise<{ text: string; ms: number }> {
  const log = path.join(tempDir(), 'tty.log');
  const t0 = performance.now();
  return new Promise((resolve) => {
    // `script -e` runs the command on a new pseudo-terminal and keeps everything it printed. A person
    // at a terminal: the CI runner's own `CI` variable (which turns the spinner off) is not theirs.
    const full: NodeJS.ProcessEnv = { ...cliEnv(env), TERM: 'xterm' };
    if (!('CI' in env)) delete full.CI;
    execFile('script', ['-qec', command, log], { env: full, timeout: 30_000 }, () => {
      resolve({ text: readFileSync(log, 'latin1'), ms: performance.now() - t0 });
    });
  });
}

describe.skipIf(!haveScript)('on a terminal', () => {
  let server: Running;
  let command: string;
  beforeAll(async () => {
    const s = loadScenario('valid-rsa');
    server = await serveChain(s);
    const target = `${s.host}:${server.port}`;
    command = `${process.execPath} ${BIN} doctor ${target} --resolve ${target}:127.0.0.1`;
  });
  afterAll(() => server.close());

  it('shows a spinner on stderr and colours the report', async () => {
    const { text } = await onTerminal(`stty cols 100 rows 40; ${command}`, { NO_COLOR: '' });
    expect(text).toContain('Checking');
    expect(text).toMatch(/\x1b\[31mPROBLEM/);
  });

  it('keeps quiet under CI=true even on a terminal', async () => {
    const { text } = await onTerminal(`stty cols 100 rows 40; ${command}`, { NO_COLOR: '', CI: 'true' });
    expect(text).toContain('PROBLEM');
    expect(text).not.toContain('Checking');
  });

  it('honours NO_COLOR', async () => {
    const { text } = await onTerminal(`stty cols 100 rows 40; ${command}`, { NO_COLOR: '1' });
    expect(text).toContain('PROBLEM');
    expect(text).not.toMatch(/\x1b\[3\dm/);
  });

  it('explain with nothing to read on a terminal says how to give it input, exit 2', async () => {
    const log = path.join(tempDir(), 'explain.log');
    const code = await new Promise<number>((resolve) => {
      execFile('script', ['-qec', `${process.execPath} ${BIN} explain`, log], { env: { ...cliEnv(), TERM: 'xterm' }, timeout: 30_000 },
        (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0));
    });
    expect(code).toBe(2);
    expect(readFileSync(log, 'utf8')).toContain('nothing to explain');
  });

  it('does not run away on a terminal that reports zero columns', async () => {
    const { text, ms } = await onTerminal(`stty cols 0 rows 0; ${command}`, { NO_COLOR: '' });
    expect(text).toContain('PROBLEM');
    expect(text.length).toBeLessThan(20_000);
    expect(ms).toBeLessThan(10_000);
  });
});
