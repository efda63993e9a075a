// `trust --dockerfile`: the patch for each kind of base image, compared byte for byte with golden
// files (test/golden/dockerfile/<case>/Dockerfile -> Dockerfile.expected; UPDATE_GOLDEN=1 rewrites
// them). For every case the result re-parses with dockerfile-ast to the same stages, untrust gives
// the input back byte for byte, and trusting again changes nothing. The RUN lines the block holds
// are then run for real with sh, in a directory tree standing in for /.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { DockerfileParser, Keyword } from 'dockerfile-ast';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildSecretSnippet, dockerfileContextFiles, dockerfileSnippet, planDockerfileTrust, planDockerfileUntrust, DockerfileError,
  SHELLLESS_BUNDLE, type BaseFamily, type DockerfilePlan,
} from '../../../src/fix/dockerfile.js';
import { ROOTS_FILE } from '../../../src/fix/seed-roots.js';
import { FAMILY_TABLE, lookupFamily, parseImageRef } from '../../../src/fix/base-family.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import type { Certificate } from '../../../src/x509/certificate.js';
import { goClientBinary, goSays } from '../../helpers/cli.js';
import { minimalBin, runBlock, underRoot } from '../../helpers/dockerfile-run.js';
import { issueLeaf, makeCa } from '../../helpers/pki.js';
import { ROOT, serveChain, tempDir, type Running } from '../../helpers/servers.js';

const GOLDEN = path.join(ROOT, 'test/golden/dockerfile');
const loadCa = (file: string): Certificate => certificatesFromPem(readFileSync(path.join(GOLDEN, file), 'utf8')).certificates[0]!;
const ROOT_CA = loadCa('corp-root-ca.pem');
const PROXY_CA = loadCa('corp-inspection-ca.pem');
const CONTEXT = '/work/app';

