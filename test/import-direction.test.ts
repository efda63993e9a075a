// The layers: probe -> chain -> verdicts -> findings -> render. The lower folders (probe, x509,
// trust) never import the higher ones (fix, diagnose, cli), statically or with import().
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '..', 'src');
const LOWER = ['probe', 'x509', 'trust'];
const HIGHER = ['fix', 'diagnose', 'cli'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Every module specifier: `from '...'`, `import('...')`, `import '...'`. */
function specifiers(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('import direction', () => {
  for (const lower of LOWER) {
    it(`nothing under src/${lower} imports ${HIGHER.join(', ')}`, () => {
      const files = tsFiles(path.join(SRC, lower));
      expect(files.length).toBeGreaterThan(3);
      const wrong: string[] = [];
      for (const file of files) {
        for (const spec of specifiers(readFileSync(file, 'utf8'))) {
          if (!spec.startsWith('.')) continue;
          const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
          if (HIGHER.includes(target)) wrong.push(`${path.relative(SRC, file)} -> ${spec}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it('the checker sees a wrong import (it would have caught probe -> fix/ca-input)', () => {
    const spec = specifiers("import { CaInputError, readCaFile } from '../fix/ca-input.js';\nconst m = await import('../diagnose/x.js');");
    expect(spec).toEqual(['../fix/ca-input.js', '../diagnose/x.js']);
  });
});
