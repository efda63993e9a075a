// `npm run lint` (with both type checks): src/'s imports follow ARCHITECTURE.md's layer table and
// form no cycle. Prints each problem and exits 1, or prints the graph's size and exits 0.
import { importGraph, importProblems, layerTable } from '../test/helpers/import-graph.js';

const problems = importProblems();
if (problems.length) {
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.stderr.write(`lint-imports: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  process.exit(1);
}
const { graph } = importGraph();
const edges = [...graph.values()].reduce((n, t) => n + t.length, 0);
process.stdout.write(`lint-imports: ${graph.size} modules, ${edges} imports, ${layerTable().size} folders in layer order, no cycle\n`);
