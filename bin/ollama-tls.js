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
  // doctor has one file of its own (scripts/bundle.mjs says why): CommonJS, compiled here with a V8
  // code cache; the rest of the CLI is ES modules. Both export the same main().
  const started = args[0] === 'doctor' ? Promise.resolve().then(() => loadCommonJsBundle('doctor.cjs')) : startEsmBundle();
  started.then((m) => m.main(process.argv), (err) => {
    console.error(`ollama-tls: could not start (${err && err.message ? err.message : err}). Run "npm ci" (it builds dist/) and try again.`);
    process.exit(3);
  });
}

function startEsmBundle() {
  // Node 22.1+ keeps the compiled bundle in its compile cache (os.tmpdir()/node-compile-cache, or
  // NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off). Node 20 has no such call.
  require('node:module').enableCompileCache?.();
  return import('../dist/bundle/cli.js');
}

/**
 * A CommonJS bundle of dist/bundle/, compiled with V8's code cache kept in ollama-tls's cache
 * directory (dist/bundle/cache.cjs, built from platform/cache-dir.ts and cache-file.ts), named by the bundle's
 * hash (its first line), this Node and its flags: a warm doctor run then compiles almost nothing
 * (Node 20 has no compile cache, and Node's module loaders take no cached data). Without a
 * writable cache directory, or with a cache V8 rejects, it compiles as require() would. The
 * bundle's own import() of the files left out of it (ES modules) comes here as __bundleImport.
 */
function loadCommonJsBundle(name) {
  const path = require('node:path');
  const vm = require('node:vm');
  const dir = path.join(__dirname, '../dist/bundle');
  const filename = path.join(dir, name);
  // ASCII by construction (scripts/bundle.mjs): Latin-1 is a copy, UTF-8 would be a decode.
  const source = readFileSync(filename, 'latin1');
  let cache;
  let cacheFile;
  let cachedData;
  try {
    cache = commonJs(path.join(dir, 'cache.cjs'));
    const home = cache.cacheDir();
    if (home) {
      // The build names the bundle by hash on its first line (scripts/bundle.mjs).
      const hash = /^\/\/ sha256:([0-9a-f]{32})\n/.exec(source)?.[1];
      // V8 refuses a cache made under other flags: runs with and without some (NODE_OPTIONS,
      // --cpu-prof) each keep their own rather than replace each other's on every run.
      const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
      if (hash) cacheFile = path.join(home, 'code-cache', `${path.basename(name, '.cjs')}-${hash}-${process.version}-${process.arch}${flags ? `-${fnv1a(flags)}` : ''}.bin`);
      // Only our own (readCacheFile): a file someone else wrote there is code we did not compile.
      if (cacheFile) cachedData = cache.readCacheFile(cacheFile, MAX_CODE_CACHE_BYTES);
    }
  } catch {
    cachedData = undefined; // none yet (or no cache directory): written when this run ends
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname, __bundleImport) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename, cachedData });
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    // At exit, so that the cache holds the functions this run compiled lazily too.
    process.once('exit', () => writeCodeCache(cache, cacheFile, script));
  }
  const { pathToFileURL } = require('node:url');
  const mod = { exports: {} };
  const bundleImport = (spec) => import(pathToFileURL(path.join(dir, spec)).href);
  script.runInThisContext()(mod.exports, require('node:module').createRequire(filename), mod, filename, dir, bundleImport);
  return mod.exports;
}

/**
 * A one-file CommonJS module of the build, compiled and run directly: require() would first look
 * for it, resolve links and consult package.json files (~0.5 ms for a 1 KB file).
 */
function commonJs(file) {
  const mod = { exports: {} };
  require('node:vm').compileFunction(readFileSync(file, 'utf8'), ['exports', 'require', 'module', '__filename'], { filename: file })(mod.exports, require, mod, file);
  return mod.exports;
}

/** More than any bundle's code cache: a bigger file is not ours to load. */
const MAX_CODE_CACHE_BYTES = 64 << 20;

/** 32-bit FNV-1a of a string, in hex: a short name for a set of flags. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

/** The code cache, written whole or not at all; caches of other builds of the same bundle are removed. */
function writeCodeCache(cache, file, script) {
  // An unwritable cache costs the next run its compile time, nothing else.
  if (!cache.writeCacheFile(file, [script.createCachedData()])) return;
  try {
    const { readdirSync, rmSync } = require('node:fs');
    const path = require('node:path');
    const dir = path.dirname(file);
    const [bundle, hash] = path.basename(file).split('-');
    for (const old of readdirSync(dir)) if (old.startsWith(`${bundle}-`) && !old.startsWith(`${bundle}-${hash}-`)) rmSync(path.join(dir, old), { force: true });
  } catch {
    // Another build's cache left behind is only disk space.
  }
}
