// vitest globalSetup: every CLI the tests start keeps its caches (platform/cache-dir.ts) in one
// temporary directory of this test run, never in the user's own ~/.cache; removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-test-cache-'));
  process.env.XDG_CACHE_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
