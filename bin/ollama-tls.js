#!/usr/bin/env node
// Tiny launcher: everything lives in dist/ (built by `npm ci` through `prepare`).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(`ollama-tls: could not start (${err && err.message ? err.message : err}). Run "npm ci" (it builds dist/) and try again.`);
  process.exit(3);
});
