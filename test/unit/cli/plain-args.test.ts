// A plain doctor command line is read without commander (cli/plain-args.ts): for every line it
// reads, the targets and flags must be exactly what commander, configured from the same options
// table as main.ts configures it, hands the doctor's action; every other line is left to commander.
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { withOptions } from '../../../src/cli/main.js';
import { COMMAND_OPTIONS, OPTIONS } from '../../../src/cli/options.js';
import { plainDoctorArgs } from '../../../src/cli/plain-args.js';
import { rng } from '../../helpers/rng.js';

/** What commander gives the doctor's action for `args`, or the error it stops with. */
function commanderReads(args: string[]): { targets: string[]; flags: Record<string, unknown> } | { error: string } {
  let got: { targets: string[]; flags: Record<string, unknown> } | undefined;
  const program = new Command('ollama-tls').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const doctor = program.command('doctor').argument('[target...]');
  withOptions(doctor, 'doctor', undefined);
  doctor.action((targets: string[], flags: Record<string, unknown>) => {
    got = { targets, flags: { ...flags } };
  });
  try {
    program.parse(['node', 'ollama-tls', 'doctor', ...args]);
  } catch (err) {
    if (err instanceof CommanderError) return { error: err.code };
    throw err;
  }
  return got!;
}

/** Every doctor option spelled as the table spells it, with a value where it takes one. */
const spellings = COMMAND_OPTIONS.doctor.map((name) => {
  const flags: string = OPTIONS[name].flags;
  return { long: /--[a-z0-9-]+/.exec(flags)![0], short: /^-[a-z],/.exec(flags)?.[0].slice(0, 2), value: flags.includes('<') };
});

describe('a plain doctor command line', () => {
  it('is read as commander reads it, for the lines people type', () => {
    const lines = [
      [],
      ['registry.ollama.ai'],
      ['ollama.example.com:8443', '--ca', 'corp-ca.pem'],
      ['--model', 'llama3.2:1b'],
      ['https://ollama.internal/', '--user', 'alice:secret'],
      ['https://ollama.internal/api/tags', '--bearer-file', 'token.txt', '--json'],
      ['--ai'],
      ['mtls.example.com:443', '--cert', 'client.pem', '--key', 'client.key'],
      ['registry.ollama.ai', '--resolve', 'registry.ollama.ai:443:10.0.0.5', '--save-chain', 'chain.pem'],
      ['a.example', '--resolve', 'a.example:443:127.0.0.1', '--resolve', 'b.example:443:127.0.0.2', 'b.example', '--json'],
      ['--no-proxy', 'x.example'],
      ['--proxy', 'http://proxy.example:3128', 'x.example', '--timeout', '2500'],
      ['--ca', 'a.pem', '--ca', 'b.pem', '--decide', 'go,node', '--verbose'],
      ['--fix', '--yes', '--fingerprint', 'ab', '--fingerprint', 'cd', '--dry-run'],
      ['', 'x.example'],
    ];
    for (const line of lines) {
      const plain = plainDoctorArgs(line);
      expect(plain, line.join(' ')).toBeDefined();
      expect({ targets: plain!.operands, flags: plain!.flags }, line.join(' ')).toEqual(commanderReads(line));
    }
  });

  it('is read as commander reads it, for every option and thousands of random lines; the rest is left to commander', () => {
    const rnd = rng(17);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const words = ['x.example', 'https://y.example/', '-', '--', '-v', '-h', '--help', '--ca=a.pem', '--bogus', '--ca', '--proxy', '--no-proxy', 'value', '-1', ''];
    let read = 0;
    let left = 0;
    for (let n = 0; n < 4000; n++) {
      const line: string[] = [];
      const length = Math.floor(rnd() * 7);
      for (let i = 0; i < length; i++) {
        const r = rnd();
        if (r < 0.55) {
          const o = pick(spellings);
          line.push(o.short && rnd() < 0.1 ? o.short : o.long);
          if (o.value && rnd() < 0.9) line.push(rnd() < 0.1 ? pick(words) : `v${i}`);
        } else {
          line.push(pick(words));
        }
      }
      const plain = plainDoctorArgs(line);
      if (!plain) {
        left++;
        continue;
      }
      read++;
      expect({ targets: plain.operands, flags: plain.flags }, JSON.stringify(line)).toEqual(commanderReads(line));
    }
    // Both kinds met often: the comparison above is not vacuous.
    expect(read).toBeGreaterThan(500);
    expect(left).toBeGreaterThan(500);
  });

  it('leaves to commander what only commander should answer', () => {
    for (const line of [['--help'], ['-h'], ['-v'], ['--ca=a.pem'], ['--', 'x'], ['--bogus'], ['--ca'], ['--ca', '--json'], ['--timeout', '1', '--timeout', '2'],
      ['--proxy', 'http://p:1', '--no-proxy'], ['--no-proxy', '--no-proxy']]) {
      expect(plainDoctorArgs(line), line.join(' ')).toBeUndefined();
    }
  });
});
