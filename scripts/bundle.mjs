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
});
