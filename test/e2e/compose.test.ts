// trust --compose: an override beside the user's compose file (which is never written), checked
// with Compose itself (docker-compose merges the files without a daemon) and with a real Go client
// reading the generated bundle.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { goClientBinary, goSays, runCli } from '../helpers/cli.js';
import { loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';

const scenario = loadScenario('valid-rsa');
const ca = path.join(scenario.dir, 'ca.pem');
const go = goClientBinary('tlsclient');
const haveCompose = spawnSync('docker-compose', ['version']).status === 0;

const COMPOSE = `# My local AI stack (comments must survive: the file is only read)
services:
  ollama:
    image: ollama/ollama:latest   # the model server
    environment:
      - OLLAMA_HOST=0.0.0.0
    volumes:
      - ollama:/root/.ollama
  webui:
    image: ghcr.io/open-webui/open-webui:main
    environment:
      OLLAMA_BASE_URL: http://ollama:11434
  cache:
    image: redis:7
volumes:
  ollama: {}
`;

function project(text = COMPOSE): string {
  const dir = tempDir('ollama-tls-compose-');
  writeFileSync(path.join(dir, 'compose.yaml'), text);
  return dir;
}

/** The services as Compose itself merges the user's file with the override. */
function composeConfig(dir: string): Record<string, { environment?: Record<string, string>; volumes?: string[] }> {
  const r = spawnSync('docker-compose', ['-f', 'compose.yaml', '-f', 'compose.ollama-tls.yaml', 'config'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (YAML.parse(r.stdout) as { services: Record<string, never> }).services;
}

let server: Running;
beforeAll(async () => {
  server = await serveChain(scenario);
});
afterAll(async () => server?.close());

describe('trust --compose', () => {
  it('writes an override and a bundle, never the user file; Compose merges them; Go accepts the bundle', async () => {
    const dir = project();
    const r = await runCli(['trust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'compose.yaml'), 'utf8')).toBe(COMPOSE);
    const override = readFileSync(path.join(dir, 'compose.ollama-tls.yaml'), 'utf8');
    expect(override).toMatch(/^# Written by ollama-tls for "ollama-tls Test Root CA"/);
    expect(override).toContain('Remove it with: ollama-tls untrust --compose compose.yaml');
    expect(r.stdout).toContain('docker compose -f compose.yaml -f compose.ollama-tls.yaml up -d');
    expect(r.stdout).toContain('docker cp corp-ca.pem ollama:/usr/local/share/ca-certificates/corp-ca.crt');
    if (haveCompose) {
      const services = composeConfig(dir);
      expect(services.ollama!.environment).toMatchObject({ OLLAMA_HOST: '0.0.0.0', SSL_CERT_FILE: '/etc/ollama-tls/ca-bundle.pem' });
      expect(services.ollama!.volumes!.map(String).join('\n')).toContain(`${path.join(dir, 'ollama-tls-ca-bundle.pem')}:/etc/ollama-tls/ca-bundle.pem:ro`);
      expect(services.webui!.environment?.SSL_CERT_FILE).toBeUndefined();
    }
    const bundle = path.join(dir, 'ollama-tls-ca-bundle.pem');
    if (go) expect(await goSays(go, `127.0.0.1:${server.port}`, scenario.host, { SSL_CERT_FILE: bundle, SSL_CERT_DIR: dir })).toBe('ok');

    const again = await runCli(['trust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--yes']);
    expect(again.stdout).toContain('Nothing to do');

    const undo = await runCli(['untrust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--yes']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['compose.yaml']);
    expect(readFileSync(path.join(dir, 'compose.yaml'), 'utf8')).toBe(COMPOSE);
  });

  it('--service picks others; a Python service also gets REQUESTS_CA_BUNDLE', async () => {
    const dir = project();
    const r = await runCli(['trust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--service', 'webui', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const override = YAML.parse(readFileSync(path.join(dir, 'compose.ollama-tls.yaml'), 'utf8')) as { services: Record<string, { environment: Record<string, string> }> };
    expect(Object.keys(override.services)).toEqual(['webui']);
    expect(override.services.webui!.environment).toEqual({ SSL_CERT_FILE: '/etc/ollama-tls/ca-bundle.pem', REQUESTS_CA_BUNDLE: '/etc/ollama-tls/ca-bundle.pem' });
  });

  it('no Ollama service and several services: without a terminal, exit 2 naming --service and the services', async () => {
    const dir = project('services:\n  a:\n    image: nginx\n  b:\n    image: redis\n');
    const r = await runCli(['trust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--service NAME (services: a, b)');
    expect(readdirSync(dir)).toEqual(['compose.yaml']);
  });

  it('refuses to replace an override it did not write, and a service that does not exist', async () => {
    const dir = project();
    writeFileSync(path.join(dir, 'compose.ollama-tls.yaml'), 'services: {}\n');
    const r = await runCli(['trust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('was not written by ollama-tls');
    expect(readFileSync(path.join(dir, 'compose.ollama-tls.yaml'), 'utf8')).toBe('services: {}\n');
    const missing = await runCli(['trust', '--ca', ca, '--compose', path.join(project(), 'compose.yaml'), '--service', 'nope', '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no service "nope"');
  });

  it('says how to give the containers the proxy, without printing its password', async () => {
    const dir = project();
    const r = await runCli(['trust', '--ca', ca, '--compose', path.join(dir, 'compose.yaml'), '--yes'], { env: { HTTPS_PROXY: 'http://bob:hunter2@proxy.corp:3128' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('HTTPS_PROXY: "http://bob:***@proxy.corp:3128"');
    expect(r.stdout).not.toContain('hunter2');
  });
});
