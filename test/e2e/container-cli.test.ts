// trust/untrust --dockerfile through the built CLI: the plan, the files in the build context,
// byte-exact undo, an unknown base (exit 2 naming --base-family), and the print-only modes.
// (The patcher's own cases, 34 bases and layouts, are in dockerfile.test.ts.)
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificatesFromPem } from '../../src/x509/load.js';
import { runCli } from '../helpers/cli.js';
import { buildLayout, haveImageTools, run, unpack } from '../helpers/images.js';
import { loadScenario, tempDir } from '../helpers/servers.js';

const ca = path.join(loadScenario('valid-rsa').dir, 'ca.pem');

function project(dockerfile: string): string {
  const dir = tempDir('ollama-tls-docker-');
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

describe('trust --dockerfile', () => {
  it('patches the final stage, writes the CA into the context, is idempotent, and untrust restores the bytes', async () => {
    const original = '# syntax=docker/dockerfile:1\nFROM golang:1.23 AS build\nRUN go build -o /app .\n\nFROM ubuntu:24.04\r\nCOPY --from=build /app /app\r\nUSER nobody\r\nENTRYPOINT ["/app"]';
    const dir = project(original);
    const file = path.join(dir, 'Dockerfile');
    const r = await runCli(['trust', '--ca', ca, '--dockerfile', file, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('final stage (ubuntu:24.04), debian family');
    const patched = readFileSync(file, 'utf8');
    expect(patched.startsWith('# syntax=docker/dockerfile:1\nFROM golang:1.23 AS build\nRUN go build -o /app .\n\nFROM ubuntu:24.04\r\n# >>> ollama-tls: trust "ollama-tls Test Root CA"')).toBe(true);
    expect(patched.endsWith('# <<< ollama-tls\r\nCOPY --from=build /app /app\r\nUSER nobody\r\nENTRYPOINT ["/app"]')).toBe(true);
    const crt = readdirSync(dir).find((n) => n.endsWith('.crt'))!;
    expect(readFileSync(path.join(dir, crt), 'utf8')).toBe(readFileSync(ca, 'utf8').trim() + '\n');
    expect(patched).toContain(`COPY ${crt} /usr/local/share/ca-certificates/${crt}`);
    // Mozilla's roots beside the CA, for the RUN to seed a missing bundle with (seed-roots.ts).
    expect(readdirSync(dir).sort()).toEqual(['Dockerfile', crt, 'ollama-tls-roots.pem'].sort());
    expect(patched).toContain('COPY ollama-tls-roots.pem /tmp/ollama-tls-roots.pem');
    expect(certificatesFromPem(readFileSync(path.join(dir, 'ollama-tls-roots.pem'), 'latin1')).certificates).toHaveLength(tls.rootCertificates.length);

    const again = await runCli(['trust', '--ca', ca, '--dockerfile', file, '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do');

    const undo = await runCli(['untrust', '--ca', ca, '--dockerfile', file, '--yes']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(readdirSync(dir)).toEqual(['Dockerfile']);
  });

  it('an unknown base needs --base-family without a terminal; with it, the block is written', async () => {
    const dir = project('FROM registry.corp.example/platform/base-image:7\nRUN make\n');
    const file = path.join(dir, 'Dockerfile');
    const r = await runCli(['trust', '--ca', ca, '--dockerfile', file, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--base-family debian|alpine|rhel|suse|arch|shellless');
    expect(readdirSync(dir)).toEqual(['Dockerfile']);
    const ok = await runCli(['trust', '--ca', ca, '--dockerfile', file, '--base-family', 'rhel', '--yes']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('update-ca-trust extract');
  });

  it('a distroless base gets a bundle copied to the path Go reads', async () => {
    const dir = project('FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n');
    const r = await runCli(['trust', '--ca', ca, '--dockerfile', path.join(dir, 'Dockerfile'), '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const bundle = readdirSync(dir).find((n) => n.startsWith('ollama-tls-bundle-'))!;
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(`COPY --chmod=0644 ${bundle} /etc/ssl/certs/ca-certificates.crt`);
    expect(readFileSync(path.join(dir, bundle), 'utf8').split('BEGIN CERTIFICATE').length - 1).toBeGreaterThan(100);
  });

  it('--print and --build-secret print and write nothing', async () => {
    const dir = project('FROM alpine:3.20\n');
    const p = await runCli(['trust', '--ca', ca, '--dockerfile', path.join(dir, 'Dockerfile'), '--print']);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^# >>> ollama-tls: trust/);
    expect(p.stdout).toContain('update-ca-certificates');
    const s = await runCli(['trust', '--build-secret', '--base-family', 'debian']);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('--mount=type=secret');
    expect(s.stdout).toContain('docker build --secret');
    expect(readdirSync(dir)).toEqual(['Dockerfile']);
    const none = await runCli(['trust', '--ca', ca, '--print']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--print needs --dockerfile PATH or --base-family');
  });
});

describe.skipIf(!haveImageTools())('trust --image (no Docker daemon)', () => {
  it('plans from the image, writes the result beside it, and untrust takes the layer out again', async () => {
    const work = tempDir('ollama-tls-image-cli-');
    const layout = path.join(work, 'layout');
    buildLayout(layout, 'latest', [(root) => {
      mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
      writeFileSync(path.join(root, 'etc/os-release'), 'ID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n');
      writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), readFileSync('/etc/ssl/certs/ca-certificates.crt'));
    }]);
    const out = path.join(work, 'out');
    const dry = await runCli(['trust', '--ca', ca, '--image', layout, '--output', out, '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`image  ${layout} -> ${out}: add one layer with`);
    expect(dry.stdout).toContain('Ubuntu 24.04 LTS, bundle /etc/ssl/certs/ca-certificates.crt');
    expect(existsSync(out)).toBe(false);

    const r = await runCli(['trust', '--ca', ca, '--image', layout, '--output', out, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok +latest.*: holds "ollama-tls Test Root CA"/);
    expect(JSON.parse(run('skopeo', ['inspect', `oci:${out}:latest`])).Layers).toHaveLength(2);
    const rootfs = unpack(out, 'latest', work);
    expect(readFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(readFileSync(ca, 'utf8').trim());

    const undo = await runCli(['untrust', '--ca', ca, '--image', out, '--yes']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(JSON.parse(run('skopeo', ['inspect', `oci:${out}:latest`])).Layers).toHaveLength(1);
  });

  it('a file that is not an image is refused with exit 2', async () => {
    const bogus = path.join(tempDir(), 'not-an-image.tar');
    writeFileSync(bogus, 'hello');
    const r = await runCli(['trust', '--ca', ca, '--image', bogus, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--image');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