function checkGolden(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    writeFileSync(file, actual);
    if (!process.env.UPDATE_GOLDEN) throw new Error(`wrote missing golden file ${file}; check it and commit it`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

interface Case {
  name: string;
  family: BaseFamily;
  /** Where the family came from. */
  source?: 'table' | 'mirror' | 'option';
  /** Give --base-family (after checking the table alone says unknown, when unknownFirst). */
  option?: BaseFamily;
  unknownFirst?: boolean;
  cas?: Certificate[];
  base: string;
  stage: number;
  user?: string;
  expect?: 'patch' | 'unchanged';
  /** The input untrust must give back, when it is another case's (the input already held a block). */
  undoTo?: string;
}

const CASES: Case[] = [
  { name: 'ollama', family: 'debian', base: 'ollama/ollama:0.5.7', stage: 0 },
  { name: 'ubuntu', family: 'debian', base: 'ubuntu:24.04', stage: 0 },
  { name: 'debian-slim', family: 'debian', base: 'debian:bookworm-slim', stage: 0 },
  { name: 'python-slim', family: 'debian', base: 'python:3.12-slim', stage: 0 },
  { name: 'alpine', family: 'alpine', base: 'alpine:3.20', stage: 0 },
  { name: 'node-alpine', family: 'alpine', base: 'node:22-alpine', stage: 0 },
  { name: 'ubi-minimal', family: 'rhel', base: 'registry.access.redhat.com/ubi9/ubi-minimal:9.5', stage: 0 },
  { name: 'rockylinux', family: 'rhel', base: 'rockylinux:9', stage: 0 },
  { name: 'amazonlinux', family: 'rhel', base: 'amazonlinux:2023', stage: 0 },
  { name: 'opensuse', family: 'suse', base: 'opensuse/leap:15.6', stage: 0 },
  { name: 'archlinux', family: 'arch', base: 'archlinux', stage: 0 },
  { name: 'distroless-nonroot', family: 'shellless', base: 'gcr.io/distroless/static-debian12:nonroot', stage: 1, user: '65532' },
  { name: 'chainguard-static', family: 'shellless', base: 'cgr.dev/chainguard/static:latest', stage: 1, user: '65532' },
  { name: 'chainguard-dev', family: 'alpine', base: 'cgr.dev/chainguard/python:latest-dev', stage: 0, user: '65532' },
  { name: 'scratch', family: 'shellless', base: 'scratch', stage: 1 },
  { name: 'busybox', family: 'shellless', base: 'busybox:1.36', stage: 0 },
  { name: 'multi-stage', family: 'debian', base: 'python:3.12-slim', stage: 1 },
  { name: 'arg-from', family: 'debian', base: 'docker.io/library/debian:bookworm-slim', stage: 1 },
  { name: 'arg-from-default', family: 'debian', base: 'ubuntu:24.04', stage: 0 },
  { name: 'platform', family: 'debian', base: 'ubuntu:24.04', stage: 1 },
  { name: 'chain', family: 'debian', base: 'ubuntu:24.04', stage: 2 },
  { name: 'user-nonroot-chain', family: 'debian', base: 'debian:bookworm-slim', stage: 1, user: 'nonroot' },
  { name: 'shell-inherited', family: 'debian', base: 'ubuntu:24.04', stage: 1 },
  { name: 'crlf', family: 'debian', base: 'python:3.12-slim', stage: 0 },
  { name: 'no-final-newline', family: 'alpine', base: 'alpine:3.20', stage: 0 },
  { name: 'from-last-line', family: 'debian', base: 'ubuntu:24.04', stage: 0 },
  { name: 'directives-comments', family: 'debian', base: 'ubuntu:24.04', stage: 0 },
  { name: 'heredoc', family: 'debian', base: 'ubuntu:24.04', stage: 1 },
  { name: 'continuation', family: 'debian', base: 'ubuntu:24.04', stage: 0 },
  { name: 'escape-backtick', family: 'alpine', base: 'alpine:3.20', stage: 0 },
  { name: 'unknown-base', family: 'rhel', source: 'option', option: 'rhel', unknownFirst: true, base: 'mycorp/base-image:1.2', stage: 0 },
  { name: 'two-cas', family: 'rhel', base: 'rockylinux:9', stage: 0, cas: [ROOT_CA, PROXY_CA] },
  // Its input is ubuntu's expected output: the same CA again changes nothing.
  { name: 'already-patched', family: 'debian', base: 'ubuntu:24.04', stage: 0, expect: 'unchanged', undoTo: 'ubuntu' },
  // Its input holds ubuntu's block for the root CA; trusting the inspection CA replaces it.
  { name: 'replace-other-ca', family: 'debian', base: 'ubuntu:24.04', stage: 0, cas: [PROXY_CA], undoTo: 'ubuntu' },
];

const KEYWORDS = new Set<string>(Object.values(Keyword));

function plan(c: Case, text: string, family?: BaseFamily): DockerfilePlan {
  return planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: c.cas ?? [ROOT_CA], ...(family ? { family } : {}) });
}

