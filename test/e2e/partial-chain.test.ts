// X509_V_FLAG_PARTIAL_CHAIN, held against the real clients: with only the server's intermediate
// CA in the trust store, curl (7.68+ sets the flag) accepts the chain and Node (which does not)
// refuses it. The doctor's system view stands for curl and its node view for Node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { curlSays, nodeSays, type Peer } from '../helpers/clients.js';
import { loadScenario, serveChain, type Running, onlyCaTree, ONLY_CA_ENV } from '../helpers/servers.js';

let server: Running;
let peer: Peer;
let verdicts: DoctorJson['targets'][number]['verdicts'];

beforeAll(async () => {
  const s = loadScenario('valid-rsa');
  const intermediatePem = s.chainPem.slice(s.chainPem.indexOf('-----END CERTIFICATE-----') + 26).trim();
  expect(intermediatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  server = await serveChain(s);
  peer = { port: server.port, name: s.host, caPem: `${intermediatePem}\n` };
  const root = onlyCaTree(peer.caPem);
  const target = `${s.host}:${server.port}`;
  const { report } = await runDoctorJson([target, '--root', root, '--resolve', `${target}:127.0.0.1`],
    ONLY_CA_ENV);
  verdicts = report.targets[0]!.verdicts;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('an intermediate CA alone in the trust store', () => {
  it('curl accepts the chain, and so does the system view', async () => {
    expect(await curlSays(peer)).toBeUndefined();
    expect(verdicts.find((v) => v.view === 'system')).toMatchObject({ ok: true });
  });

  it('Node refuses it, and so does the node view, in the same words', async () => {
    const said = await nodeSays(peer);
    expect(said).toMatch(/unable to get issuer certificate/);
    const node = verdicts.find((v) => v.view === 'node')!;
    expect(node.ok).toBe(false);
    expect(node.message).toMatch(/unable to get issuer certificate/);
  });
});
