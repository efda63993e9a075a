// The import graph of src/ and the two rules it must keep: imports only go down the layer table
// of ARCHITECTURE.md (read from there, so the document and the check cannot disagree), and no
// module reaches itself again through its imports. Every import counts: static, `import type`,
// `export ... from` and `import()` with a literal specifier, as TypeScript's own pre-processor
// finds them (comments and strings are not imports). Used by test/contract/import-direction.test.ts and
// scripts/lint-imports.ts (`npm run lint`).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.join(import.meta.dirname, '..', '..');
export const SRC = path.join(ROOT, 'src');

/** Module (path under src/, '/'-separated) -> the src/ modules it imports, in file order. */
export type ImportGraph = Map<string, string[]>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Every module specifier in a file: static, type-only, re-exports, literal `import()`. */
export function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

const posix = (p: string) => p.split(path.sep).join('/');

/**
 * The graph of relative imports between files under `srcDir` (`files`: path under src -> text,
 * to check a graph that is not on disk). An import that leaves src/ or names no file is an error:
 * the graph would be incomplete.
 */
export function importGraph(files?: Map<string, string>): { graph: ImportGraph; errors: string[] } {
  const texts = files ?? new Map(tsFiles(SRC).map((f) => [posix(path.relative(SRC, f)), readFileSync(f, 'utf8')]));
  const graph: ImportGraph = new Map();
  const errors: string[] = [];
  for (const [from, text] of texts) {
    const to: string[] = [];
    for (const spec of specifiers(text)) {
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)).replace(/\.js$/, '.ts');
      if (target.startsWith('../') || !texts.has(target)) {
        errors.push(`${from} imports ${spec}, which is not a module under src/`);
        continue;
      }
      to.push(target);
    }
    graph.set(from, to);
  }
  return { graph, errors };
}

/** Folder -> layer, from the table under "## Layers" in ARCHITECTURE.md: | layer | `a/`, `b/` | ... |. */
export function layerTable(markdown = readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8')): Map<string, number> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Layers'));
  if (!section) throw new Error('ARCHITECTURE.md has no "## Layers" section');
  const layers = new Map<string, number>();
  for (const row of section.matchAll(/^\|\s*(\d+)\s*\|([^|]+)\|/gm)) {
    for (const folder of row[2]!.matchAll(/`([a-z0-9-]+)\/`/g)) layers.set(folder[1]!, Number(row[1]));
  }
  if (layers.size === 0) throw new Error('ARCHITECTURE.md: the Layers table has no rows');
  return layers;
}

const folderOf = (module: string) => (module.includes('/') ? module.slice(0, module.indexOf('/')) : '');

/**
 * Imports that break the layer order: into another folder of the same or a higher layer. A
 * folder that is not in the table is an error of its own (a new folder needs its place first).
 */
export function layerViolations(graph: ImportGraph, layers: Map<string, number>): string[] {
  const out: string[] = [];
  const unplaced = new Set<string>();
  for (const [from, targets] of graph) {
    const a = folderOf(from);
    if (!layers.has(a)) unplaced.add(a || '(src/ itself)');
    for (const to of targets) {
      const b = folderOf(to);
      if (a === b || !layers.has(a) || !layers.has(b)) continue;
      if (layers.get(b)! >= layers.get(a)!) out.push(`${from} -> ${to} (${a}/ is layer ${layers.get(a)}, ${b}/ is layer ${layers.get(b)})`);
    }
  }
  return [...[...unplaced].map((f) => `${f}/ is not in ARCHITECTURE.md's Layers table`), ...out];
}

/**
 * The import cycles: each strongly connected component of more than one module (or a module that
 * imports itself), by Tarjan's algorithm, with one concrete cycle through it for the message.
 */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  // Iterative, so a deep graph cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next); low.set(start, next); next++; stack.push(start); onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.v) ?? [];
      if (top.i < edges.length) {
        const w = edges[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++; stack.push(w); onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== top.v);
        if (component.length > 1 || edges.includes(top.v)) components.push(component);
      }
    }
  }
  return components.map((c) => cycleThrough(graph, new Set(c)));
}

/** One cycle inside a strongly connected component, as a path that ends where it starts. */
function cycleThrough(graph: ImportGraph, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  // Breadth-first from start back to start, staying inside the component: the shortest cycle.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const chain = [v];
        while (chain[0] !== start) chain.unshift(previous.get(chain[0]!)!);
        return [...chain, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Everything wrong with src/'s imports, as lines for a person; empty when all rules hold. */
export function importProblems(): string[] {
  const { graph, errors } = importGraph();
  const cycles = importCycles(graph).map((c) => `import cycle: ${c.join(' -> ')}`);
  return [...errors, ...layerViolations(graph, layerTable()).map((v) => `upward import: ${v}`), ...cycles];
}