describe('Dockerfile patches (golden)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const dir = path.join(GOLDEN, c.name);
      const input = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
      if (c.unknownFirst) {
        const asked = plan(c, input);
        expect(asked).toMatchObject({ kind: 'unknown-family', image: c.base, stageIndex: c.stage });
      }
      const p = plan(c, input, c.option);
      expect(p.kind).toBe(c.expect ?? 'patch');
      if (p.kind === 'unknown-family') throw new Error('unreachable');
      expect(p.stage).toMatchObject({ index: c.stage, base: c.base, family: c.family, familySource: c.source ?? 'table' });
      expect(p.stage.user).toBe(c.user);
      const out = p.kind === 'patch' ? p.text : input;
      checkGolden(path.join(dir, 'Dockerfile.expected'), out);

      // The result is a Dockerfile with the same stages, the same final stage, the same directives.
      const before = DockerfileParser.parse(input);
      const after = DockerfileParser.parse(out);
      expect(after.getFROMs().map((f) => [f.getImage(), f.getBuildStage()])).toEqual(before.getFROMs().map((f) => [f.getImage(), f.getBuildStage()]));
      expect(after.getDirectives().map((d) => [d.getName(), d.getValue(), d.getRange().start.line]))
        .toEqual(before.getDirectives().map((d) => [d.getName(), d.getValue(), d.getRange().start.line]));
      for (const i of after.getInstructions()) expect(KEYWORDS.has(i.getKeyword()), i.getKeyword()).toBe(true);
      const finalFrom = after.getFROMs().at(-1)!;
      const marker = after.getComments().find((m) => m.getContent().startsWith('>>> ollama-tls:'))!;
      expect(marker.getRange().start.line).toBe(finalFrom.getRange().end.line + 1);
      if (input.startsWith('# syntax=') || input.startsWith('# escape=')) expect(out.split(/\r?\n/)[0]).toBe(input.split(/\r?\n/)[0]);
      if (input.includes('\r\n')) expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(out.endsWith('\n')).toBe(input.endsWith('\n') || c.name === 'already-patched' || c.name === 'replace-other-ca');

      // The files are the ones the block names, in the context.
      const names = p.files.map((f) => f.name);
      for (const f of p.files) {
        expect(f.path).toBe(path.join(CONTEXT, f.name));
        expect(f.mode).toBe(0o644);
      }
      expect(names).toEqual((c.cas ?? [ROOT_CA]).map((ca) => `ollama-tls-${ca.sha256.slice(0, 16)}.crt`).sort()
        .concat(c.family === 'shellless' ? [`ollama-tls-bundle-${ROOT_CA.sha256.slice(0, 16)}.pem`] : ['ollama-tls-roots.pem']));
      if (p.kind === 'patch') {
        expect(p.remove).toEqual(c.name === 'replace-other-ca' ? [path.join(CONTEXT, `ollama-tls-${ROOT_CA.sha256.slice(0, 16)}.crt`)] : []);
      }

      // Untrust gives the input back byte for byte, and names exactly the files trust wrote.
      const undo = planDockerfileUntrust({ path: 'Dockerfile', text: out, contextDir: CONTEXT });
      if (undo.kind !== 'restore') throw new Error('expected a block to remove');
      const original = c.undoTo ? readFileSync(path.join(GOLDEN, c.undoTo, 'Dockerfile'), 'utf8') : input;
      expect(undo.text).toBe(original);
      expect(undo.remove).toEqual(p.files.map((f) => f.path).sort());
      expect(planDockerfileUntrust({ path: 'Dockerfile', text: undo.text, contextDir: CONTEXT })).toEqual({ kind: 'unchanged' });

      // Trusting again changes nothing.
      const again = plan(c, out, c.option);
      expect(again.kind).toBe('unchanged');
    });
  }

  it('the CA order does not matter, and a CA given twice counts once', () => {
    const text = readFileSync(path.join(GOLDEN, 'two-cas', 'Dockerfile'), 'utf8');
    const a = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: [ROOT_CA, PROXY_CA] });
    const b = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: [PROXY_CA, ROOT_CA, PROXY_CA] });
    expect(a).toEqual(b);
  });

  it('the remove hint names the Dockerfile, and the block alone is what --print shows', () => {
    const text = 'FROM ubuntu:24.04\n';
    const p = planDockerfileTrust({ path: 'docker/Dockerfile.prod', text, contextDir: '.', cas: [ROOT_CA] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    expect(p.text).toContain('(remove: ollama-tls untrust --dockerfile Dockerfile.prod)');
    const snippet = dockerfileSnippet({ cas: [ROOT_CA], family: 'debian', dockerfileName: 'Dockerfile.prod' });
    expect(p.text).toBe(text + snippet);
    expect(p.files[0]!.path).toBe(`ollama-tls-${ROOT_CA.sha256.slice(0, 16)}.crt`);
  });

  it('an ARG without a default in FROM is unknown until --base-family says', () => {
    const text = 'ARG BASE\nFROM $BASE\n';
    const p = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: [ROOT_CA] });
    expect(p).toMatchObject({ kind: 'unknown-family', image: '$BASE', stageIndex: 0 });
    expect(p.kind === 'unknown-family' && p.reason).toContain('build argument BASE');
    const q = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: [ROOT_CA], family: 'alpine' });
    expect(q).toMatchObject({ kind: 'patch', stage: { base: '$BASE', family: 'alpine', familySource: 'option' } });
    expect(q.kind === 'patch' && q.notes.join('\n')).toContain('depends on the build argument BASE');
    // BuildKit's platform arguments have no value until the build: unknown too.
    expect(planDockerfileTrust({ path: 'Dockerfile', text: 'FROM myimage-${TARGETARCH}:1\n', contextDir: CONTEXT, cas: [ROOT_CA] }))
      .toMatchObject({ kind: 'unknown-family', image: 'myimage-${TARGETARCH}:1' });
  });

  it('a Windows base is not patched', () => {
    const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM mcr.microsoft.com/dotnet/runtime:8.0-nanoserver-ltsc2022\n', contextDir: CONTEXT, cas: [ROOT_CA] });
    expect(p).toMatchObject({ kind: 'unknown-family' });
    expect(p.kind === 'unknown-family' && p.reason).toContain('Windows');
  });

  it('refuses a Dockerfile without FROM and a damaged block', () => {
    expect(() => planDockerfileTrust({ path: 'Dockerfile', text: '# nothing\nRUN true\n', contextDir: CONTEXT, cas: [ROOT_CA] })).toThrow(DockerfileError);
    const patched = readFileSync(path.join(GOLDEN, 'ubuntu', 'Dockerfile.expected'), 'utf8');
    const damaged = patched.replace('# <<< ollama-tls\n', '');
    expect(() => planDockerfileUntrust({ path: 'Dockerfile', text: damaged, contextDir: CONTEXT })).toThrow(/not closed/);
    expect(() => planDockerfileTrust({ path: 'Dockerfile', text: damaged, contextDir: CONTEXT, cas: [ROOT_CA] })).toThrow(DockerfileError);
  });

  it('a block left in an earlier stage moves to the final stage', () => {
    const patched = readFileSync(path.join(GOLDEN, 'ubuntu', 'Dockerfile.expected'), 'utf8');
    const text = `${patched}FROM alpine:3.20\nRUN apk add curl\n`;
    const p = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: [ROOT_CA] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    expect(p.stage).toMatchObject({ index: 1, family: 'alpine' });
    expect(p.text).toBe(`${readFileSync(path.join(GOLDEN, 'ubuntu', 'Dockerfile'), 'utf8')}FROM alpine:3.20\n${dockerfileSnippet({ cas: [ROOT_CA], family: 'alpine' })}RUN apk add curl\n`);
    expect(p.remove).toEqual([]);
  });

  it('--base-family overrides the table, and says so', () => {
    const text = 'FROM ubuntu:24.04\n';
    const p = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: CONTEXT, cas: [ROOT_CA], family: 'shellless', roots: [PROXY_CA] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    expect(p.stage.familySource).toBe('option');
    const unknown = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM mycorp/base:1\n', contextDir: CONTEXT, cas: [ROOT_CA], family: 'debian' });
    expect(unknown.kind === 'patch' && unknown.notes.join('\n')).toContain('the block assumes root');
    expect(p.notes.join('\n')).toContain('--base-family shellless overrides the table, which says debian');
  });
});

