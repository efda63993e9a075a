// The one options table (src/cli/options.ts): every flag a command lists has words for that
// command, each key is the name commander gives the value (so the typed flags are the parsed
// ones), and the help of the built CLI lists allowed values from the code's own lists.
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, COMMAND_OPTIONS, OPTIONS, optionHelp, optionValues, type OptionName } from '../../src/cli/options.js';
import { TARGET_IDS } from '../../src/fix/targets.js';
import { VIEW_NAMES } from '../../src/trust/views.js';
import { runCli } from '../helpers/cli.js';

/** commander's attribute name for a long flag: --dry-run -> dryRun, --no-proxy -> proxy. */
const attribute = (flags: string): string => {
  const long = flags.split(/[ ,]+/).find((f) => f.startsWith('--'))!.slice(2).replace(/^no-/, '');
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
};

describe('the options table', () => {
  it('each key is the attribute commander sets (or the one it negates)', () => {
    for (const [name, spec] of Object.entries(OPTIONS)) {
      expect(attribute(spec.flags), name).toBe('negates' in spec ? spec.negates : name);
    }
  });

  it('every option of every command has its own words there, value lists filled in', async () => {
    const values = await optionValues();
    for (const command of COMMAND_NAMES) {
      const names = COMMAND_OPTIONS[command] as readonly OptionName[];
      expect(new Set(names).size, command).toBe(names.length);
      for (const name of names) {
        const help = optionHelp(command, name, values);
        expect(help, `${command} ${name}`).toMatch(/^\S/);
        expect(help, `${command} ${name}`).not.toMatch(/undefined|\{\w+\}/);
      }
    }
  });

  it('trust --help lists the stores --only accepts, verify --help the views --view accepts', async () => {
    const trust = (await runCli(['trust', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(trust).toContain(`comma-separated: ${TARGET_IDS.filter((t) => t !== 'bundle').join(', ')}`);
    const bad = await runCli(['trust', '--ca', 'x.pem', '--only', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(TARGET_IDS.filter((t) => t !== 'bundle').join(', '));
    const verify = (await runCli(['verify', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(verify).toContain(`decide the result: ${VIEW_NAMES.filter((v) => v !== 'extra').join(', ')} (repeatable)`);
  });
});
