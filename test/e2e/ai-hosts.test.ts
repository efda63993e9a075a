// doctor --ai checks the common AI API hosts in one run, each like any other host. Every name is
// pinned to loopback with --resolve (where nothing listens on 443), so the run never leaves the machine.
import { describe, expect, it } from 'vitest';
import { AI_HOSTS } from '../../src/probe/known-hosts.js';
import { runDoctorJson } from '../helpers/cli.js';

describe('doctor --ai', () => {
  it('checks every AI host (and not the pull path) concurrently', async () => {
    const pins = AI_HOSTS.flatMap((h) => ['--resolve', `${h.host}:443:127.0.0.1`]);
    const { result, report } = await runDoctorJson(['--ai', ...pins, '--timeout', '3000']);
    expect(report.targets.map((t) => t.host)).toEqual(AI_HOSTS.map((h) => h.host));
    expect(report.targets.every((t) => t.role === 'ai')).toBe(true);
    expect(report.targets.map((t) => t.host)).toEqual(expect.arrayContaining(['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'api.mistral.ai', 'huggingface.co']));
    expect(report.pull).toBeUndefined();
    for (const t of report.targets) {
      expect(t.addresses).toEqual([{ address: '127.0.0.1', family: 4, source: 'resolve' }]);
      expect(t.findings[0]!.code).toBe('connection-refused');
    }
    expect(result.code).toBe(1);
    // Concurrent: seven refused connections take about as long as one.
    expect(result.ms).toBeLessThan(8000);
  });

  it('--ai with --model checks both', async () => {
    const pins = [...AI_HOSTS.map((h) => h.host), 'registry.ollama.ai', 'dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com'].flatMap((h) => ['--resolve', `${h}:443:127.0.0.1`]);
    const { report } = await runDoctorJson(['--ai', '--model', 'tiny', ...pins, '--timeout', '3000']);
    expect(report.pull?.model).toBe('tiny:latest');
    expect(report.targets.filter((t) => t.role === 'ai')).toHaveLength(AI_HOSTS.length);
    expect(report.targets.filter((t) => t.role === 'registry' || t.role === 'fallback')).toHaveLength(2);
  });
});
