// A command line read from the options table (options.ts) without commander, when reading it
// leaves no question: every option spelled in full as the table spells it, each value in the
// argument after its option, no single-valued option given twice, no `--proxy` with `--no-proxy`.
// For such a line the flags are the ones commander would give the command's action (held equal
// by test/unit/cli/plain-args.test.ts over many lines); anything else (help, a short or `=` form,
// `--`, an option the command does not have, a value that looks like an option, a missing value)
// is commander's to read and to explain. The doctor, the command run most, then starts without
// loading and configuring commander (~3 ms of a run that is ~50 ms beyond Node's own start).
import { COMMAND_OPTIONS, OPTIONS, type OptionName } from './options.js';

export interface PlainArgs {
  /** The targets, in order. */
  operands: string[];
  /** As commander's opts(): only the options given, under the table's names. */
  flags: Record<string, string | boolean | string[]>;
}

/** The doctor's long options, by spelling: '--ca' -> ca, '--no-proxy' -> noProxy. */
function longOptions(): Map<string, OptionName> {
  const out = new Map<string, OptionName>();
  for (const name of COMMAND_OPTIONS.doctor) {
    const long = /--[a-z0-9-]+/.exec(OPTIONS[name].flags)?.[0];
    if (long) out.set(long, name);
  }
  return out;
}

/** `args`: what follows `doctor` (whose operands are any number of targets). Undefined: commander reads it. */
export function plainDoctorArgs(args: readonly string[]): PlainArgs | undefined {
  const options = longOptions();
  const operands: string[] = [];
  const flags: PlainArgs['flags'] = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      operands.push(arg);
      continue;
    }
    const name = options.get(arg);
    if (!name) return undefined;
    const spec: { kind: string; negates?: string } = OPTIONS[name];
    // The value an option sets, under the name commander keeps it (`--no-proxy` sets `proxy`).
    const key = spec.negates ?? name;
    if (spec.kind === 'flag') {
      flags[key] = true;
      continue;
    }
    if (spec.negates) {
      if (key in flags) return undefined;
      flags[key] = false;
      continue;
    }
    const value = args[i + 1];
    // Every other kind takes one value (options.ts: value, list, and `--proxy <url>`).
    if (value === undefined || value.startsWith('-')) return undefined;
    i++;
    if (spec.kind === 'list') {
      flags[key] = [...((flags[key] as string[] | undefined) ?? []), value];
    } else {
      if (key in flags) return undefined;
      flags[key] = value;
    }
  }
  return { operands, flags };
}
