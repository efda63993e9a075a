// The README's finding codes are the code's list, both ways: the contract's section plus the
// additions named under "Contract" equal FINDING_CODES, so no code ships undocumented and no
// documented code is missing.
//
// A finding's code says what its words say. The public web PKI's warning ("not trusted by the
// public web PKI, its root is ...") is about a root that is not a public one: it carries
// untrusted-root, never missing-intermediate, whatever the chain's shape.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FINDING_CODES } from '../../src/diagnose/finding.js';
import { runDoctorJson } from '../helpers/cli.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { ROOT, serveChain, storeTree, type Running } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

/** The `code-like` strings in backticks of a README passage (flags, fields and values excluded by shape). */
const codesIn = (text: string): string[] => [...text.matchAll(/`([a-z][a-z0-9]*(?:-[a-z0-9]+)*)`/g)].map((m) => m[1]!);

describe('the README lists exactly the finding codes the code has', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  // The contract's copy: from its "## Finding codes" heading to the paragraph on `ok`.
  const section = readme.slice(readme.indexOf('\n## Finding codes\n'), readme.indexOf('`ok` (per target and overall)'));
  // The implementation's additions: "finding codes `...`, ... (...);" up to the next field list.
  const additions = readme.slice(readme.indexOf('Additions made by this implementation: finding codes'), readme.indexOf('per finding `basis`'));
  const documented = new Set([...codesIn(section), ...codesIn(additions)]);

  it('both passages are found', () => {
    expect(codesIn(section).length).toBeGreaterThan(30);
    expect(codesIn(additions).length).toBeGreaterThan(5);
  });
  it('every code in the code is in the README', () => {
    expect(FINDING_CODES.filter((c) => !documented.has(c))).toEqual([]);
  });
  it('every code in the README is in the code', () => {
    expect([...documented].filter((c) => !(FINDING_CODES as readonly string[]).includes(c))).toEqual([]);
  });
});

const withoutRoot = (chainPem: string) => chainPem.slice(0, chainPem.lastIndexOf('-----BEGIN CERTIFICATE-----'));

describe('the public web PKI warning', () => {
  for (const [label, sent] of [['the intermediate sent', 'leaf+intermediate'], ['the leaf alone sent (the intermediate is in the stores)', 'leaf']] as const) {
    it(`a private chain Go and Node accept, ${label}: the public-PKI warning is untrusted-root`, async () => {
      const intermediateName = 'Example Corp Issuing CA 1';
      const root = await makeCa('Example Corp Root', 'Example Corp');
      const intermediate = await makeCa(intermediateName, 'Example Corp', { issuer: root });
      const leaf = await issueLeaf(intermediate, ['models.example.internal'], { aiaCaIssuers: 'http://pki.example.internal/issuing.crt' });
      const chainPem = sent === 'leaf' ? leaf.chainPem.slice(0, leaf.chainPem.indexOf('-----END CERTIFICATE-----') + 26) : withoutRoot(leaf.chainPem);
      const server = await serveChain({ chainPem, keyPem: leaf.keyPem });
      servers.push(server);
      const target = `models.example.internal:${server.port}`;
      // Go (the tree's store) and Node (NODE_EXTRA_CA_CERTS, a path in the tree under --root) accept;
      // only the public web PKI refuses.
      const anchors = sent === 'leaf' ? `${root.certPem}\n${intermediate.certPem}` : root.certPem;
      const tree = storeTree(anchors);
      writeFileSync(path.join(tree, 'root.pem'), anchors);
      const { result, report } = await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`, '--root', tree], { NODE_EXTRA_CA_CERTS: '/root.pem' });
      const findings = report.targets[0]!.findings;
      expect(result.code, result.stdout).toBe(0);
      const pki = findings.find((f) => f.title.includes('public web PKI'));
      expect(pki?.code).toBe('untrusted-root');
      expect(pki?.title).toContain('(its root is "Example Corp Root")');
      expect(findings.map((f) => f.code)).not.toContain('missing-intermediate');
    });
  }
});
