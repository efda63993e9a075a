#!/usr/bin/env node
'use strict';
// Tiny launcher: the CLI is one minified bundle in dist/bundle/ (built by `npm ci` through
// `prepare`, and by `npm run build`); each command's modules are chunks loaded when it runs.
// CommonJS (bin/package.json): Node starts a CommonJS main script without its ESM loader, which
// is most of what --version costs beyond Node itself. The bundle is ESM, loaded with import().
const { fstatSync, readFileSync, writeSync } = require('node:fs');

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
    help = readFileSync(`${__dirname}/../dist/bundle/help.txt`);
  } catch {
    help = undefined; // not built: the CLI prints it
  }
}

if (one === '--version' || one === '-V') {
  // Answered here, without loading the CLI: scripts call this often and expect it instantly.
  print(`${JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')).version}\n`);
} else if (help) {
  print(help);
} else {
  // Node 22.1+ keeps the compiled bundle in its compile cache (os.tmpdir()/node-compile-cache, or
  // NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off): a doctor run on Node 24 took
  // 0.93x the CPU with it. Node 20 has no such call.
  require('node:module').enableCompileCache?.();
  // doctor has one file of its own (scripts/bundle.mjs says why); the same main() as cli.js's.
  const bundle = args[0] === 'doctor' ? '../dist/bundle/doctor.js' : '../dist/bundle/cli.js';
  import(bundle).then((m) => m.main(process.argv)).catch((err) => {
    console.error(`ollama-tls: could not start (${err && err.message ? err.message : err}). Run "npm ci" (it builds dist/) and try again.`);
    process.exit(3);
  });
}
