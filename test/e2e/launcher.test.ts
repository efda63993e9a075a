// bin/ollama-tls.js answers --version and piped --help itself (the help as the bundle rendered it
// at build time); everything else, and help that commander would colour, goes to the bundle.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist/bundle/cli.js');

/** The bundle's own --help, rendered now on a pipe. */
function bundleHelp(env: NodeJS.ProcessEnv): string {
  const code = `const m = await import(${JSON.stringify(BUNDLE)}); await m.main([process.argv[0], 'ollama-tls', '--help']);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
}

describe('launcher', () => {
  it('--version is the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('--help and -h on a pipe: byte for byte what the bundle prints', async () => {
    const env = { ...process.env };
    for (const k of ['FORCE_COLOR', 'CLICOLOR_FORCE', 'NO_COLOR']) delete env[k];
    const want = bundleHelp(env);
    expect(want).toMatch(/^Usage: ollama-tls \[options\] \[command\]/);
    for (const flag of ['--help', '-h']) {
      expect(execFileSync(process.execPath, [BIN, flag], { env, encoding: 'utf8' })).toBe(want);
    }
  });

  it('with FORCE_COLOR the bundle renders the help itself (commander may colour it)', () => {
    const env = { ...process.env, FORCE_COLOR: '1' };
    expect(execFileSync(process.execPath, [BIN, '--help'], { env, encoding: 'utf8' })).toBe(bundleHelp(env));
  });
});
