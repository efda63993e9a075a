#!/usr/bin/env node
// Tiny launcher: the CLI is one minified bundle in dist/bundle/ (built by `npm ci` through
// `prepare`, and by `npm run build`); each command's modules are chunks loaded when it runs.
import { fstatSync, readFileSync, writeSync } from 'node:fs';

/** Straight to the file descriptor: creating process.stdout costs more than the rest of --version. */
function print(text) {
  try {
    writeSync(1, text);
  } catch (err) {
    if (err.code !== 'EPIPE') throw err;
  }
}

const args = process.argv.slice(2);
const one = args.length === 1 ? args[0] : undefined;
/** Standard output is no terminal (a character device may be one: node:tty would load node:net to say). */
function notTerminal() {
  try {
    return !fstatSync(1).isCharacterDevice();
  } catch {
    return false;
  }
}

// Help on a pipe or in a file, where commander neither wraps to a terminal's width nor colours:
// the text the CLI itself printed there when it was built (scripts/bundle.mjs), byte for byte.
const piped = (one === '--help' || one === '-h') && process.env.FORCE_COLOR === undefined && process.env.CLICOLOR_FORCE === undefined && notTerminal();
let help;
if (piped) {
  try {
    help = readFileSync(new URL('../dist/bundle/help.txt', import.meta.url));
  } catch {
    help = undefined; // not built: the CLI prints it
  }
}

if (one === '--version' || one === '-V') {
  // Answered here, without loading the CLI: scripts call this often and expect it instantly.
  print(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else if (help) {
  print(help);
} else {
  // doctor has one file of its own (scripts/bundle.mjs says why); the same main() as cli.js's.
  const bundle = args[0] === 'doctor' ? '../dist/bundle/doctor.js' : '../dist/bundle/cli.js';
  import(bundle).then((m) => m.main(process.argv)).catch((err) => {
    console.error(`ollama-tls: could not start (${err && err.message ? err.message : err}). Run "npm ci" (it builds dist/) and try again.`);
    process.exit(3);
  });
}
