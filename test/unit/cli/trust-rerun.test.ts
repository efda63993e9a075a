// A plan that needs root is run again through sudo with the same target: the words it passes on
// must name every flag that chose where the CA goes (issue 17's helper found --image and --output
// were dropped, which would have planned the system store instead of the image).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { whereArgs } from '../../../src/cli/trust-command.js';
import { COMMAND_OPTIONS, OPTIONS } from '../../../src/cli/options.js';

describe('trust rerun as root: the same target', () => {
  it('passes on --image/--output, --dockerfile/--context/--base-family, --compose/--service, as absolute paths', () => {
    expect(whereArgs({ image: 'img.tar', output: 'out/img.tar' })).toEqual(['--image', path.resolve('img.tar'), '--output', path.resolve('out/img.tar')]);
    expect(whereArgs({ dockerfile: 'Dockerfile', context: '.', baseFamily: 'alpine' }))
      .toEqual(['--dockerfile', path.resolve('Dockerfile'), '--context', path.resolve('.'), '--base-family', 'alpine']);
    expect(whereArgs({ compose: 'compose.yaml', service: ['ollama', 'webui'] }))
      .toEqual(['--compose', path.resolve('compose.yaml'), '--service', 'ollama', '--service', 'webui']);
    expect(whereArgs({ root: '/tmp/tree', scope: 'machine', only: 'debian', bundleOut: 'b.pem' }))
      .toEqual(['--root', '/tmp/tree', '--scope', 'machine', '--bundle-out', path.resolve('b.pem'), '--only', 'debian']);
  });

  it('covers every trust option that is not about the CA, the prompt or the output format', () => {
    const notWhere = new Set(['ca', 'password', 'fromHost', 'fingerprint', 'force', 'print', 'buildSecret', 'yes', 'dryRun', 'json',
      'timeout', 'resolve', 'servername', 'dnsServer', 'proxy', 'noProxy']);
    const where = COMMAND_OPTIONS.trust.filter((o) => !notWhere.has(o));
    const flags = Object.fromEntries(where.map((o) => [o, o === 'service' ? ['x'] : 'x']));
    const args = whereArgs(flags);
    expect(where.length).toBeGreaterThan(8);
    for (const o of where) expect(args, o).toContain(OPTIONS[o].flags.split(' ')[0]);
  });
});