describe('the base family table', () => {
  const expected: [string, BaseFamily | null | undefined, string?][] = [
    ['ollama/ollama', 'debian'],
    ['ollama/ollama:rocm', 'debian'],
    ['docker.io/ollama/ollama:latest@sha256:' + '0'.repeat(64), 'debian'],
    ['ubuntu', 'debian'],
    ['docker.io/library/ubuntu:22.04', 'debian'],
    ['index.docker.io/library/debian:trixie-slim', 'debian'],
    ['python:3.12-slim-bookworm', 'debian'],
    ['python:3.12', 'debian'],
    ['python:3.12-alpine3.20', 'alpine'],
    ['node:22-bookworm-slim', 'debian'],
    ['golang:1.23', 'debian'],
    ['golang:1.23-alpine', 'alpine'],
    ['golang:1.23-windowsservercore-ltsc2022', null],
    ['nvidia/cuda:12.4.1-runtime-ubuntu22.04', 'debian'],
    ['nvidia/cuda:12.4.1-base-ubi9', 'rhel'],
    ['nvidia/cuda:12.4.1-base-rockylinux9', 'rhel'],
    ['nginx:1.27-alpine-slim', 'alpine'],
    ['alpine', 'alpine'],
    ['redhat/ubi9', 'rhel'],
    ['registry.access.redhat.com/ubi8/ubi:8.10', 'rhel'],
    ['registry.access.redhat.com/ubi9/python-311', 'rhel', '1001'],
    ['registry.access.redhat.com/ubi9/ubi-micro', null],
    ['fedora:41', 'rhel'],
    ['quay.io/centos/centos:stream9', 'rhel'],
    ['almalinux:9-minimal', 'rhel'],
    ['oraclelinux:9-slim', 'rhel'],
    ['public.ecr.aws/amazonlinux/amazonlinux:2', 'rhel'],
    ['opensuse/tumbleweed', 'suse'],
    ['registry.suse.com/bci/bci-base:15.6', 'suse'],
    ['archlinux:base-devel', 'arch'],
    ['gcr.io/distroless/base-debian12', 'shellless'],
    ['gcr.io/distroless/cc-debian12:nonroot', 'shellless', '65532'],
    ['gcr.io/distroless/static-debian12:debug-nonroot', 'shellless', '65532'],
    ['cgr.dev/chainguard/static', 'shellless', '65532'],
    ['chainguard/static:latest', 'shellless', '65532'],
    ['cgr.dev/chainguard/python:latest', 'shellless', '65532'],
    ['cgr.dev/chainguard/python:latest-dev', 'alpine', '65532'],
    ['cgr.dev/chainguard/wolfi-base', 'alpine'],
    ['bitnami/postgresql:16', 'debian', '1001'],
    ['scratch', 'shellless'],
    ['busybox:musl', 'shellless'],
    ['mycorp/base:1', undefined],
    ['mcr.microsoft.com/windows/servercore:ltsc2022', null],
  ];
  for (const [ref, family, user] of expected) {
    it(ref, () => {
      const m = lookupFamily(ref);
      expect(m?.family).toBe(family);
      expect(m?.user).toBe(user);
      if (m) expect(m.viaMirror).toBe(false);
    });
  }

  it('images on a mirror registry are found by the end of their path, and say so', () => {
    expect(lookupFamily('artifactory.corp.example/docker-remote/ubuntu:24.04')).toMatchObject({ family: 'debian', viaMirror: true, matchedAs: 'ubuntu' });
    expect(lookupFamily('harbor.corp.example/dockerhub/library/python:3.12-slim')).toMatchObject({ family: 'debian', viaMirror: true, matchedAs: 'python' });
    expect(lookupFamily('mirror.corp.example:5000/gcr.io/distroless/static:nonroot')).toMatchObject({ family: 'shellless', user: '65532', viaMirror: true });
    expect(lookupFamily('public.ecr.aws/docker/library/alpine:3.20')).toMatchObject({ family: 'alpine', viaMirror: false });
    expect(lookupFamily('registry.corp.example/team/app:1.0')).toBeUndefined();
    const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM artifactory.corp.example/docker-remote/ubuntu:24.04\n', contextDir: CONTEXT, cas: [ROOT_CA] });
    expect(p.kind === 'patch' && p.stage.familySource).toBe('mirror');
    expect(p.kind === 'patch' && p.notes.join('\n')).toContain('taken as a mirror of ubuntu');
  });

  it('references split the way Docker splits them', () => {
    expect(parseImageRef('localhost:5000/app:1@sha256:abc')).toMatchObject({ registry: 'localhost:5000', path: 'app', tag: '1', digest: 'sha256:abc', name: 'localhost:5000/app' });
    expect(parseImageRef('ubuntu')).toMatchObject({ registry: 'docker.io', path: 'library/ubuntu', tag: '', name: 'ubuntu' });
    expect(parseImageRef('${BASE}')).toBeUndefined();
  });

  it('every row says why', () => {
    for (const row of FAMILY_TABLE) expect(row.why.length).toBeGreaterThan(20);
  });
});

