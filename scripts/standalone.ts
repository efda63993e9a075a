// `npm run standalone`: build/ollama-tls, one executable file that needs no Node.js on the machine
// (for container build steps on images without Node, such as ollama/ollama). It is Node's single
// executable application support: the CLI bundled by esbuild into one CommonJS script, turned into
// a preparation blob by `node --experimental-sea-config`, injected by postject into a copy of this
// Node binary. The result is cached by a digest of its inputs (the sources, the lockfile, this
// Node), so running it again is instant until something changes.
//
// Separate from the main build on purpose: dist/ and bin/ stay as they are.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT_DIR = path.join(ROOT, 'build');
export const STANDALONE = path.join(OUT_DIR, 'ollama-tls');
const STAMP = `${STANDALONE}.inputs`;
// The fuse Node's SEA loader looks for (documented with --experimental-sea-config).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

/** What the binary is made from: every source file, the lockfile, the package's version, this Node. */
export function inputsDigest(): string {
  const h = createHash('sha256');
  for (const f of [...filesUnder(path.join(ROOT, 'src')).sort(), path.join(ROOT, 'package-lock.json'), path.join(ROOT, 'package.json'), path.join(ROOT, 'scripts/standalone.ts')]) {
    h.update(path.relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  h.update(process.version).update(process.execPath);
  return h.digest('hex');
}

export async function buildStandalone(opts: { quiet?: boolean } = {}): Promise<{ path: string; cached: boolean }> {
  const say = (t: string) => {
    if (!opts.quiet) process.stderr.write(`${t}\n`);
  };
  const digest = inputsDigest();
  if (existsSync(STANDALONE) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === digest) {
    say(`${path.relative(process.cwd(), STANDALONE)} is up to date`);
    return { path: STANDALONE, cached: true };
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const work = path.join(OUT_DIR, 'standalone-work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  // 1. One CommonJS script. The version is fixed at build time (there is no package.json beside a
  // single file); every dynamic import of the CLI is a literal path, so esbuild folds them in.
  const bundle = path.join(work, 'ollama-tls.cjs');
  await build({
    stdin: {
      contents: `import { main } from './src/cli/main.ts';\nmain(process.argv);\n`,
      resolveDir: ROOT, sourcefile: 'standalone-entry.ts', loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle,
    // The CLI's one question about how it runs (cli/invocation.ts): here, as this binary.
    define: { OLLAMA_TLS_STANDALONE: 'true' },
    logLevel: opts.quiet ? 'silent' : 'warning', legalComments: 'none', minify: true,
    plugins: [{
      name: 'fixed-version',
      setup(b) {
        b.onLoad({ filter: /src[\\/]cli[\\/]version\.ts$/ }, () => ({ contents: `export function toolVersion(): string { return ${JSON.stringify(version)}; }`, loader: 'ts' }));
      },
    }],
  });

  // 2. The preparation blob.
  const blob = path.join(work, 'sea-prep.blob');
  const config = path.join(work, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: opts.quiet ? 'ignore' : 'inherit' });

  // 3. A copy of this Node with the blob injected.
  const tmp = `${STANDALONE}.tmp`;
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  const postject = path.join(ROOT, 'node_modules/postject/dist/cli.js');
  execFileSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { stdio: opts.quiet ? 'ignore' : 'inherit' });
  rmSync(STANDALONE, { force: true });
  copyFileSync(tmp, STANDALONE);
  chmodSync(STANDALONE, 0o755);
  rmSync(tmp, { force: true });
  rmSync(work, { recursive: true, force: true });
  writeFileSync(STAMP, `${digest}\n`);
  say(`wrote ${path.relative(process.cwd(), STANDALONE)} (${(statSync(STANDALONE).size / 1048576).toFixed(1)} MiB)`);
  return { path: STANDALONE, cached: false };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await buildStandalone();
}
