// Trusting a CA inside container images without a Docker daemon (src/fix/image). The images are
// built with the real tools: umoci makes OCI layouts layer by layer (a whiteout, a layer that
// replaces the bundle), skopeo turns them into docker save and OCI archives, and Docker 25's
// OCI-in-tar form is assembled as docker save writes it (uncompressed layers named by diff_id,
// manifest.json and repositories beside the layout). The results are read back by skopeo and
// umoci, and the unpacked root filesystems are judged by a real Go client and by openssl.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, openSync, writeSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyWhole } from '../../../src/fix/image/archive-write.js';
import { analyseImage, trustImage, untrustImage } from '../../../src/fix/image/index.js';
import { applyEdits, appendItem, member, removeLastItem, scan } from '../../../src/fix/image/json-spans.js';
import { configWithLayer, configWithoutTopLayer } from '../../../src/fix/image/image-json.js';
import { scanLayer } from '../../../src/fix/image/layer-scan.js';
import { RootfsView } from '../../../src/fix/image/rootfs-view.js';
import { walkTar } from '../../../src/fix/image/tar-format.js';
import { RootFs } from '../../../src/platform/rootfs.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { planDockerfileTrust } from '../../../src/fix/dockerfile.js';
import { goClientBinary, goSays } from '../../helpers/cli.js';
import { minimalBin, runBlock } from '../../helpers/dockerfile-run.js';
import { buildLayout, run, unpack as unpackIn } from '../../helpers/images.js';
import { loadScenario, serveChain, tempDir, type Running } from '../../helpers/servers.js';

const scenario = loadScenario('valid-rsa');
const other = loadScenario('valid-ecdsa');
const ca = certificatesFromPem(scenario.caPem).certificates[0]!;
const ca2 = certificatesFromPem(other.caPem).certificates[0]!;
const caFile = path.join(scenario.dir, 'ca.pem');
const caHash = execFileSync('openssl', ['x509', '-noout', '-hash', '-in', caFile], { encoding: 'utf8' }).trim();
const stem = `ollama-tls-${ca.sha256.slice(0, 16)}`;
const go = goClientBinary('tlsclient');
const hostBundle = '/etc/ssl/certs/ca-certificates.crt';
const mozilla = '/usr/share/ca-certificates/mozilla';
// umoci and skopeo (Debian's packages; CI installs them) and this machine's CA files to copy.
const haveTools = ['umoci', 'skopeo'].every((t) => spawnSync(t, ['--version']).status === 0) && existsSync(hostBundle) && existsSync(mozilla);
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let server: Running;
let work: string;
beforeAll(async () => {
  server = await serveChain(scenario);
  work = tempDir('ollama-tls-image-');
  // The layer index (layer-index.ts) of this run, in its own cache directory.
  process.env.XDG_CACHE_HOME = path.join(work, 'cache');
  // Go's SSL_CERT_DIR for checks that must see only the image's bundle.
  mkdirSync(path.join(work, 'empty-dir'));
});
afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Building images with umoci and skopeo.

const unpack = (layout: string, tag: string): string => unpackIn(layout, tag, work);

const readBlob = (layout: string, digest: string) => readFileSync(path.join(layout, 'blobs/sha256', digest.slice(7)));

interface Manifest { config: { digest: string; size: number }; layers: { mediaType: string; digest: string; size: number }[] }
interface Config { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; history: { created_by?: string; comment?: string; empty_layer?: boolean }[] }

function tagged(layout: string, tag: string): { digest: string; manifest: Manifest; config: Config } {
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
  const manifest = JSON.parse(readBlob(layout, d.digest).toString()) as Manifest;
  return { digest: d.digest, manifest, config: JSON.parse(readBlob(layout, manifest.config.digest).toString()) as Config };
}

const blobNames = (layout: string) => readdirSync(path.join(layout, 'blobs/sha256')).sort();

/** A Debian-like root: the machine's bundle, a few of its CA files with Debian's links. */
function debianBase(root: string): void {
  mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
  mkdirSync(path.join(root, 'usr/share/ca-certificates/mozilla'), { recursive: true });
  mkdirSync(path.join(root, 'usr/local/share/ca-certificates'), { recursive: true });
  writeFileSync(path.join(root, 'usr/lib/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
  symlinkSync('../usr/lib/os-release', path.join(root, 'etc/os-release'));
  writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), readFileSync(hostBundle));
  for (const name of readdirSync(mozilla).sort().slice(0, 4)) {
    writeFileSync(path.join(root, 'usr/share/ca-certificates/mozilla', name), readFileSync(path.join(mozilla, name)));
    const pem = name.replace(/\.crt$/, '.pem');
    symlinkSync(`/usr/share/ca-certificates/mozilla/${name}`, path.join(root, 'etc/ssl/certs', pem));
    const hash = run('openssl', ['x509', '-noout', '-hash', '-in', path.join(mozilla, name)]).trim();
    if (!existsSync(path.join(root, 'etc/ssl/certs', `${hash}.0`))) symlinkSync(pem, path.join(root, 'etc/ssl/certs', `${hash}.0`));
  }
  // Another CA with the test CA's subject (a rolled-over key) is already linked as .0: the new
  // link must be .1, and OpenSSL must still find the right one of the two.
  const rolled = path.join(root, 'etc/ssl/certs/rolled-over-ca.pem');
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-days', '30', '-subj', '/O=ollama-tls fixtures/CN=ollama-tls Test Root CA', '-out', rolled]);
  expect(run('openssl', ['x509', '-noout', '-hash', '-in', rolled]).trim()).toBe(caHash);
  symlinkSync('rolled-over-ca.pem', path.join(root, 'etc/ssl/certs', `${caHash}.0`));
  writeFileSync(path.join(root, 'etc/ssl/certs/doomed.pem'), 'removed by a later layer\n');
}

const hostCerts = () => certificatesFromPem(readFileSync(hostBundle, 'latin1')).certificates;

/** Layer 3 of the Debian-like image replaces the bundle: the first 20 of the machine's roots. */
const overriddenBundle = () => `# rebuilt by layer 3\n${hostCerts().slice(0, 20).map((c) => c.toPem()).join('')}`;

function debianLayout(dir: string, tag = 'latest'): void {
  buildLayout(dir, tag, [
    debianBase,
    (root) => {
      unlinkSync(path.join(root, 'etc/ssl/certs/doomed.pem')); // a whiteout
      writeFileSync(path.join(root, 'etc/motd'), 'hello\n');
    },
    (root) => writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), overriddenBundle()),
  ], ['--config.env', 'APP_MODE=prod', '--config.entrypoint', '/usr/bin/app', '--config.cmd', '--serve', '--config.label', 'org.example.team=platform', '--config.user', '1000']);
}

/** A RHEL-like root: the extracted bundle behind Fedora's symlink chain. */
function rhelBase(root: string): void {
  for (const d of ['etc/pki/ca-trust/extracted/pem', 'etc/pki/ca-trust/source/anchors', 'etc/pki/tls/certs', 'etc/ssl']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n');
  writeFileSync(path.join(root, 'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'), readFileSync(hostBundle));
  symlinkSync('../../ca-trust/extracted/pem/tls-ca-bundle.pem', path.join(root, 'etc/pki/tls/certs/ca-bundle.crt'));
  symlinkSync('/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', path.join(root, 'etc/pki/tls/cert.pem'));
  symlinkSync('/etc/pki/tls/certs', path.join(root, 'etc/ssl/certs'));
}

/** An Alpine-like root: /etc/ssl/cert.pem -> certs/ca-certificates.crt. */
function alpineBase(root: string): void {
  mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), 'NAME="Alpine Linux"\nID=alpine\nPRETTY_NAME="Alpine Linux v3.20"\n');
  writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), readFileSync(hostBundle));
  symlinkSync('certs/ca-certificates.crt', path.join(root, 'etc/ssl/cert.pem'));
}