// --- The shell lines, run for real -----------------------------------------------------------------

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const STORE_PATHS: Record<Exclude<BaseFamily, 'shellless'>, { anchorDir: string; tool: string; args: string; bundle: string }> = {
  debian: { anchorDir: '/usr/local/share/ca-certificates', tool: 'update-ca-certificates', args: '', bundle: '/etc/ssl/certs/ca-certificates.crt' },
  alpine: { anchorDir: '/usr/local/share/ca-certificates', tool: 'update-ca-certificates', args: '', bundle: '/etc/ssl/certs/ca-certificates.crt' },
  rhel: { anchorDir: '/etc/pki/ca-trust/source/anchors', tool: 'update-ca-trust', args: 'extract', bundle: '/etc/pki/tls/certs/ca-bundle.crt' },
  suse: { anchorDir: '/etc/pki/trust/anchors', tool: 'update-ca-certificates', args: '', bundle: '/etc/ssl/ca-bundle.pem' },
  arch: { anchorDir: '/etc/ca-certificates/trust-source/anchors', tool: 'update-ca-trust', args: '', bundle: '/etc/ssl/certs/ca-certificates.crt' },
};

// Node's bundled Mozilla roots: what a missing bundle is seeded with.
const MOZILLA = certificatesFromPem(tls.rootCertificates.join('\n')).certificates;
// ISRG Root X1 (Let's Encrypt), by its published SHA-256 fingerprint.
const ISRG_X1 = { sha256: '96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6' };

