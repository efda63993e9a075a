// Every ollama-tls command the tool prints runs as printed. A set of scenario runs (doctor on
// broken chains, an interception, trust into a Dockerfile, a compose file and a tree) is made;
// each `ollama-tls ...` command they print (fixes in the JSON report, `$ ` lines in the text,
// removal hints written into files) is run by a shell, as printed, with the program installed on
// the PATH as a user's would be. Only what keeps the run on loopback and off this machine's own
// store is added: `--resolve HOST:PORT:127.0.0.1` for a command naming a scenario's host, `--root TREE --yes` for a
// trust or untrust of the OS store. The placeholder file (corp-ca.pem) holds the scenario's CA,
// as the file from IT would. Each must exit 0; a doctor command may exit 1 (it ran and reports the
// problem the scenario still has: the fix it belongs to has not been applied), never 2 or 3.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';
import { debianTree, haveDebianTool } from '../helpers/trees.js';

interface Printed {
  from: string;
  command: string;
}

const servers: Running[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

const printed: Printed[] = [];
let work: string;
let caPem: string;
let resolveFor: Map<string, string>;

/** The ollama-tls commands in a text: `$ ` lines and "remove: ..." / "Remove it with: ..." hints. */
function commandsIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*\$ (.+)$/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/[Rr]emove(?: it with)?: (ollama-tls [^)\n]+)/g)) out.push(m[1]!);
  return out;
}

const ours = (c: string) => /^(?:sudo )?ollama-tls /.test(c);

function record(from: string, commands: (string | undefined)[]) {
  for (const c of commands) if (c && ours(c.split('\n')[0]!) && !printed.some((p) => p.command === c)) printed.push({ from, command: c });
}

/** doctor --json and text for a served chain; every fix command recorded. */
async function doctorScenario(name: string, host: string, leaf: { chainPem: string; keyPem: string }) {
  const server = await serveChain(leaf);
  servers.push(server);
  const target = `${host}:${server.port}`;
  resolveFor.set(target, `${target}:127.0.0.1`);
  const json = await runCli(['doctor', '--json', target, '--resolve', `${target}:127.0.0.1`]);
  const report = JSON.parse(json.stdout) as { targets: { findings: { fixes: { command?: string }[] }[] }[] };
  record(name, report.targets.flatMap((t) => t.findings.flatMap((f) => f.fixes.map((x) => x.command))));
  const text = await runCli(['doctor', target, '--resolve', `${target}:127.0.0.1`]);
  record(name, commandsIn(text.stdout));
}

beforeAll(async () => {
  work = tempDir('ollama-tls-printed-');
  resolveFor = new Map();
  const sent = loadScenario('untrusted-root-sent');
  caPem = sent.caPem;
  writeFileSync(path.join(work, 'corp-ca.pem'), caPem);
  await doctorScenario('untrusted root sent', sent.host, sent);
  await doctorScenario('missing intermediate', loadScenario('missing-intermediate').host, loadScenario('missing-intermediate'));
  const corp = await makeCa('Example Corp Inspection Root', 'Example Corp');
  await doctorScenario('interception', 'downloads.acme-models.com', await issueLeaf(corp, ['downloads.acme-models.com']));

  // trust into a Dockerfile and a compose file: the hints they print and write.
  writeFileSync(path.join(work, 'Dockerfile'), 'FROM debian:12\nRUN echo built\n');
  const df = await runCli(['trust', '--ca', path.join(work, 'corp-ca.pem'), '--dockerfile', path.join(work, 'Dockerfile'), '--yes']);
  expect(df.code, df.stderr).toBe(0);
  record('trust --dockerfile', [...commandsIn(df.stdout), ...commandsIn(readFileSync(path.join(work, 'Dockerfile'), 'utf8'))]);
  writeFileSync(path.join(work, 'compose.yaml'), 'services:\n  ollama:\n    image: ollama/ollama\n');
  const compose = await runCli(['trust', '--ca', path.join(work, 'corp-ca.pem'), '--compose', path.join(work, 'compose.yaml'), '--yes']);
  expect(compose.code, compose.stderr).toBe(0);
  const override = readFileSync(path.join(work, 'compose.ollama-tls.yaml'), 'utf8');
  record('trust --compose', [...commandsIn(compose.stdout), ...commandsIn(override)]);
}, 120_000);

/** What keeps a printed command on loopback and off this machine's store. */
function adapt(command: string, tree: string): string {
  const words = command.split('\n')[0]!.replace(/\s+#.*$/, '').trim().split(/\s+/);
  const verb = words[words.indexOf(words.find((w) => w.endsWith('ollama-tls'))!) + 1];
  const extra: string[] = [];
  // doctor HOST:PORT, trust --from-host HOST:PORT: the scenario's name, reached on loopback.
  const target = words.find((w) => resolveFor.has(w));
  if (target) extra.push('--resolve', resolveFor.get(target)!);
  if ((verb === 'trust' || verb === 'untrust') && !words.some((w) => ['--dockerfile', '--compose', '--image', '--bundle-out', '--root'].includes(w))) extra.push('--root', tree);
  if ((verb === 'trust' || verb === 'untrust') && !words.includes('--yes') && !words.includes('--dry-run')) extra.push('--yes');
  return `${words.join(' ')} ${extra.join(' ')}`.trim();
}

function sh(line: string, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', line], { cwd, env: cliEnv(), timeout: 60_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 99) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe.skipIf(!haveDebianTool())('printed commands run as printed', () => {
  it('the scenario runs printed ollama-tls commands of every kind', () => {
    const verbs = new Set(printed.map((p) => p.command.replace(/^sudo /, '').split(/\s+/)[1]));
    expect([...verbs].sort()).toEqual(expect.arrayContaining(['doctor', 'trust', 'untrust']));
    expect(printed.length).toBeGreaterThanOrEqual(6);
  });

  it('each exits 0', async () => {
    const failures: string[] = [];
    for (const p of printed) {
      const tree = debianTree({ withTool: true });
      // A fresh copy of the inputs for each: an untrust must find what its trust wrote.
      const line = adapt(p.command, tree);
      const r = await sh(line, work);
      if (r.code !== 0 && !(r.code === 1 && /^(?:sudo )?ollama-tls doctor /.test(p.command))) failures.push(`[${p.from}] ${p.command}\n  ran: ${line}\n  exit ${r.code}: ${r.out.slice(0, 600)}`);
    }
    console.log(`printed-commands: ${printed.length} commands run:\n${printed.map((p) => `  [${p.from}] ${p.command.split('\n')[0]}`).join('\n')}`);
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 600_000);
});
