// The layers: probe -> chain -> verdicts -> findings -> render. Imports go down ARCHITECTURE.md's
// layer table only (a folder imports its own modules and lower layers'), statically, type-only or
// with import(); and no module reaches itself through its imports. `npm run lint` runs the same
// check without vitest (scripts/lint-imports.ts).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SRC, importCycles, importGraph, importProblems, layerTable, layerViolations, specifiers } from '../helpers/import-graph.js';

describe('import direction', () => {
  it('the layer table places every folder of src/ and nothing else, platform/ lowest, cli/ highest', () => {
    const layers = layerTable();
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect([...layers.keys()].sort()).toEqual(folders.sort());
    expect(layers.get('platform')).toBe(Math.min(...layers.values()));
    expect(layers.get('cli')).toBe(Math.max(...layers.values()));
    expect(new Set(layers.values()).size).toBeGreaterThan(4);
  });

  it('src/ keeps it: no upward import, no cycle, every relative import a module under src/', () => {
    const { graph } = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(importProblems()).toEqual([]);
  });

  it('probe/, x509/, trust/ never import fix/, diagnose/ or cli/ (the rule the table generalises)', () => {
    const { graph } = importGraph();
    const wrong = [...graph].flatMap(([from, to]) =>
      /^(probe|x509|trust)\//.test(from) ? to.filter((t) => /^(fix|diagnose|cli)\//.test(t)).map((t) => `${from} -> ${t}`) : []);
    expect(wrong).toEqual([]);
  });
});

describe('the checker sees what it must refuse', () => {
  const layers = layerTable();
  const graphOf = (files: Record<string, string>) => importGraph(new Map(Object.entries(files)));

  it('finds every kind of import, and none in comments or strings', () => {
    const text = [
      "import { CaInputError, readCaFile } from '../fix/ca-input.js';",
      "import type { Finding } from '../diagnose/finding.js';",
      "export { x } from './x.js';",
      "const m = await import('../cli/main.js');",
      "// import('../fix/apply.js')",
      "const s = \"import('../fix/plan.js')\";",
    ].join('\n');
    expect(specifiers(text)).toEqual(['../fix/ca-input.js', '../diagnose/finding.js', './x.js', '../cli/main.js']);
  });

  it('an upward import (trust -> diagnose, even type-only), a sideways one (probe -> trust), a folder with no layer', () => {
    const { graph, errors } = graphOf({
      'trust/views.ts': "import type { FindingCode } from '../diagnose/finding.js';",
      'diagnose/finding.ts': "import { x } from '../platform/ip.js';",
      'platform/ip.ts': '',
      'probe/probe.ts': "const v = await import('../trust/views.js');",
      'extra/thing.ts': "import '../platform/ip.js';",
    });
    expect(errors).toEqual([]);
    expect(layerViolations(graph, layers)).toEqual([
      'extra/ is not in ARCHITECTURE.md\'s Layers table',
      'trust/views.ts -> diagnose/finding.ts (trust/ is layer 2, diagnose/ is layer 4)',
      'probe/probe.ts -> trust/views.ts (probe/ is layer 2, trust/ is layer 2)',
    ]);
  });

  it('a cycle inside one folder, through a type-only import and import(), named with its path', () => {
    const { graph } = graphOf({
      'probe/a.ts': "import { b } from './b.js';",
      'probe/b.ts': "const c = await import('./c.js');",
      'probe/c.ts': "import type { A } from './a.js';\nimport './d.js';",
      'probe/d.ts': '',
      'probe/self.ts': "import type { S } from './self.js';",
    });
    expect(importCycles(graph)).toEqual([['probe/a.ts', 'probe/b.ts', 'probe/c.ts', 'probe/a.ts'], ['probe/self.ts', 'probe/self.ts']]);
    expect(layerViolations(graph, layers)).toEqual([]);
  });

  it('an import of something that is not a module under src/', () => {
    expect(graphOf({ 'cli/main.ts': "import x from '../../package.json';\nimport { y } from './gone.js';" }).errors).toEqual([
      'cli/main.ts imports ../../package.json, which is not a module under src/',
      'cli/main.ts imports ./gone.js, which is not a module under src/',
    ]);
  });
});