describe('the block works in a shell', async () => {
  const ca = await makeCa('Shell Test Inspection CA', 'Corp');
  const caCert = certificatesFromPem(ca.certPem).certificates[0]!;
  const leaf = await issueLeaf(ca, ['registry.ollama.ai']);
  const go = goClientBinary('tlsclient');

  async function goTrusts(bundle: string): Promise<string> {
    const server = await serveChain(leaf);
    servers.push(server);
    return goSays(go!, `127.0.0.1:${server.port}`, 'registry.ollama.ai', { SSL_CERT_FILE: bundle, SSL_CERT_DIR: tempDir('ollama-tls-empty-') });
  }

  for (const family of Object.keys(STORE_PATHS) as Exclude<BaseFamily, 'shellless'>[]) {
    const s = STORE_PATHS[family];
    it(`${family}: the update tool runs when the image has it`, () => {
      const root = tempDir('ollama-tls-root-');
      const calls = path.join(root, 'calls');
      const bin = minimalBin({ [s.tool]: `#!/bin/sh\necho "$0 $*" >> '${calls}'\n` });
      const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM x\n', contextDir: '.', cas: [caCert], family });
      if (p.kind !== 'patch') throw new Error('expected a patch');
      const r = runBlock(p.text, p.files, root, bin);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(calls, 'utf8')).toBe(`${path.join(bin, s.tool)} ${s.args}\n`);
      const anchor = path.join(root, s.anchorDir, `ollama-tls-${caCert.sha256.slice(0, 16)}.crt`);
      expect(readFileSync(anchor, 'utf8')).toBe(caCert.toPem());
      // The context file was 0600; the RUN made the anchor world-readable.
      expect(statSync(anchor).mode & 0o777).toBe(0o644);
      expect(existsSync(path.join(root, s.bundle))).toBe(false);
    });

    it(`${family}: without the tool the CA goes into the bundle (seeded with Mozilla's roots when missing), and Go trusts it`, async () => {
      const root = tempDir('ollama-tls-root-');
      const bin = minimalBin();
      const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM x\n', contextDir: '.', cas: [caCert], family });
      if (p.kind !== 'patch') throw new Error('expected a patch');
      // An existing bundle (plain alpine's ca-certificates-bundle) keeps its roots and gets the CA
      // alone; elsewhere there is none (debian:*-slim without ca-certificates), so Mozilla's roots come first.
      const existing = PROXY_CA.toPem();
      if (family === 'alpine') {
        mkdirSync(path.dirname(path.join(root, s.bundle)), { recursive: true });
        writeFileSync(path.join(root, s.bundle), existing);
      }
      const r = runBlock(p.text, p.files, root, bin);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const bundle = path.join(root, s.bundle);
      const text = readFileSync(bundle, 'utf8');
      const got = certificatesFromPem(text).certificates.map((c) => c.sha256);
      if (family === 'alpine') {
        expect(text).toBe(existing + caCert.toPem());
      } else {
        expect(got).toEqual([...MOZILLA.map((c) => c.sha256), caCert.sha256]);
        // A known public root is there (Go could still reach the real registry), by its own bytes.
        expect(MOZILLA.map((c) => c.sha256)).toContain(ISRG_X1.sha256);
        expect(got).toContain(ISRG_X1.sha256);
      }
      // The roots file served its RUN and is gone from the image.
      expect(existsSync(path.join(root, 'tmp', ROOTS_FILE))).toBe(false);
      if (go) {
        expect(await goTrusts(bundle)).toBe('ok');
        // And the check means something: without the CA, Go refuses the same server.
        if (family === 'debian') {
          const without = path.join(tempDir('ollama-tls-bundle-'), 'ca.pem');
          writeFileSync(without, text.slice(0, text.lastIndexOf('-----BEGIN CERTIFICATE-----')));
          expect(certificatesFromPem(readFileSync(without, 'utf8')).certificates).toHaveLength(MOZILLA.length);
          expect(await goTrusts(without)).toContain('x509: certificate signed by unknown authority');
        }
      }
    });
  }

  it('an empty bundle is seeded like a missing one; a bundle with roots only gets the CA', () => {
    const s = STORE_PATHS.debian;
    const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM debian:bookworm-slim\n', contextDir: '.', cas: [caCert] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    for (const before of ['', PROXY_CA.toPem() + ROOT_CA.toPem()]) {
      const root = tempDir('ollama-tls-root-');
      mkdirSync(path.dirname(path.join(root, s.bundle)), { recursive: true });
      writeFileSync(path.join(root, s.bundle), before);
      const r = runBlock(p.text, p.files, root, minimalBin());
      expect(r.status).toBe(0);
      const got = certificatesFromPem(readFileSync(path.join(root, s.bundle), 'utf8')).certificates.map((c) => c.sha256);
      expect(got).toEqual(before === '' ? [...MOZILLA.map((c) => c.sha256), caCert.sha256] : [PROXY_CA.sha256, ROOT_CA.sha256, caCert.sha256]);
    }
  });

  it('a non-root stage and an inherited SHELL: USER root around an exec-form RUN that works', () => {
    const text = 'FROM debian:bookworm-slim AS base\nSHELL ["/bin/bash", "-c"]\nUSER app\nFROM base\n';
    const p = planDockerfileTrust({ path: 'Dockerfile', text, contextDir: '.', cas: [caCert] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    const block = p.text.slice(text.length);
    expect(block.split('\n')[1]).toBe('USER root');
    expect(block).toMatch(/\nRUN \["\/bin\/sh", "-c", "chmod 0644 [^\n]*"\]\nUSER app\n# <<< ollama-tls\n$/);
    const root = tempDir('ollama-tls-root-');
    const calls = path.join(root, 'calls');
    const r = runBlock(p.text, p.files, root, minimalBin({ 'update-ca-certificates': `#!/bin/sh\necho called >> '${calls}'\n` }));
    expect(r.status).toBe(0);
    expect(readFileSync(calls, 'utf8')).toBe('called\n');
  });

  it('shellless: the bundle is Mozilla\'s roots plus the CA, readable, and Go trusts it', async () => {
    const p = planDockerfileTrust({ path: 'Dockerfile', text: 'FROM gcr.io/distroless/static-debian12:nonroot\n', contextDir: '.', cas: [caCert] });
    if (p.kind !== 'patch') throw new Error('expected a patch');
    const root = tempDir('ollama-tls-root-');
    runBlock(p.text, p.files, root, minimalBin());
    const bundle = path.join(root, SHELLLESS_BUNDLE);
    expect(statSync(bundle).mode & 0o777).toBe(0o644);
    const certs = certificatesFromPem(readFileSync(bundle, 'utf8')).certificates;
    const mozilla = (await import('node:tls')).rootCertificates.length;
    expect(certs.length).toBe(mozilla + 1);
    expect(certs.at(-1)!.sha256).toBe(caCert.sha256);
    expect(p.notes.join('\n')).toContain('The base image\'s own roots are not kept');
    if (go) expect(await goTrusts(bundle)).toBe('ok');
  });

  it('the build-secret variant: one RUN with the CA mounted, a bundle on the tmpfs, the variables set', () => {
    for (const family of ['debian', 'alpine', 'rhel', 'suse', 'arch', 'shellless'] as BaseFamily[]) {
      const text = buildSecretSnippet({ family, caFile: 'corp.pem' });
      expect(text.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
      expect(text).toContain('#   docker build --secret id=corp-ca,src=corp.pem .');
      expect(buildSecretSnippet({ family, caFile: "my certs/corp's.pem" })).toContain(`#   docker build --secret 'id=corp-ca,src=my certs/corp'\\''s.pem' .`);
      const df = DockerfileParser.parse(`${text}`);
      expect(df.getDirectives().map((d) => [d.getName(), d.getValue()])).toEqual([['syntax', 'docker/dockerfile:1']]);
      const run = df.getInstructions().find((i) => i.getKeyword() === 'RUN')!;
      const mounts = (run as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags().filter((f) => f.getName() === 'mount').map((f) => f.getValue());
      expect(mounts).toEqual(['type=secret,id=corp-ca,target=/run/secrets/corp-ca.pem', 'type=tmpfs,target=/run/ollama-tls']);

      // Run the command part with the mounts stood in for by directories.
      const root = tempDir('ollama-tls-root-');
      const secret = path.join(root, 'run/secrets/corp-ca.pem');
      mkdirSync(path.dirname(secret), { recursive: true });
      mkdirSync(path.join(root, 'run/ollama-tls'), { recursive: true });
      writeFileSync(secret, caCert.toPem());
      const system = family === 'shellless' ? STORE_PATHS.debian.bundle : STORE_PATHS[family].bundle;
      mkdirSync(path.dirname(path.join(root, system)), { recursive: true });
      writeFileSync(path.join(root, system), PROXY_CA.toPem());
      const raw = run.getRawArgumentsContent()!.replace(/^(--mount=\S+\s*\\?\s*)+/, '');
      const command = underRoot(raw, root).replace('your-command-here', 'echo "$SSL_CERT_FILE $REQUESTS_CA_BUNDLE $NODE_EXTRA_CA_CERTS"');
      const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const bundle = path.join(root, 'run/ollama-tls/ca.pem');
      expect(r.stdout).toBe(`${bundle} ${bundle} ${secret}\n`);
      expect(readFileSync(bundle, 'utf8')).toBe(PROXY_CA.toPem() + caCert.toPem());
    }
  });

  it('context files: the CA as PEM, and for shellless the bundle', () => {
    const files = dockerfileContextFiles({ cas: [caCert, PROXY_CA], family: 'shellless', contextDir: 'ctx', roots: [ROOT_CA] });
    expect(files.map((f) => f.name)).toEqual([
      ...[caCert, PROXY_CA].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1)).map((c) => `ollama-tls-${c.sha256.slice(0, 16)}.crt`),
      expect.stringMatching(/^ollama-tls-bundle-[0-9a-f]{16}\.pem$/),
    ]);
    const bundle = certificatesFromPem(files.at(-1)!.content).certificates.map((c) => c.sha256);
    expect(bundle).toEqual([ROOT_CA.sha256, ...[caCert, PROXY_CA].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1)).map((c) => c.sha256)]);
  });
});