/**
 * Docker 25+'s docker save: the layout with uncompressed layers named by diff_id, plus docker's
 * own files. `dockerTypes`: the manifest in Docker's v2 schema 2 vocabulary, as the containerd
 * image store keeps images pulled from Docker Hub.
 */
function dockerOciArchive(layout: string, tag: string, repoTag: string, out: string, dockerTypes = false): void {
  const dir = mkdtempSync(path.join(work, 'docker25-'));
  mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  const { digest: _d, manifest, config } = tagged(layout, tag);
  const layers = manifest.layers.map((l, i) => {
    const tarBytes = zlib.gunzipSync(readBlob(layout, l.digest));
    expect(sha256(tarBytes)).toBe(config.rootfs.diff_ids[i]);
    writeFileSync(path.join(dir, 'blobs/sha256', sha256(tarBytes).slice(7)), tarBytes);
    return { mediaType: dockerTypes ? 'application/vnd.docker.image.rootfs.diff.tar' : 'application/vnd.oci.image.layer.v1.tar', digest: sha256(tarBytes), size: tarBytes.length };
  });
  writeFileSync(path.join(dir, 'blobs/sha256', manifest.config.digest.slice(7)), readBlob(layout, manifest.config.digest));
  const manifestType = dockerTypes ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/vnd.oci.image.manifest.v1+json';
  const configType = dockerTypes ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json';
  const m = JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config: { mediaType: configType, digest: manifest.config.digest, size: manifest.config.size }, layers });
  writeFileSync(path.join(dir, 'blobs/sha256', sha256(m).slice(7)), m);
  const [name, t] = [repoTag.slice(0, repoTag.lastIndexOf(':')), repoTag.slice(repoTag.lastIndexOf(':') + 1)];
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: manifestType, digest: sha256(m), size: m.length, annotations: { 'io.containerd.image.name': `docker.io/${repoTag}`, 'org.opencontainers.image.ref.name': t } }],
  }));
  // json.Encoder adds a newline, as docker save's manifest.json and repositories have.
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify([{ Config: `blobs/sha256/${manifest.config.digest.slice(7)}`, RepoTags: [repoTag], Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }])}\n`);
  writeFileSync(path.join(dir, 'repositories'), `${JSON.stringify({ [name]: { [t]: layers[layers.length - 1]!.digest.slice(7) } })}\n`);
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
  // Docker's archive.Tar walks the directory in lexical order.
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--mtime=@0', '-cf', out, '-C', dir, 'blobs', 'index.json', 'manifest.json', 'oci-layout', 'repositories']);
  rmSync(dir, { recursive: true, force: true });
}

const tarList = (file: string) => run('tar', ['-tf', file]).trim().split('\n');
const tarRead = (file: string, name: string) => execFileSync('tar', ['-xOf', file, name]);

/** What Go (Ollama) says with an unpacked image's bundle and certificate directory. */
function goWith(bundle: string, dir: string): Promise<string> {
  return go ? goSays(go, `127.0.0.1:${server.port}`, scenario.host, { SSL_CERT_FILE: bundle, SSL_CERT_DIR: dir }) : Promise.resolve('skipped');
}

function opensslVerify(capath: string): string {
  const r = spawnSync('openssl', ['verify', '-CApath', capath, '-untrusted', path.join(work, 'intermediate.pem'), path.join(work, 'leaf.pem')], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

function writeLeafAndIntermediate(): void {
  const blocks = scenario.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  writeFileSync(path.join(work, 'leaf.pem'), blocks[0]!);
  writeFileSync(path.join(work, 'intermediate.pem'), blocks[1]!);
}

// ---------------------------------------------------------------------------------------------

describe('the pieces: merged view, JSON edits, tar reading', () => {
  const rec = (p: string, type: 'file' | 'directory' | 'symlink' | 'link', extra: Partial<{ linkname: string; content: Buffer; mode: number }> = {}) =>
    ({ path: p, type, mode: extra.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, size: extra.content?.length ?? 0, ...extra });

  it('applies whiteouts, opaque directories and later layers, and resolves links like the kernel', () => {
    const v = new RootfsView();
    v.apply([
      rec('/etc', 'directory', { mode: 0o750 }), rec('/etc/ssl', 'directory'), rec('/etc/ssl/certs', 'directory'),
      rec('/etc/ssl/certs/a.pem', 'file', { content: Buffer.from('A') }), rec('/etc/ssl/certs/b.pem', 'file'),
      rec('/etc/pki/tls/certs', 'directory'), rec('/etc/pki/tls/certs/x', 'file'),
      rec('/etc/ssl/cert.pem', 'symlink', { linkname: 'certs/a.pem' }),
      rec('/loop1', 'symlink', { linkname: '/loop2' }), rec('/loop2', 'symlink', { linkname: 'loop1' }),
      rec('/up', 'symlink', { linkname: '../../../etc/ssl' }),
      rec('/hard', 'link', { linkname: '/etc/ssl/certs/a.pem' }),
    ], 0);
    expect(v.resolve('/etc/ssl/cert.pem')).toMatchObject({ path: '/etc/ssl/certs/a.pem' });
    expect(v.resolve('/etc/ssl/cert.pem', false)?.node?.kind).toBe('symlink');
    expect(v.resolve('/loop1')).toBeUndefined();
    expect(v.resolve('/up/certs/b.pem')?.path).toBe('/etc/ssl/certs/b.pem'); // ".." stops at the root
    expect(v.file('/hard')?.node.content?.toString()).toBe('A');
    // Layer 1: a whiteout, an opaque directory that keeps its own layer's entry, a file under a
    // directory that is now a symlink (written through it, as extraction does).
    v.apply([
      rec('/etc/ssl/certs/.wh.b.pem', 'file'),
      rec('/etc/pki/tls/certs/.wh..wh..opq', 'file'), rec('/etc/pki/tls/certs/y', 'file'),
      rec('/etc/ssl/certs', 'symlink', { linkname: '/etc/pki/tls/certs' }),
    ], 1);
    expect(v.list('/etc/pki/tls/certs')).toEqual(['y']);
    expect(v.resolve('/etc/ssl/certs/y')?.path).toBe('/etc/pki/tls/certs/y');
    expect(v.file('/etc/ssl/cert.pem')).toBeUndefined(); // a.pem went with the replaced directory
    expect(v.resolve('/etc/ssl/cert.pem')?.path).toBe('/etc/pki/tls/certs/a.pem'); // dangling: where it would be created
    expect(v.at('/etc')).toMatchObject({ kind: 'dir', mode: 0o750 });
  });

  it('edits JSON in place, and the reverse edit gives the same bytes back', () => {
    const pretty = '{\n  "rootfs": {\n    "type": "layers",\n    "diff_ids": [\n      "sha256:aa"\n    ]\n  },\n  "note": "a \\u0026 b <c>"\n}\n';
    const root = scan(pretty);
    const ids = member(member(root, 'rootfs'), 'diff_ids')!;
    const added = applyEdits(pretty, [appendItem(ids, 'sha256:bb')]);
    expect(JSON.parse(added).rootfs.diff_ids).toEqual(['sha256:aa', 'sha256:bb']);
    expect(applyEdits(added, [removeLastItem(member(member(scan(added), 'rootfs'), 'diff_ids')!)])).toBe(pretty);
    // A config without history gets one; both possible originals are offered back.
    const bare = '{"rootfs":{"type":"layers","diff_ids":[]}}';
    const withLayer = configWithLayer(bare, 'sha256:cc', { created: 'x', created_by: 'ollama-tls trust', comment: 'é' });
    expect(JSON.parse(withLayer).history[0].comment).toBe('é');
    expect(withLayer).toMatch(/\\u00e9/); // inserted text is ASCII
    expect(configWithoutTopLayer(withLayer)).toContain(bare);
  });

  it('reads tar headers by position: PAX and GNU long names, links, as tar-stream does', async () => {
    const long = `usr/share/${'deep/'.repeat(30)}file.pem`;
    const pack = tar.pack();
    pack.entry({ name: long, mode: 0o640, uid: 7, gid: 8 }, 'hello');
    pack.entry({ name: 'etc/ssl/cert.pem', type: 'symlink', linkname: 'certs/ca-certificates.crt' });
    pack.entry({ name: 'etc/ssl/', type: 'directory' });
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const paxTar = path.join(work, 'pax.tar');
    writeFileSync(paxTar, Buffer.concat(chunks));
    const { open } = await import('node:fs/promises');
    const fh = await open(paxTar);
    const seen: string[] = [];
    for await (const e of walkTar(fh, 0, statSync(paxTar).size)) seen.push(`${e.type} ${e.name} ${e.linkname} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.type === 'file' ? (await e.read()).toString() : ''}`);
    await fh.close();
    expect(seen).toEqual([`file ${long}  640 7:8 hello`, 'symlink etc/ssl/cert.pem certs/ca-certificates.crt 644 0:0 ', 'directory etc/ssl/  755 0:0 ']);
    // GNU tar's own long-name format, read both by position and through gzip.
    const src = path.join(work, 'gnu-src');
    mkdirSync(path.join(src, path.dirname(long)), { recursive: true });
    writeFileSync(path.join(src, long), 'gnu');
    const gnuTar = path.join(work, 'gnu.tar');
    run('tar', ['--format=gnu', '-cf', gnuTar, '-C', src, long]);
    writeFileSync(`${gnuTar}.gz`, zlib.gzipSync(readFileSync(gnuTar)));
    for (const file of [gnuTar, `${gnuTar}.gz`]) {
      const records = await scanLayer({ file, start: 0, end: statSync(file).size, label: file }, (p) => p.endsWith('file.pem'));
      expect(records.find((r) => r.path === `/${long}`)?.content?.toString()).toBe('gnu');
    }
  });

  it('writes the new layer byte for byte as tar-stream packs it: prefix-split and PAX names, modes of 0, links, empty and odd-sized files', async () => {
    const { layerTar } = await import('../../../src/fix/image/layer-build.js');
    type Entry = Parameters<typeof layerTar>[0][number];
    const viaTarStream = async (entries: Entry[], mtime: number): Promise<Buffer> => {
      const pack = tar.pack();
      for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
        const header = { name: e.type === 'directory' ? `${e.path.slice(1)}/` : e.path.slice(1), mode: e.mode, uid: e.uid, gid: e.gid, uname: '', gname: '', mtime: new Date(mtime * 1000) };
        if (e.type === 'directory') pack.entry({ ...header, type: 'directory' });
        else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.linkname! });
        else pack.entry({ ...header, type: 'file', size: e.content!.length }, e.content!);
      }
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const plain: Entry[] = [
      { path: '/etc', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
      { path: '/etc/ssl/certs', type: 'directory', mode: 0, uid: 0, gid: 0 },
      { path: '/etc/ssl/certs/ca-certificates.crt', type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from(scenario.caPem.repeat(3)) },
      { path: `/etc/ssl/certs/${caHash}.0`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: `${stem}.pem` },
      { path: '/etc/ssl/certs/empty.pem', type: 'file', mode: 0, uid: 7, gid: 1234567, content: Buffer.alloc(0) },
      { path: '/etc/ssl/certs/odd.pem', type: 'file', mode: 0o4755, uid: 1000, gid: 1000, content: randomBytes(1023) },
      // Longer than 100 bytes: split into ustar's prefix and name fields.
      { path: `/usr/local/share/${'deep/'.repeat(25)}ca.pem`, type: 'file', mode: 0o600, uid: 0, gid: 0, content: Buffer.from('x') },
    ];
    for (const mtime of [0, 1704067200, 1704067200.75]) expect((await layerTar(plain, mtime)).equals(await viaTarStream(plain, mtime))).toBe(true);
    // Names ustar cannot hold (non-ASCII; no slash to split at) go through tar-stream's PAX headers.
    for (const odd of [`/etc/ssl/certs/caf\u00e9.pem`, `/${'n'.repeat(120)}`]) {
      const entries = [...plain, { path: odd, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, content: Buffer.from('pax') }];
      const built = await layerTar(entries, 1704067200);
      expect(built.equals(await viaTarStream(entries, 1704067200))).toBe(true);
      expect(built.includes('PaxHeader')).toBe(true);
    }
  });

  it('reads a gzip layer as it reads the plain tar: long names, links, data across chunks, a truncated stream refused', async () => {
    const long = `opt/${'deep/'.repeat(40)}ca.pem`;
    const pack = tar.pack();
    pack.entry({ name: 'etc/', type: 'directory', mode: 0o755 });
    // Larger than the inflate chunks, with an odd size: the headers after it fall mid-chunk.
    const big = Buffer.alloc((9 << 20) + 333, 7);
    pack.entry({ name: 'var/big.bin', size: big.length }, big);
    pack.entry({ name: long, uid: 1000, gid: 1000, mode: 0o600 }, 'deep pem');
    pack.entry({ name: 'etc/ssl/certs/ca-certificates.crt' }, 'bundle');
    pack.entry({ name: 'etc/ssl/cert.pem', type: 'symlink', linkname: 'certs/ca-certificates.crt' });
    pack.entry({ name: 'etc/ssl/hard.pem', type: 'link', linkname: 'etc/ssl/certs/ca-certificates.crt' });
    pack.entry({ name: 'etc/.wh.motd', size: 0 }, '');
    pack.entry({ name: 'empty.pem', size: 0 }, '');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const plain = path.join(work, 'stream-layer.tar');
    writeFileSync(plain, Buffer.concat(chunks));
    const gz = zlib.gzipSync(readFileSync(plain), { level: 1 });
    writeFileSync(`${plain}.gz`, gz);
    const want = (p: string) => p.endsWith('.pem') || p.endsWith('.crt');
    const of = (file: string) => scanLayer({ file, start: 0, end: statSync(file).size, label: file }, want);
    const byPosition = await of(plain);
    expect(byPosition.map((r) => `${r.type} ${r.path} ${r.content?.toString() ?? '-'}`)).toEqual([
      'directory /etc -', 'file /var/big.bin -', `file /${long} deep pem`, 'file /etc/ssl/certs/ca-certificates.crt bundle',
      'symlink /etc/ssl/cert.pem -', 'link /etc/ssl/hard.pem -', 'file /etc/.wh.motd -', 'file /empty.pem ',
    ]);
    expect(await of(`${plain}.gz`)).toEqual(byPosition);
    // Cut inside the big file: an error naming the layer, not a short list.
    writeFileSync(`${plain}.cut.gz`, zlib.gzipSync(readFileSync(plain).subarray(0, 5 << 20)));
    await expect(of(`${plain}.cut.gz`)).rejects.toThrow(/^layer .*cut\.gz: the tar stream ends inside an entry/);
  });

  it('an archive copy started before the plan (trust --output --yes) is taken by a write of the same source, DST and stamp, and removed otherwise', async () => {
    const { claimEarlyCopy, dropEarlyCopy, startEarlyCopy } = await import('../../../src/fix/image/early-copy.js');
    const { stampOf } = await import('../../../src/fix/image/source-stamp.js');
    const src = path.join(work, 'early.tar');
    const fd = openSync(src, 'w');
    // Sparse, past 64 MiB: copied by the system cp, as a real archive is.
    for (const at of [0, 30 << 20, (80 << 20) - 100]) writeSync(fd, Buffer.from(`early ${at}`.repeat(10)), 0, undefined, at);
    closeSync(fd);
    const dst = path.join(work, 'early-out.tar');
    const temps = () => readdirSync(work).filter((n) => n.startsWith('.early-out.tar.ollama-tls-'));
    // Taken: the temp file beside DST holds the source's bytes once the copy is done.
    await startEarlyCopy(src, dst);
    const taken = await claimEarlyCopy(src, dst, await stampOf(src));
    expect(taken?.tmp).toBe(path.join(work, `.early-out.tar.ollama-tls-${process.pid}.tmp`));
    await taken!.done;
    expect(sha256(readFileSync(taken!.tmp))).toBe(sha256(readFileSync(src)));
    // Taken once: the write owns it now, and a second claim finds nothing.
    expect(await claimEarlyCopy(src, dst, await stampOf(src))).toBeUndefined();
    rmSync(taken!.tmp);
    // Another stamp (the source changed since the copy began), another DST: stopped and removed.
    for (const [claimDst, stamp] of [[dst, 'other'], [path.join(work, 'elsewhere.tar'), await stampOf(src)]] as const) {
      await startEarlyCopy(src, dst);
      expect(await claimEarlyCopy(src, claimDst, stamp)).toBeUndefined();
      expect(temps()).toEqual([]);
    }
    // A run that ends without a write.
    await startEarlyCopy(src, dst);
    await dropEarlyCopy();
    expect(temps()).toEqual([]);
    // Nothing starts in place, for a layout directory, or into a directory.
    // (The stamp a copy would have been started with: a claim would take any.)
    const { stampText } = await import('../../../src/fix/image/source-stamp.js');
    for (const [from, to] of [[src, src], [path.join(work, 'empty-dir'), dst], [src, path.join(work, 'empty-dir')]]) {
      await startEarlyCopy(from!, to!);
      expect(await claimEarlyCopy(from!, to!, stampText(statSync(from!)))).toBeUndefined();
    }
    expect(temps()).toEqual([]);
    rmSync(src);
  });

  it('copies a large archive whole, byte for byte (through the system cp above 64 MiB)', async () => {
    const big = path.join(work, 'large.bin');
    const fd = openSync(big, 'w');
    // Sparse with data here and there: a hole-aware copy must still give the same bytes.
    for (const at of [0, 5 << 20, 40 << 20, (70 << 20) - 100]) writeSync(fd, Buffer.from(`data at ${at}`.repeat(10)), 0, undefined, at);
    closeSync(fd);
    const copy = path.join(work, 'large-copy.bin');
    await copyWhole(big, copy, statSync(big).size);
    expect(sha256(readFileSync(copy))).toBe(sha256(readFileSync(big)));
    rmSync(big);
    rmSync(copy);
  });

  it('reads zstd layers where Node has zstd, and says what is missing where it has not', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'etc/file.pem' }, 'zstd');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const z = zlib as unknown as { createZstdDecompress?: unknown; zstdCompressSync?: (b: Buffer) => Buffer };
    const file = path.join(work, 'layer.tar.zst');
    // Without zstd in Node, only the magic number matters: the layer is refused before decoding.
    writeFileSync(file, z.zstdCompressSync ? z.zstdCompressSync(Buffer.concat(chunks)) : Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), ...chunks]));
    const loc = { file, start: 0, end: statSync(file).size, label: 'sha256:zst' };
    if (typeof z.createZstdDecompress === 'function') {
      expect((await scanLayer(loc, () => true)).some((r) => r.path.endsWith('file.pem'))).toBe(true);
    } else {
      await expect(scanLayer(loc, () => true)).rejects.toThrow(/layer sha256:zst is zstd-compressed, and this Node\.js \(v[\d.]+\) has no zstd decoder: run ollama-tls on Node\.js 22\.15 or later/);
    }
  });
});

describe.skipIf(!haveTools)('a Debian-like image as an OCI layout', () => {
  let src: string;
  let original: { digest: string; manifest: Manifest; config: Config };
  beforeAll(() => {
    writeLeafAndIntermediate();
    src = path.join(work, 'debian');
    debianLayout(src);
    original = tagged(src, 'latest');
  });

  it('finds the image\'s trust through its layers: the replaced bundle, the whiteout, the links', async () => {
    const a = await analyseImage(src, { cas: [ca] });
    expect(a.format).toBe('oci-layout');
    expect(a.images).toHaveLength(1);
    const img = a.images[0]!;
    expect(img).toMatchObject({
      ref: 'latest', platform: 'linux/amd64', manifestDigest: original.digest, imageId: original.manifest.config.digest,
      family: 'debian', osName: 'Debian GNU/Linux 12 (bookworm)',
      bundle: '/etc/ssl/certs/ca-certificates.crt', certDir: '/etc/ssl/certs', anchorDir: '/usr/local/share/ca-certificates',
      bundleCertificates: 20, hasCas: [], alreadyOurs: false,
    });
    expect(img.plan!.files).toEqual([
      `/etc/ssl/certs/${caHash}.1`, '/etc/ssl/certs/ca-certificates.crt', `/etc/ssl/certs/${stem}.pem`, `/usr/local/share/ca-certificates/${stem}.crt`,
    ]);
    expect(img.plan!.add).toEqual([ca.sha256]);
  });

  it('trusts: one new layer that skopeo and umoci read; Go and openssl accept the chain only after', async () => {
    const before = unpack(src, 'latest');
    expect(existsSync(path.join(before, 'etc/ssl/certs/doomed.pem'))).toBe(false);
    expect(await goWith(path.join(before, 'etc/ssl/certs/ca-certificates.crt'), path.join(before, 'etc/ssl/certs'))).toMatch(/certificate signed by unknown authority/);

    const dst = path.join(work, 'debian-trusted');
    const ticks: number[] = [];
    const r = await trustImage(src, dst, [ca], { onProgress: (done, total) => ticks.push(done / total) });
    expect(r.changed).toBe(true);
    expect(ticks[ticks.length - 1]).toBe(1);
    const change = r.images[0]!;
    expect(change.action).toBe('added');
    const now = tagged(dst, 'latest');
    expect(now.digest).toBe(change.newManifestDigest);

    // skopeo reads it; the layers are the old ones plus one gzip layer.
    const inspect = JSON.parse(run('skopeo', ['inspect', `oci:${dst}:latest`])) as { Layers: string[]; Env: string[]; Labels: Record<string, string> };
    expect(inspect.Layers).toEqual([...original.manifest.layers.map((l) => l.digest), change.layerDigest]);
    expect(now.manifest.layers.at(-1)!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(now.manifest.layers.slice(0, -1)).toEqual(original.manifest.layers);

    // Everything but diff_ids and history is the same config.
    expect(now.config.config).toEqual(original.config.config);
    expect(now.config.config).toMatchObject({ Env: expect.arrayContaining(['APP_MODE=prod']), Entrypoint: ['/usr/bin/app'], Labels: { 'org.example.team': 'platform' }, User: '1000' });
    expect(now.config.rootfs.diff_ids).toEqual([...original.config.rootfs.diff_ids, change.diffId]);
    expect(now.config.history.slice(0, -1)).toEqual(original.config.history);
    expect(now.config.history.at(-1)).toEqual({
      created: (JSON.parse(readBlob(src, original.manifest.config.digest).toString()) as { created: string }).created,
      created_by: `ollama-tls trust --ca /etc/ssl/certs/${stem}.pem`,
      comment: `ollama-tls: trusted CA sha256:${ca.sha256}; base config ${original.manifest.config.digest}, manifest ${original.digest}`,
    });
    const { created: _c, history: _h, rootfs: _r, ...restNow } = JSON.parse(readBlob(dst, now.manifest.config.digest).toString()) as Record<string, unknown>;
    const { created: _c2, history: _h2, rootfs: _r2, ...restBefore } = JSON.parse(readBlob(src, original.manifest.config.digest).toString()) as Record<string, unknown>;
    expect(restNow).toEqual(restBefore);

    // The unpacked image: layer 3's bundle plus the marked CA, the hash link, the anchor.
    const rootfs = unpack(dst, 'latest');
    const bundle = readFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'latin1');
    expect(bundle).toBe(`${overriddenBundle()}# ollama-tls sha256:${ca.sha256} ollama-tls Test Root CA\n${ca.toPem()}`);
    expect(readlinkSync(path.join(rootfs, `etc/ssl/certs/${caHash}.1`))).toBe(`${stem}.pem`);
    expect(readlinkSync(path.join(rootfs, `etc/ssl/certs/${caHash}.0`))).toBe('rolled-over-ca.pem');
    expect(readFileSync(path.join(rootfs, `etc/ssl/certs/${stem}.pem`), 'latin1')).toBe(ca.toPem());
    expect(readFileSync(path.join(rootfs, `usr/local/share/ca-certificates/${stem}.crt`), 'latin1')).toBe(ca.toPem());
    expect(lstatSync(path.join(rootfs, 'etc/os-release')).isSymbolicLink()).toBe(true);
    expect(existsSync(path.join(rootfs, 'etc/ssl/certs/doomed.pem'))).toBe(false);
    expect(readFileSync(path.join(rootfs, 'etc/motd'), 'utf8')).toBe('hello\n');
    // The layer itself: sorted, parents first, fixed time and owner.
    const layerTar = zlib.gunzipSync(readBlob(dst, change.layerDigest!));
    expect(sha256(layerTar)).toBe(change.diffId);
    const entries: string[] = [];
    const extract = tar.extract();
    const done = (async () => { for await (const e of extract) { entries.push(`${e.header.type} ${e.header.name} ${e.header.uid}:${e.header.gid} ${e.header.mtime?.toISOString()}`); e.resume(); } })();
    extract.end(layerTar);
    await done;
    const created = (JSON.parse(readBlob(src, original.manifest.config.digest).toString()) as { created: string }).created;
    const mtime = new Date(Date.parse(created.replace(/\.\d+Z$/, 'Z'))).toISOString();
    expect(entries).toEqual([
      `directory etc/ 0:0 ${mtime}`, `directory etc/ssl/ 0:0 ${mtime}`, `directory etc/ssl/certs/ 0:0 ${mtime}`,
      `symlink etc/ssl/certs/${caHash}.1 0:0 ${mtime}`, `file etc/ssl/certs/ca-certificates.crt 0:0 ${mtime}`, `file etc/ssl/certs/${stem}.pem 0:0 ${mtime}`,
      `directory usr/ 0:0 ${mtime}`, `directory usr/local/ 0:0 ${mtime}`, `directory usr/local/share/ 0:0 ${mtime}`,
      `directory usr/local/share/ca-certificates/ 0:0 ${mtime}`, `file usr/local/share/ca-certificates/${stem}.crt 0:0 ${mtime}`,
    ]);

    // The hash link is OpenSSL's own name for the CA; Go and openssl now accept the chain.
    expect(opensslVerify(path.join(rootfs, 'etc/ssl/certs'))).toMatch(/leaf\.pem: OK$/);
    expect(await goWith(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), path.join(work, 'empty-dir'))).toBe(go ? 'ok' : 'skipped');
  });

  it('trusting twice changes nothing, and the same input always gives the same digests', async () => {
    const dst = path.join(work, 'debian-trusted');
    const first = tagged(dst, 'latest');
    const names = blobNames(dst);
    const again = await trustImage(dst, dst, [ca]);
    expect(again.changed).toBe(false);
    expect(again.images[0]!.notes.join(' ')).toMatch(/already ollama-tls's for these CAs/);
    expect(tagged(dst, 'latest').digest).toBe(first.digest);
    expect(blobNames(dst)).toEqual(names);
    const other = await trustImage(src, path.join(work, 'debian-trusted-again'), [ca]);
    expect(other.images[0]!.newManifestDigest).toBe(first.digest);
    expect((await analyseImage(dst)).images[0]).toMatchObject({ alreadyOurs: true, hasCas: [ca.sha256] });
  });

  it('in place: writes only the new blobs and index.json; untrust gives back the same bytes and blobs', async () => {
    const inPlace = path.join(work, 'debian-in-place');
    cpSync(src, inPlace, { recursive: true });
    const index = readFileSync(path.join(inPlace, 'index.json'));
    const before = new Map(blobNames(inPlace).map((n) => [n, statSync(path.join(inPlace, 'blobs/sha256', n))]));
    const r = await trustImage(inPlace, inPlace, [ca]);
    const added = blobNames(inPlace).filter((n) => !before.has(n));
    expect(added.sort()).toEqual([r.images[0]!.layerDigest, r.images[0]!.newImageId, r.images[0]!.newManifestDigest].map((d) => d!.slice(7)).sort());
    for (const [n, s] of before) {
      const after = statSync(path.join(inPlace, 'blobs/sha256', n));
      expect([after.ino, after.mtimeMs, after.size]).toEqual([s.ino, s.mtimeMs, s.size]);
    }
    expect(r.written.sort()).toEqual([...added.map((n) => `blobs/sha256/${n}`), 'index.json'].sort());
    expect(readdirSync(inPlace).filter((n) => n.includes('.tmp'))).toEqual([]);

    const u = await untrustImage(inPlace, inPlace, [ca.sha256]);
    expect(u.images[0]).toMatchObject({ action: 'removed', exact: true, newManifestDigest: original.digest, newImageId: original.manifest.config.digest });
    expect(readFileSync(path.join(inPlace, 'index.json')).equals(index)).toBe(true);
    expect(blobNames(inPlace)).toEqual([...before.keys()].sort());
    const again = await untrustImage(inPlace, inPlace, []);
    expect(again.changed).toBe(false);
  });

  it('more CAs make one layer for all; untrusting one gives the image trusted with the other alone', async () => {
    const one = path.join(work, 'debian-one');
    const both = path.join(work, 'debian-both');
    const back = path.join(work, 'debian-back');
    const r1 = await trustImage(src, one, [ca]);
    const r2 = await trustImage(one, both, [ca2]);
    expect(r2.images[0]!.action).toBe('replaced');
    const b = tagged(both, 'latest');
    expect(b.manifest.layers).toHaveLength(original.manifest.layers.length + 1);
    expect(b.config.history.at(-1)!.comment).toContain([ca.sha256, ca2.sha256].sort().map((f) => `sha256:${f}`).join(' '));
    const u = await untrustImage(both, back, [ca2.sha256]);
    expect(u.images[0]!.action).toBe('replaced');
    expect(tagged(back, 'latest').digest).toBe(r1.images[0]!.newManifestDigest);
    // A CA the layer does not hold: nothing to do.
    expect((await untrustImage(one, path.join(work, 'debian-noop'), ['00'.repeat(32)])).changed).toBe(false);
  });
});

