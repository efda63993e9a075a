// The doctor with its root stores kept between runs (trust/store-snapshot.ts), through the built
// CLI against a real loopback server: the same report with no snapshot, a warm one (served: the
// file is not written again) and a damaged one; and a store that changed is judged as it is now.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The report without what differs from run to run (timings). */
const stable = (r: DoctorJson) => JSON.stringify(r, (k, v: unknown) => (k === 'timings' || k === 'ms' ? undefined : v));

describe('doctor with its stores kept between runs', () => {
  it('reports the same with no snapshot, a served one and a damaged one; a changed store is read as it is now', { timeout: 60_000 }, async () => {
    const s = loadScenario('valid-rsa');
    const server = await serveChain(s);
    servers.push(server);
    const target = `${s.host}:${server.port}`;
    // Go's roots from a bundle and a directory of our own, old enough to be recorded (2 s).
    const certs = tempDir('ollama-tls-snapshot-roots-');
    const dir = path.join(certs, 'dir');
    mkdirSync(dir);
    writeFileSync(path.join(certs, 'bundle.pem'), loadScenario('valid-ecdsa').caPem);
    writeFileSync(path.join(dir, 'root.pem'), s.caPem);
    await sleep(2100);
    const cacheHome = tempDir('ollama-tls-snapshot-home-');
    const file = path.join(cacheHome, 'ollama-tls', 'root-stores.bin');
    const env = { XDG_CACHE_HOME: cacheHome, SSL_CERT_FILE: path.join(certs, 'bundle.pem'), SSL_CERT_DIR: dir };
    const run = async () => (await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`], env)).report;

    const cold = await run();
    expect(cold.targets[0]!.verdicts.find((v) => v.view === 'go')!.ok).toBe(true);
    const written = statSync(file).mtimeMs;
    const warm = await run();
    // Every store was served: a store read again would have been recorded and the file written.
    expect(statSync(file).mtimeMs).toBe(written);
    expect(stable(warm)).toBe(stable(cold));

    writeFileSync(file, Buffer.alloc(4096, 0x5a));
    const afterDamage = await run();
    expect(stable(afterDamage)).toBe(stable(cold));
    expect(readFileSync(file).readUInt32LE(0)).not.toBe(0x5a5a5a5a);

    // The root Go found leaves its directory: Go no longer trusts the server, and neither does the doctor.
    writeFileSync(path.join(dir, 'root.pem'), loadScenario('valid-ecdsa').caPem);
    const changed = await run();
    const go = changed.targets[0]!.verdicts.find((v) => v.view === 'go')!;
    expect(go.ok).toBe(false);
    expect(go.message).toMatch(/unknown authority/);
  });
});
