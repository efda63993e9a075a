#!/usr/bin/env node
// Tiny launcher: the CLI is one minified bundle in dist/bundle/ (built by `npm ci` through
// `prepare`, and by `npm run build`); each command's modules are chunks loaded when it runs.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered here, without loading the CLI: scripts call this often and expect it instantly.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  import('../dist/bundle/cli.js').then((m) => m.main(process.argv)).catch((err) => {
    console.error(`ollama-tls: could not start (${err && err.message ? err.message : err}). Run "npm ci" (it builds dist/) and try again.`);
    process.exit(3);
  });
}