describe.skipIf(!haveTools)('the same image as docker save archives', () => {
  let layout: string;
  beforeAll(() => {
    writeLeafAndIntermediate();
    layout = path.join(work, 'debian-for-archives');
    debianLayout(layout);
  });

  it('classic docker save (skopeo docker-archive): trust, read back, no-op twice, untrust in place gives the same archive', async () => {
    const src = path.join(work, 'classic.tar');
    run('skopeo', ['copy', `oci:${layout}:latest`, `docker-archive:${src}:test/img:latest`]);
    const a = await analyseImage(src);
    expect(a.format).toBe('docker-archive');
    expect(a.images[0]).toMatchObject({ ref: 'docker.io/test/img:latest', family: 'debian', bundleCertificates: 20 });
    expect(a.images[0]!.manifestDigest).toBeUndefined();

    const dst = path.join(work, 'classic-trusted.tar');
    const r = await trustImage(src, dst, [ca]);
    const change = r.images[0]!;
    // Uncompressed, as docker save stores layers: the blob is the diff_id.
    expect(change.layerDigest).toBe(change.diffId);
    const manifestJson = JSON.parse(tarRead(dst, 'manifest.json').toString()) as { Config: string; Layers: string[]; RepoTags: string[] }[];
    expect(manifestJson[0]!.Config).toBe(`${change.newImageId!.slice(7)}.json`);
    expect(manifestJson[0]!.RepoTags).toEqual(['docker.io/test/img:latest']);
    const newLayer = manifestJson[0]!.Layers.at(-1)!;
    expect(newLayer).toMatch(/^[0-9a-f]{64}\/layer\.tar$/);
    expect(sha256(tarRead(dst, newLayer))).toBe(change.diffId);
    expect(JSON.parse(tarRead(dst, 'repositories').toString())).toEqual({ 'docker.io/test/img': { latest: newLayer.split('/')[0] } });
    // Everything of the source is still there, byte for byte, before the new entries.
    const original = readFileSync(src);
    const trusted = readFileSync(dst);
    const firstDoc = original.indexOf(Buffer.from('manifest.json\0'));
    expect(trusted.subarray(0, firstDoc).equals(original.subarray(0, firstDoc))).toBe(true);
    expect(tarList(dst).slice(0, tarList(src).length)).toEqual(tarList(src));

    const inspect = JSON.parse(run('skopeo', ['inspect', `docker-archive:${dst}`])) as { Layers: string[]; Labels: Record<string, string> };
    expect(inspect.Layers.at(-1)).toBe(change.diffId);
    expect(inspect.Labels).toEqual({ 'org.example.team': 'platform' });
    const copied = path.join(work, 'classic-as-oci');
    run('skopeo', ['copy', `docker-archive:${dst}`, `oci:${copied}:x`]);
    const rootfs = unpack(copied, 'x');
    expect(readFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'latin1')).toContain(ca.toPem());
    expect(await goWith(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), path.join(work, 'empty-dir'))).toBe(go ? 'ok' : 'skipped');

    const twice = await trustImage(dst, path.join(work, 'classic-twice.tar'), [ca]);
    expect(twice.changed).toBe(false);
    expect(readFileSync(path.join(work, 'classic-twice.tar')).equals(readFileSync(dst))).toBe(true);

    // Untrust in place: the archive is rewritten beside itself and renamed; manifest.json,
    // repositories and the config come back byte for byte.
    const u = await untrustImage(dst, dst, []);
    expect(u.images[0]).toMatchObject({ action: 'removed', exact: true, newImageId: a.images[0]!.imageId });
    expect(readFileSync(dst).equals(readFileSync(src))).toBe(true);
    expect(readdirSync(work).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it("Docker 25+'s docker save (OCI layout inside the tar): both sides updated, both read back", async () => {
    const src = path.join(work, 'docker25.tar');
    dockerOciArchive(layout, 'latest', 'test/img:latest', src);
    const a = await analyseImage(src);
    expect(a.format).toBe('docker-archive-oci');
    expect(a.images[0]).toMatchObject({ ref: 'docker.io/test/img:latest', family: 'debian', bundle: '/etc/ssl/certs/ca-certificates.crt' });

    const dst = path.join(work, 'docker25-trusted.tar');
    const r = await trustImage(src, dst, [ca]);
    const change = r.images[0]!;
    const index = JSON.parse(tarRead(dst, 'index.json').toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests[0]).toMatchObject({ digest: change.newManifestDigest, annotations: { 'io.containerd.image.name': 'docker.io/test/img:latest', 'org.opencontainers.image.ref.name': 'latest' } });
    const manifestJson = JSON.parse(tarRead(dst, 'manifest.json').toString()) as { Config: string; Layers: string[] }[];
    expect(manifestJson[0]!.Config).toBe(`blobs/sha256/${change.newImageId!.slice(7)}`);
    expect(manifestJson[0]!.Layers.at(-1)).toBe(`blobs/sha256/${change.layerDigest!.slice(7)}`);
    expect(JSON.parse(tarRead(dst, 'repositories').toString())).toEqual({ 'test/img': { latest: change.diffId!.slice(7) } });
    const m = JSON.parse(tarRead(dst, `blobs/sha256/${change.newManifestDigest!.slice(7)}`).toString()) as Manifest;
    expect(m.layers.at(-1)!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(m.layers.slice(0, -1).every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar')).toBe(true);

    // docker load's path (manifest.json) through skopeo, and the OCI path through umoci.
    const viaDocker = JSON.parse(run('skopeo', ['inspect', `docker-archive:${dst}`])) as { Layers: string[] };
    expect(viaDocker.Layers.at(-1)).toBe(change.diffId);
    const extracted = path.join(work, 'docker25-extracted');
    mkdirSync(extracted);
    run('tar', ['-xf', dst, '-C', extracted]);
    expect((JSON.parse(run('skopeo', ['inspect', `oci:${extracted}:latest`])) as { Digest: string }).Digest).toBe(change.newManifestDigest);
    const rootfs = unpack(extracted, 'latest');
    expect(readFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'latin1')).toContain(ca.toPem());

    const u = await untrustImage(dst, path.join(work, 'docker25-back.tar'), [ca.sha256]);
    expect(u.images[0]).toMatchObject({ exact: true, newManifestDigest: a.images[0]!.manifestDigest });
    expect(readFileSync(path.join(work, 'docker25-back.tar')).equals(readFileSync(src))).toBe(true);
  });

  it("Docker 25+ with the containerd image store (v2 schema 2 manifests): the new layer in Docker's vocabulary", async () => {
    const src = path.join(work, 'docker25-schema2.tar');
    dockerOciArchive(layout, 'latest', 'test/img:latest', src, true);
    // Plan first, then apply with the same reading.
    const a = await analyseImage(src, { cas: [ca] });
    let total = 0;
    const r = await trustImage(src, path.join(work, 'docker25-schema2-trusted.tar'), [ca], { analysis: a, onProgress: (_d, t) => (total = t) });
    expect(total).toBe(statSync(src).size); // nothing read twice: only the copy is left
    expect(r.images[0]!.files).toEqual(a.images[0]!.plan!.files);
    const m = JSON.parse(tarRead(path.join(work, 'docker25-schema2-trusted.tar'), `blobs/sha256/${r.images[0]!.newManifestDigest!.slice(7)}`).toString()) as Manifest & { mediaType: string };
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(m.layers.at(-1)!.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const inspect = JSON.parse(run('skopeo', ['inspect', `docker-archive:${path.join(work, 'docker25-schema2-trusted.tar')}`])) as { Layers: string[] };
    expect(inspect.Layers.at(-1)).toBe(r.images[0]!.diffId);
  });

  it('refuses what it cannot write back in the same form', async () => {
    const src = path.join(work, 'classic.tar');
    writeFileSync(path.join(work, 'classic.tar.gz'), zlib.gzipSync(readFileSync(src)));
    await expect(analyseImage(path.join(work, 'classic.tar.gz'))).rejects.toThrow(/is gzip-compressed: gunzip it first/);
    await expect(trustImage(src, work, [ca])).rejects.toThrow(/is a directory, but .* is an archive/);
    await expect(trustImage(layout, path.join(work, 'classic.tar'), [ca])).rejects.toThrow(/is a file, but .* is an OCI layout directory/);
    await expect(trustImage(layout, work, [ca])).rejects.toThrow(/exists and is not empty/);
    expect(existsSync(path.join(work, 'oci-layout'))).toBe(false);
  });

  it('an OCI archive (skopeo oci-archive) stays one', async () => {
    const src = path.join(work, 'oci-archive.tar');
    run('skopeo', ['copy', `oci:${layout}:latest`, `oci-archive:${src}:latest`]);
    const dst = path.join(work, 'oci-archive-trusted.tar');
    const r = await trustImage(src, dst, [ca]);
    expect(r.format).toBe('oci-archive');
    const inspect = JSON.parse(run('skopeo', ['inspect', `oci-archive:${dst}:latest`])) as { Digest: string; Layers: string[] };
    expect(inspect.Digest).toBe(r.images[0]!.newManifestDigest);
    expect(inspect.Layers.at(-1)).toBe(r.images[0]!.layerDigest);
  });
});

describe.skipIf(!haveTools)('a RHEL-like image: the bundle behind its symlink chain', () => {
  it('writes the real file, keeps the links, adds the ca-trust anchor', async () => {
    const src = path.join(work, 'rhel');
    buildLayout(src, 'latest', [rhelBase]);
    const a = await analyseImage(src);
    expect(a.images[0]).toMatchObject({
      family: 'rhel', osName: 'Rocky Linux 9.4 (Blue Onyx)',
      bundleNamed: '/etc/pki/tls/certs/ca-bundle.crt', bundle: '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
      certDir: '/etc/pki/tls/certs', anchorDir: '/etc/pki/ca-trust/source/anchors',
    });
    const dst = path.join(work, 'rhel-trusted');
    const r = await trustImage(src, dst, [ca]);
    expect(r.images[0]!.files).toEqual([
      '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', `/etc/pki/ca-trust/source/anchors/${stem}.crt`,
      `/etc/pki/tls/certs/${caHash}.0`, `/etc/pki/tls/certs/${stem}.pem`,
    ]);
    const rootfs = unpack(dst, 'latest');
    expect(readlinkSync(path.join(rootfs, 'etc/ssl/certs'))).toBe('/etc/pki/tls/certs');
    expect(readlinkSync(path.join(rootfs, 'etc/pki/tls/certs/ca-bundle.crt'))).toBe('../../ca-trust/extracted/pem/tls-ca-bundle.pem');
    expect(readFileSync(path.join(rootfs, 'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'), 'latin1')).toBe(`${readFileSync(hostBundle, 'latin1')}# ollama-tls sha256:${ca.sha256} ollama-tls Test Root CA\n${ca.toPem()}`);
    expect(existsSync(path.join(rootfs, `etc/pki/ca-trust/source/anchors/${stem}.crt`))).toBe(true);
    // As the image's own programs open it: through the links, inside the image.
    const tree = new RootFs(rootfs);
    expect(await goWith(tree.resolve('/etc/pki/tls/certs/ca-bundle.crt'), tree.resolve('/etc/ssl/certs'))).toBe(go ? 'ok' : 'skipped');
  });
});

describe.skipIf(!haveTools)('an image with no CA bundle at all (scratch, distroless static)', () => {
  it('creates /etc/ssl/certs/ca-certificates.crt from Node\'s Mozilla roots plus the CA, and says so', async () => {
    const src = path.join(work, 'scratch');
    buildLayout(src, 'latest', [(root) => writeFileSync(path.join(root, 'hello'), '#!/bin/true\n')], ['--config.entrypoint', '/hello']);
    const a = await analyseImage(src);
    expect(a.images[0]).toMatchObject({ family: 'none', certDir: '/etc/ssl/certs', bundleCertificates: 0 });
    expect(a.images[0]!.bundle).toBeUndefined();
    const dst = path.join(work, 'scratch-trusted');
    const r = await trustImage(src, dst, [ca]);
    expect(r.images[0]!.notes.join(' ')).toMatch(/has no CA bundle: \/etc\/ssl\/certs\/ca-certificates\.crt is created with Node\.js v[\d.]+'s \d+ Mozilla roots plus the CAs/);
    expect(r.images[0]!.files).toEqual([`/etc/ssl/certs/${caHash}.0`, '/etc/ssl/certs/ca-certificates.crt', `/etc/ssl/certs/${stem}.pem`]);
    const rootfs = unpack(dst, 'latest');
    const bundle = readFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'latin1');
    expect(certificatesFromPem(bundle).certificates).toHaveLength(tls.rootCertificates.length + 1);
    expect(await goWith(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), path.join(work, 'empty-dir'))).toBe(go ? 'ok' : 'skipped');
  });
});

describe.skipIf(!haveTools)('one rule for a missing bundle: trust --image and trust --dockerfile agree', () => {
  it('a Debian slim image without ca-certificates gets the same certificates either way: Mozilla\'s roots plus the CA', async () => {
    // The image path: a Debian image with no bundle at all.
    const slim = (root: string): void => {
      mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
      mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
      writeFileSync(path.join(root, 'usr/lib/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
      symlinkSync('../usr/lib/os-release', path.join(root, 'etc/os-release'));
    };
    const src = path.join(work, 'debian-slim');
    buildLayout(src, 'latest', [slim]);
    const dst = path.join(work, 'debian-slim-trusted');
    await trustImage(src, dst, [ca]);
    const fromImage = certificatesFromPem(readFileSync(path.join(unpack(dst, 'latest'), 'etc/ssl/certs/ca-certificates.crt'), 'latin1')).certificates;

    // The Dockerfile path: the block's COPY and RUN, run with sh in the same tree (no update tool).
    const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM debian:bookworm-slim\n', contextDir: '.', cas: [ca] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    const root = tempDir('ollama-tls-root-');
    slim(root);
    const r = runBlock(p.text, p.files, root, minimalBin());
    expect(r.stderr).toBe('');
    const fromDockerfile = certificatesFromPem(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'latin1')).certificates;

    const set = (cs: { sha256: string }[]) => [...new Set(cs.map((c) => c.sha256))].sort();
    expect(set(fromDockerfile)).toEqual(set(fromImage));
    expect(set(fromImage)).toEqual(set([...certificatesFromPem(tls.rootCertificates.join('\n')).certificates, ca]));
    expect(fromDockerfile).toHaveLength(tls.rootCertificates.length + 1);
  });

  it('an empty bundle in the image is seeded as a missing one is (as the RUN\'s `[ -s BUNDLE ]`)', async () => {
    const src = path.join(work, 'debian-empty-bundle');
    buildLayout(src, 'latest', [(root) => {
      mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
      mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
      writeFileSync(path.join(root, 'usr/lib/os-release'), 'ID=debian\nVERSION_ID="12"\n');
      writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), '');
    }]);
    const dst = path.join(work, 'debian-empty-bundle-trusted');
    const r = await trustImage(src, dst, [ca]);
    expect(r.images[0]!.notes.join(' ')).toContain('/etc/ssl/certs/ca-certificates.crt is empty in the image: it is seeded');
    const bundle = path.join(unpack(dst, 'latest'), 'etc/ssl/certs/ca-certificates.crt');
    const got = certificatesFromPem(readFileSync(bundle, 'latin1')).certificates.map((c) => c.sha256);
    expect(got).toEqual([...certificatesFromPem(tls.rootCertificates.join('\n')).certificates.map((c) => c.sha256), ca.sha256]);
    expect(await goWith(bundle, path.join(work, 'empty-dir'))).toBe(go ? 'ok' : 'skipped');
  });
});

describe.skipIf(!haveTools)('a two-platform index (amd64 and arm64 sharing layers)', () => {
  it('gives every platform the layer, rewrites the index, and untrust restores it', async () => {
    const src = path.join(work, 'multi');
    buildLayout(src, 'amd64', [alpineBase]);
    run('umoci', ['config', '--image', `${src}:amd64`, '--architecture', 'arm64', '--tag', 'arm64', '--no-history']);
    const amd = tagged(src, 'amd64');
    const arm = tagged(src, 'arm64');
    expect(arm.manifest.layers).toEqual(amd.manifest.layers);
    const idx = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.digest, size: readBlob(src, amd.digest).length, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.digest, size: readBlob(src, arm.digest).length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      ],
    });
    writeFileSync(path.join(src, 'blobs/sha256', sha256(idx).slice(7)), idx);
    const indexJson = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"${sha256(idx)}","size":${idx.length},"annotations":{"org.opencontainers.image.ref.name":"multi"}}]}`;
    writeFileSync(path.join(src, 'index.json'), indexJson);

    const a = await analyseImage(src);
    expect(a.images.map((i) => [i.platform, i.ref, i.family, i.bundleNamed, i.bundle])).toEqual([
      ['linux/amd64', 'multi', 'alpine', '/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt'],
      ['linux/arm64/v8', 'multi', 'alpine', '/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt'],
    ]);
    const names = blobNames(src);
    const r = await trustImage(src, src, [ca]);
    expect(r.images.map((i) => i.action)).toEqual(['added', 'added']);
    // One layer for both (same files, same time), two configs, two manifests, one index.
    expect(r.images[0]!.layerDigest).toBe(r.images[1]!.layerDigest);
    expect(blobNames(src).filter((n) => !names.includes(n))).toHaveLength(6);
    const top = JSON.parse(readFileSync(path.join(src, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const newIndex = JSON.parse(readBlob(src, top.manifests[0]!.digest).toString()) as { manifests: { digest: string; platform: unknown }[] };
    expect(newIndex.manifests.map((m) => m.digest)).toEqual([r.images[0]!.newManifestDigest, r.images[1]!.newManifestDigest]);
    expect(newIndex.manifests[1]!.platform).toEqual({ architecture: 'arm64', os: 'linux', variant: 'v8' });
    for (const arch of ['amd64', 'arm64']) {
      const inspect = JSON.parse(run('skopeo', ['--override-arch', arch, 'inspect', `oci:${src}:multi`])) as { Architecture: string; Layers: string[] };
      expect(inspect).toMatchObject({ Architecture: arch });
      expect(inspect.Layers.at(-1)).toBe(r.images[0]!.layerDigest);
    }
    const copied = path.join(work, 'multi-copy');
    run('skopeo', ['copy', '--all', `oci:${src}:multi`, `oci:${copied}:multi`]);

    const u = await untrustImage(src, src, []);
    expect(u.images.every((i) => i.exact)).toBe(true);
    expect(readFileSync(path.join(src, 'index.json'), 'utf8')).toBe(indexJson);
    expect(blobNames(src)).toEqual(names);
  });
});

// The layer index (src/fix/image/layer-index.ts): what a layer holds, kept by digest in the
// cache directory, so that a second reading of a big image inflates nothing.
describe.skipIf(!haveTools)('the layer index', () => {
  const bundleOf = (n: number) => `# ${n} roots\n${hostCerts().slice(0, n).map((c) => c.toPem()).join('')}`;
  // Layers under 1 MiB are read again rather than indexed: these carry 1.5 MiB of random bytes.
  const filler = (root: string, name: string) => writeFileSync(path.join(root, name), randomBytes(3 << 19));
  const layers = [(root: string) => {
    alpineBase(root);
    filler(root, 'base.bin');
  }, (root: string) => {
    writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), bundleOf(12));
    filler(root, 'app.bin');
  }];
  let cache: string;
  beforeAll(() => {
    cache = path.join(work, 'index-cache');
    process.env.XDG_CACHE_HOME = cache;
  });
  afterAll(() => {
    process.env.XDG_CACHE_HOME = path.join(work, 'cache');
  });
  const entries = () => readdirSync(path.join(cache, 'ollama-tls/layers')).filter((n) => n.endsWith('.json'));

  it('a second reading comes from the index and finds what the layers hold', async () => {
    const src = path.join(work, 'indexed');
    buildLayout(src, 'latest', layers);
    const digests = tagged(src, 'latest').manifest.layers.map((l) => l.digest.slice(7));
    const first = await analyseImage(src, { cas: [ca] });
    expect(first.images[0]).toMatchObject({ family: 'alpine', bundleCertificates: 12 });
    expect(entries().map((n) => n.split('-')[0]).sort()).toEqual([...digests].sort());
    const again = await analyseImage(src, { cas: [ca] });
    expect(again).toEqual(first);
    // What the index says is what a reading finds (shown by changing the entry itself).
    const top = path.join(cache, 'ollama-tls/layers', entries().find((n) => n.startsWith(digests[1]!))!);
    const stored = readFileSync(top, 'utf8');
    const entry = JSON.parse(stored) as { records: unknown[][] };
    const bundle = entry.records.find((r) => r[0] === '/etc/ssl/certs/ca-certificates.crt')!;
    bundle[7] = Buffer.from(bundleOf(3)).toString('base64');
    writeFileSync(top, JSON.stringify(entry));
    expect((await analyseImage(src)).images[0]!.bundleCertificates).toBe(3);
    writeFileSync(top, stored);
    expect((await analyseImage(src)).images[0]!.bundleCertificates).toBe(12);
  });

  it('an archive that cannot be read leaves no copy behind (the copy starts before the layers are read)', async () => {
    const dir = path.join(work, 'broken-archive');
    const staging = path.join(dir, 'staging');
    mkdirSync(path.join(staging, 'l1'), { recursive: true });
    const layer = Buffer.alloc(2048, 0x41); // not a tar: its first header fails its checksum
    writeFileSync(path.join(staging, 'l1/layer.tar'), layer);
    const config = JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } });
    writeFileSync(path.join(staging, 'config.json'), config);
    writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['broken:latest'], Layers: ['l1/layer.tar'] }]));
    const src = path.join(dir, 'broken.tar');
    run('tar', ['-cf', src, '-C', staging, 'config.json', 'l1', 'manifest.json']);
    await expect(trustImage(src, path.join(dir, 'out.tar'), [ca])).rejects.toThrow(/corrupt/);
    expect(readdirSync(dir).sort()).toEqual(['broken.tar', 'staging']);
  });

  it('a reading is reused by the write only while the source is unchanged', async () => {
    const src = path.join(work, 'reused');
    buildLayout(src, 'latest', layers);
    const a = await analyseImage(src, { cas: [ca] });
    // Retagged (index.json rewritten, same stamp no more): the analysis is refused, the latest one re-read.
    run('umoci', ['tag', '--image', `${src}:latest`, 'other']);
    await expect(trustImage(src, src, [ca], { analysis: a })).rejects.toThrow(/changed since it was analysed/);
    const r = await trustImage(src, src, [ca], { reuseLatest: true });
    // Both tags name one manifest: the write saw the new one, and moved it too.
    expect(r.images.map((i) => [i.ref, i.action])).toEqual([['latest, other', 'added']]);
    expect(tagged(src, 'other').digest).toBe(r.images[0]!.newManifestDigest);
  });

  it('never makes a changed image look unchanged: a new layer under the same tag, a blob rewritten under its old name', async () => {
    const src = path.join(work, 'reindexed');
    buildLayout(src, 'latest', layers);
    const r = await trustImage(src, src, [ca]);
    expect(r.images[0]!.action).toBe('added');
    expect((await analyseImage(src)).images[0]).toMatchObject({ bundleCertificates: 12, hasCas: [ca.sha256] });
    // (The base image's bundle: ollama-tls's layer is counted apart.) Untrusted, then changed
    // with umoci under the same tag: the bundle now has 5 roots.
    await untrustImage(src, src, []);
    const bundle = path.join(work, 'reindexed-bundle');
    run('umoci', ['unpack', ...(process.getuid?.() === 0 ? [] : ['--rootless']), '--image', `${src}:latest`, bundle]);
    writeFileSync(path.join(bundle, 'rootfs/etc/ssl/certs/ca-certificates.crt'), bundleOf(5));
    run('umoci', ['repack', '--image', `${src}:latest`, bundle]);
    rmSync(bundle, { recursive: true, force: true });
    const t = await trustImage(src, src, [ca]);
    expect(t.images[0]!.action).toBe('added');
    expect((await analyseImage(src)).images[0]).toMatchObject({ bundleCertificates: 5, hasCas: [ca.sha256] });
    await untrustImage(src, src, []);
    // A layer blob rewritten in place under its old name (its digest now a lie): read again, not
    // taken from the index kept for the name. The layer with the 12-root bundle (indexed: over
    // 1 MiB) now says the image is Debian; umoci's layer above it still holds the 5-root bundle.
    const blob = path.join(src, 'blobs/sha256', tagged(src, 'latest').manifest.layers[1]!.digest.slice(7));
    expect(entries().some((n) => n.startsWith(path.basename(blob)))).toBe(true);
    const root = path.join(work, 'rewritten-root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/os-release'), 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    filler(root, 'app.bin');
    writeFileSync(blob, zlib.gzipSync(execFileSync('tar', ['-C', root, '-cf', '-', 'etc', 'app.bin'], { maxBuffer: 16 << 20 })));
    expect((await analyseImage(src)).images[0]).toMatchObject({ family: 'debian', bundleCertificates: 5 });
  });
});
