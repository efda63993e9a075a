// explain against a corpus captured here and now: real programs (Go, skopeo, curl, wget, Python
// ssl/urllib/requests/httpx, pip, Node https/fetch, npm, git, apt, gnutls-cli, openssl s_client and
// verify, Java) run against loopback servers that each fail one staged way. Every text must give
// ONE finding: the staged failure's code, credited to the program that printed it, with evidence.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainLines } from '../../../src/diagnose/explain.js';
import { clockFloor } from '../../../src/trust/stores.js';
import { captureCorpus, NOT_RUN, PROGRAMS, STAGES, type Corpus } from '../../helpers/corpus.js';
import { tempDir } from '../../helpers/servers.js';

const OPTS = { platform: { platform: 'linux' as const, family: 'debian' as const, systemd: true }, now: new Date(), clockFloor: clockFloor() };

let corpus: Corpus;
const results: { program: string; stage: string; right: boolean }[] = [];

beforeAll(async () => {
  corpus = await captureCorpus();
  // Kept for a look by hand after the run.
  const file = path.join(tempDir('ollama-tls-corpus-out-'), 'corpus.json');
  writeFileSync(file, JSON.stringify(corpus.captured, null, 2));
  console.log(`explain corpus: ${corpus.captured.length} texts captured (${file})`);
}, 300_000);

afterAll(async () => {
  await corpus?.close();
  const right = results.filter((r) => r.right).length;
  console.log(`explain corpus: ${right} of ${results.length} texts classified right`);
});

describe('programs', () => {
  for (const p of PROGRAMS) {
    const version = p.version();
    it.skipIf(!version)(`${p.name}: ${version ?? `not run: ${p.missing}`}`, () => {
      const texts = corpus.captured.filter((c) => c.program === p.name);
      const expected = STAGES.filter((s) => !p.skip?.[s.name]).length;
      const silent = corpus.silent.filter((s) => s.program === p.name && !p.skip?.[s.stage as keyof typeof p.skip]);
      // Every staged failure that is not skipped for a stated reason made the program fail.
      expect(silent, JSON.stringify(silent)).toEqual([]);
      expect(texts).toHaveLength(expected);
    });
  }
  for (const n of NOT_RUN) it.skip(`${n.name}: not run: ${n.why}`, () => {});
});

describe('every captured text: one finding, the staged code, the right program', () => {
  for (const p of PROGRAMS) {
    if (!p.version()) continue;
    for (const stage of STAGES) {
      const why = p.skip?.[stage.name];
      it.skipIf(!!why)(`${p.name} / ${stage.name}${why ? `: not run: ${why}` : ''}`, async () => {
        const c = corpus.captured.find((x) => x.program === p.name && x.stage.name === stage.name);
        expect(c, `${p.name} printed nothing for ${stage.name}`).toBeDefined();
        const { findings } = await explainLines(c!.text.split('\n'), OPTS);
        const codes = [...stage.codes, ...(p.vague?.[stage.name]?.codes ?? [])];
        const right = findings.length === 1 && codes.includes(findings[0]!.code) && findings[0]!.client === p.client;
        results.push({ program: p.name, stage: stage.name, right });
        const summary = findings.map((f) => `${f.code} by ${f.client} x${f.count}`).join('; ');
        expect(findings.length, `${summary}\n---\n${c!.text}`).toBe(1);
        const f = findings[0]!;
        expect(codes, `${summary}\n---\n${c!.text}`).toContain(f.code);
        expect(f.client, `${summary}\n---\n${c!.text}`).toBe(p.client);
        expect(f.count, `${summary}\n---\n${c!.text}`).toBe(1);
        expect(f.evidence.length).toBeGreaterThan(0);
      });
    }
  }
});
