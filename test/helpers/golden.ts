// Golden files: what a command printed, compared byte for byte with the copy in test/golden/.
// UPDATE_GOLDEN=1 rewrites them (then read the diff before committing it). A missing golden file
// is written and the test fails, so a new case is never passed unseen.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './servers.js';

export const GOLDEN_DIR = path.join(ROOT, 'test/golden');

/** Compare `actual` with test/golden/<name> (name includes the extension and any sub-folder). */
export function checkGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    if (!process.env.UPDATE_GOLDEN) throw new Error(`wrote missing golden file ${file}; check it and commit it`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** What differs between two runs of the same case and is not the command's to decide. */
export interface Volatile {
  /** Ephemeral ports of the servers (and closed ports) the run used. */
  ports?: number[];
  /** Temporary directories (trees, build contexts), longest first is not required. */
  paths?: string[];
}

/**
 * A text with what legitimately varies between runs replaced: ports, temp paths, what a
 * regenerated fixture changes (fingerprints, relative day counts), Go's "current time", timings
 * in messages, the Node.js version's root count and Node 24's extra hint.
 */
export function normaliseText(s: string, v: Volatile = {}): string {
  let out = s;
  for (const p of [...(v.paths ?? [])].sort((a, b) => b.length - a.length)) out = out.split(p).join('<tmp>');
  for (const port of v.ports ?? []) out = out.replace(new RegExp(`\\b${port}\\b`, 'g'), 'PORT');
  return out
    .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
    .replace(/\b[0-9a-f]{40}\b/g, '<sha1>')
    .replace(/ollama-tls-[0-9a-f]{16}\b/g, 'ollama-tls-<sha256:16>')
    .replace(/current time \S+/g, 'current time T')
    .replace(/after \d+ ms\b/g, 'after N ms')
    .replace(/\(\d+ days left\)/g, '(N days left)')
    .replace(/expired \d+ days? ago/g, 'expired N days ago')
    .replace(/Node\.js v\d+\.\d+\.\d+ bundled roots \(\d+ certificates\)/g, 'Node.js vX.Y.Z bundled roots (NNN certificates)')
    .replace(/Node\.js v\d+\.\d+\.\d+'s Mozilla roots/g, "Node.js vX.Y.Z's Mozilla roots")
    .replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/g, '');
}

/**
 * A `--json` output with what legitimately varies between runs replaced by placeholders: ports,
 * temp paths, timings, the tool's version, and what a regenerated fixture changes (its keys, so
 * fingerprints, serials, PEM; relative dates; Go's "current time"). Everything else, every field
 * name and every other value, stays as printed: that is what the golden guards.
 */
export function normaliseJson(stdout: string, v: Volatile = {}): string {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      if (key === 'pem') return '<pem>';
      if (key === 'serial') return '<serial>';
      if (key === 'version' && /^\d+\.\d+\.\d+/.test(value)) return '<version>';
      return normaliseText(value, v);
    }
    if (typeof value === 'number') {
      if (/(^|[a-z])(ms|Ms)$/.test(key)) return '<ms>';
      if (key === 'port' && v.ports?.includes(value)) return 'PORT';
      return value;
    }
    if (Array.isArray(value)) return value.map((x) => walk(x, key));
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      // Mozilla's roots as this Node.js bundles them: their size is Node's, not the plan's.
      // So is a bundle seeded with them.
      const nodeRoots = (typeof o.path === 'string' && o.path.endsWith('ollama-tls-roots.pem')) || (typeof o.why === 'string' && o.why.startsWith('seed '));
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, nodeRoots && k === 'bytes' ? '<bytes>' : walk(x, k)]));
    }
    return value;
  };
  return `${JSON.stringify(walk(JSON.parse(stdout), ''), null, 2)}\n`;
}
