// The product: the CLI bundled and minified into dist/bundle/, loaded by bin/ollama-tls.js.
// One entry (src/cli/main.ts); every `await import()` in the source becomes its own chunk, so a
// command loads only the modules on its own path (--help loads commander and main alone).
// `doctor`, the command run most, gets one file of its own (dist/bundle/doctor.js, see below).
// tsc remains the type check; this only transforms.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outdir = path.join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });

const banner = { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" };
// What every build here shares: Node 20.19 and up, minified unless BUNDLE_MINIFY=0 (readable
// names in a CPU profile), no legal comments.
const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20.19', minify: process.env.BUNDLE_MINIFY !== '0', legalComments: 'none' };
const split = await build({
  ...common,
  entryPoints: { cli: path.join(root, 'src/cli/main.ts') },
  outdir,
  splitting: true,
  format: 'esm',
  // Chunks sit beside the entry: src/cli/version.ts finds package.json at ../../ from either.
  chunkNames: '[name]-[hash]',
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner,
  logLevel: 'warning',
  // inspect's extension detail (x509/extension-detail.ts) is loaded from node_modules as it ships:
  // bundled, its CommonJS build lost its exports (`X509Certificate is not a constructor`), and it
  // is loaded by one command only, so bundling it saves nothing.
  external: ['@peculiar/x509', 'reflect-metadata'],
  metafile: true,
});

// The doctor's path as one file. Split, it is cli.js plus ~20 chunks (esbuild places each module
// by the set of entries that use it, and most of the doctor's modules are shared with some other
// command), and Node's ESM loader pays per file: resolving, reading, compiling and linking them cost
// ~32 ms of CPU against ~25 ms for the same code in one file. So a second pass bundles the split
// output again from cli.js with doctor-command folded in, and with every chunk a doctor run may
// load later (the renderer, --fix and what it loads, HTTP/2) folded in too: a module must exist
// once per process, or a class (UserError, Certificate) from one copy would fail `instanceof` in
// the other. Left as separate files: cli.js's imports of the other commands (never run by a doctor
// run) and lazily loaded chunks holding only third-party packages (ora, inquirer, and commander,
// which a plain doctor command line never loads: cli/plain-args.ts), which share no
// state with our modules. The launcher loads doctor.js for `doctor` and cli.js for the rest.
const outputs = split.metafile.outputs;
const outKey = (file) => path.relative(root, path.join(outdir, file));
const imports = (file, kind) => (outputs[outKey(file)]?.imports ?? []).filter((i) => i.kind === kind && !i.external).map((i) => path.basename(i.path));
function staticClosure(starts) {
  const seen = new Set();
  const todo = [...starts];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...imports(f, 'import-statement'));
  }
  return seen;
}
const holdsOurCode = (files) => [...files].some((f) => Object.keys(outputs[outKey(f)].inputs).some((i) => i.startsWith('src/')));
const doctorChunk = path.basename(Object.entries(outputs).find(([, o]) => o.entryPoint === 'src/cli/doctor-command.ts')[0]);
const doctorPath = staticClosure(['cli.js', doctorChunk]);
const folded = new Set(doctorPath);
const separate = new Set();
// The other commands' own chunks, which a doctor run never loads (cli.js imports each when it runs).
const commandChunks = new Set(Object.entries(outputs).filter(([, o]) => /^src\/cli\/[a-z]+-command\.ts$/.test(o.entryPoint ?? '')).map(([f]) => path.basename(f)));
commandChunks.delete(doctorChunk);
// What a doctor run may load later: every dynamic import of its path but the other commands
// (commander too: cli.js loads it when a command line is not plain, cli/plain-args.ts).
const later = [...folded].flatMap((f) => imports(f, 'dynamic-import').filter((t) => !(f === 'cli.js' && commandChunks.has(t))));
while (later.length) {
  const target = later.pop();
  if (folded.has(target) || separate.has(target)) continue;
  const closure = staticClosure([target]);
  if (!holdsOurCode(closure)) {
    separate.add(target);
    continue;
  }
  for (const f of closure) {
    folded.add(f);
    later.push(...imports(f, 'dynamic-import'));
  }
}
for (const target of separate) {
  // esbuild's own helpers (the chunk with no module of ours or of a package) hold no state.
  const shared = [...staticClosure([target])].filter((f) => folded.has(f) && Object.keys(outputs[outKey(f)].inputs).some((i) => i !== '<runtime>'));
  if (shared.length) throw new Error(`doctor.js: ${target} would load ${shared.join(', ')} a second time`);
}
// CommonJS, so that the launcher can compile it through vm.Script with a V8 code cache (Node 20
// has no compile cache, and an ES module cannot be given one): the launcher's share of a warm
// doctor run's compile time drops by the functions V8 would otherwise compile lazily as it runs.
// ES module semantics kept: strict mode (the banner's directive), import.meta.url (the bundle's own
// URL, which version.ts and outline-cache.ts read), no top-level await (esbuild refuses it in CJS).
const doctorPass = await build({
  ...common,
  entryPoints: { doctor: path.join(outdir, 'cli.js') },
  outdir,
  outExtension: { '.js': '.cjs' },
  write: false,
  format: 'cjs',
  logLevel: 'warning',
  external: ['@peculiar/x509', 'reflect-metadata'],
  define: { 'import.meta.url': '__bundleUrl' },
  // Names of its own: the chunks folded in keep their banners' __cr and require (esbuild renames
  // those apart), and this text is not parsed, so it must not collide with them.
  // __bundleUrl: import.meta.url. For an absolute path of plain segments (no "." or "..", no "//",
  // nothing to escape) pathToFileURL adds nothing but "file://" (and costs ~0.4 ms cold).
  banner: { js: '"use strict";const __bundleUrl=/^(?:\\/[\\w-][\\w.-]*)+$/.test(__filename)?"file://"+__filename:require("node:url").pathToFileURL(__filename).href,__laterRequire=require;' },
  plugins: [{
    name: 'doctor-path',
    setup(b) {
      // What the folded-in later chunks import from Node (http2, zlib...) is loaded when they run,
      // as it was when they were files of their own: through require(), inside their lazy start.
      // A dynamic import() of a built-in becomes the same require() (import() in a vm.Script would
      // need Node's experimental loader hook).
      b.onResolve({ filter: /^node:/ }, (args) => {
        const file = path.basename(args.importer);
        const later = folded.has(file) && !doctorPath.has(file);
        // The chunks' banners make a require() each from their own URL: all the same file now,
        // so the one require the launcher hands in serves them all (~40 createRequire calls less).
        if (args.path === 'node:module') return { path: args.path, namespace: 'one-require' };
        if (!later && args.kind !== 'dynamic-import') return undefined;
        return { path: args.path, namespace: 'later-builtin' };
      });
      b.onLoad({ filter: /.*/, namespace: 'one-require' }, () => ({ contents: 'export const createRequire = () => __laterRequire;', loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'later-builtin' }, (args) => ({ contents: `module.exports = __laterRequire(${JSON.stringify(args.path)});`, loader: 'js' }));
      b.onResolve({ filter: /^\.\/[^/]+\.js$/ }, (args) => {
        const file = path.basename(args.path);
        const otherCommand = args.kind === 'dynamic-import' && path.basename(args.importer) === 'cli.js' && commandChunks.has(file);
        if (otherCommand || separate.has(file)) return { path: `./${file}`, external: true };
        if (!folded.has(file)) throw new Error(`doctor.cjs: ${args.importer} imports ${file}, which is neither folded in nor left out`);
        return undefined;
      });
    },
  }],
});
// The files left out (ES modules) are loaded through the launcher's import(), handed in as
// __bundleImport: an import() in a vm.Script's code would need Node's experimental loader hook.
const doctorOut = doctorPass.outputFiles[0];
const doctorText = doctorOut.text.replace(/\bimport\("\.\/([^"/]+\.js)"\)/g, '__bundleImport("./$1")');
// The launcher reads this file as Latin-1 (a plain copy, where UTF-8 must be decoded): it must be
// ASCII. esbuild escapes other characters in strings but leaves regular expressions as written.
const nonAscii = /[^\x00-\x7f]/.exec(doctorText);
if (nonAscii) throw new Error(`doctor.cjs: "${nonAscii[0]}" near "${doctorText.slice(Math.max(0, nonAscii.index - 40), nonAscii.index + 10)}": write it as a \\u escape in the source`);
const stray = doctorText.match(/\bimport\([^)]{0,40}/g);
if (stray) throw new Error(`doctor.cjs: import() left that the launcher cannot serve: ${stray.join(', ')}`);
// Its first line names the rest by hash: the launcher's key for the code cache, not computed per run.
const doctorHash = createHash('sha256').update(doctorText).digest('hex').slice(0, 32);
writeFileSync(doctorOut.path, `// sha256:${doctorHash}\n${doctorText}`);
// The launcher keeps the code cache in the user's cache directory: where that is and how a cache
// file is read and written, it learns from this file, built from the modules that say it
// (platform/cache-dir.ts, platform/cache-file.ts).
await build({
  ...common,
  stdin: {
    contents: "export { cacheDir } from './src/platform/cache-dir.ts';\nexport { readCacheFile, writeCacheFile } from './src/platform/cache-file.ts';\n",
    resolveDir: root, sourcefile: 'cache.ts', loader: 'ts',
  },
  outfile: path.join(outdir, 'cache.cjs'),
  format: 'cjs',
  logLevel: 'warning',
});

// The top-level help as the CLI prints it on a pipe (no terminal width, no colour): the launcher
// serves it from this file, so `ollama-tls --help | less` costs no more than `--version`.
const { spawnSync } = await import('node:child_process');
const env = { ...process.env };
for (const name of ['FORCE_COLOR', 'CLICOLOR_FORCE', 'NO_COLOR']) delete env[name];
// Through the bundle itself (not bin/, which would answer from help.txt).
writeFileSync(path.join(outdir, 'cli-help.mjs'), "const m = await import('./cli.js'); await m.main([process.argv[0], 'ollama-tls', '--help']);\n");
const help = spawnSync(process.execPath, [path.join(outdir, 'cli-help.mjs')], { env, encoding: 'buffer', stdio: ['ignore', 'pipe', 'pipe'] });
if (help.status !== 0 || help.stderr.length > 0) throw new Error(`rendering --help failed (${help.status}): ${help.stderr}`);
writeFileSync(path.join(outdir, 'help.txt'), help.stdout);
rmSync(path.join(outdir, 'cli-help.mjs'));
