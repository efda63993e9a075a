// The product: the CLI bundled and minified into dist/bundle/, loaded by bin/ollama-tls.js.
// One entry (src/cli/main.ts); every `await import()` in the source becomes its own chunk, so a
// command loads only the modules on its own path (--help loads commander and main alone).
// tsc remains the type check; this only transforms.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outdir = path.join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { cli: path.join(root, 'src/cli/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  minify: true,
  // Chunks sit beside the entry: src/cli/version.ts finds package.json at ../../ from either.
  chunkNames: '[name]-[hash]',
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  // inspect's extension detail (x509/extension-detail.ts) is loaded from node_modules as it ships:
  // bundled, its CommonJS build lost its exports (`X509Certificate is not a constructor`), and it
  // is loaded by one command only, so bundling it saves nothing.
  external: ['@peculiar/x509', 'reflect-metadata'],
});

// The top-level help as the CLI prints it on a pipe (no terminal width, no colour): the launcher
// serves it from this file, so `ollama-tls --help | less` costs no more than `--version`.
const { spawnSync } = await import('node:child_process');
const { writeFileSync } = await import('node:fs');
const env = { ...process.env };
for (const name of ['FORCE_COLOR', 'CLICOLOR_FORCE', 'NO_COLOR']) delete env[name];
// Through the bundle itself (not bin/, which would answer from help.txt).
writeFileSync(path.join(outdir, 'cli-help.mjs'), "const m = await import('./cli.js'); await m.main([process.argv[0], 'ollama-tls', '--help']);\n");
const help = spawnSync(process.execPath, [path.join(outdir, 'cli-help.mjs')], { env, encoding: 'buffer', stdio: ['ignore', 'pipe', 'pipe'] });
if (help.status !== 0 || help.stderr.length > 0) throw new Error(`rendering --help failed (${help.status}): ${help.stderr}`);
writeFileSync(path.join(outdir, 'help.txt'), help.stdout);
rmSync(path.join(outdir, 'cli-help.mjs'));
