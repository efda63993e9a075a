// A clock earlier than any bundled root: the doctor says the clock is wrong.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/diagnose/doctor.js';
import { RootFs } from '../../../src/platform/rootfs.js';
import { parseTarget } from '../../../src/probe/target.js';
import { loadScenario, serveChain, tempDir } from '../../helpers/servers.js';

describe('the clock', () => {
  it('calls a clock earlier than the newest bundled root wrong, and says so with not-yet-valid', async () => {
    const s = loadScenario('valid-rsa');
    const server = await serveChain(s);
    try {
      const root = tempDir();
      writeFileSync(path.join(root, 'ca.pem'), s.caPem);
      const run = await runDoctor({
        targets: [parseTarget(`${s.host}:${server.port}`)], timeoutMs: 5000,
        overrides: [{ host: s.host, port: server.port, addresses: ['127.0.0.1'] }], extraCaFiles: [], deciding: ['go'],
        fs: new RootFs(root), env: { SSL_CERT_FILE: '/ca.pem' }, platform: 'linux', version: 'test',
        now: new Date('2019-06-01T00:00:00Z'),
      });
      const t = run.report.targets[0]!;
      expect(t.verdicts.find((v) => v.view === 'go')!.code).toBe('not-yet-valid');
      const skew = t.findings.find((f) => f.code === 'clock-skew');
      expect(skew?.severity).toBe('error');
      expect(t.findings.find((f) => f.code === 'not-yet-valid')!.detail).toContain('clock is behind');
    } finally {
      await server.close();
    }
  });
});
