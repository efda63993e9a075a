// `npm run bench`: wall-clock medians of whole commands, interleaved so that machine noise hits
// both sides of each comparison alike. Goals (issue 2): `--version` within 1.5x of `node -e 0`,
// and a loopback `doctor` within 1.5x of a minimal Node TLS handshake script.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ollama-tls.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 25);

function timeOnce(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

interface Side { label: string; args: string[] }

function compare(name: string, baseline: Side, subject: Side, goal: number, env: NodeJS.ProcessEnv = process.env): void {
  for (let i = 0; i < 3; i++) {
    timeOnce(baseline.args, env);
    timeOnce(subject.args, env);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(timeOnce(baseline.args, env));
    b.push(timeOnce(subject.args, env));
  }
  const ma = median(a);
  const mb = median(b);
  const ratio = mb / ma;
  console.log(`${name}`);
  console.log(`  ${baseline.label.padEnd(48)} median ${ma.toFixed(1)} ms`);
  console.log(`  ${subject.label.padEnd(48)} median ${mb.toFixed(1)} ms`);
  console.log(`  ratio ${ratio.toFixed(2)}x (goal <= ${goal}x): ${ratio <= goal ? 'met' : 'NOT met'}\n`);
}

/** A TLS server in its own process: spawnSync blocks this one's event loop. */
async function startServer(dir: string): Promise<{ port: number; stop: () => void }> {
  const code = `
    const tls = require('tls'), fs = require('fs'), path = require('path');
    const d = ${JSON.stringify(dir)};
    const s = tls.createServer({ key: fs.readFileSync(path.join(d, 'key.pem')), cert: fs.readFileSync(path.join(d, 'chain.pem')) }, (c) => { c.on('error', () => {}); c.end(); });
    s.on('tlsClientError', () => {});
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (c) => reject(new Error(`bench server exited (${c})`)));
  });
  return { port, stop: () => child.kill() };
}

console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), ${RUNS} interleaved runs per side\n`);

compare('startup', { label: 'node -e 0', args: ['-e', '0'] }, { label: 'ollama-tls --version', args: [BIN, '--version'] }, 1.5);

const dir = path.join(ROOT, 'fixtures/scenarios/valid-rsa');
const host = (JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as { host: string }).host;
const server = await startServer(dir);
try {
  const handshake = `const s=require('tls').connect({host:'127.0.0.1',port:${server.port},servername:'${host}',rejectUnauthorized:false},()=>s.destroy())`;
  compare(
    'loopback doctor (one target, four views)',
    { label: 'node: one TLS handshake, nothing else', args: ['-e', handshake] },
    { label: 'ollama-tls doctor --json', args: [BIN, 'doctor', `${host}:${server.port}`, '--resolve', `${host}:${server.port}:127.0.0.1`, '--json'] },
    1.5,
    { ...process.env, SSL_CERT_FILE: path.join(dir, 'ca.pem'), NO_COLOR: '1' },
  );
} finally {
  server.stop();
}

/** explain over a large log piped to standard input: wall time and peak RSS (issue 3: flat memory on 1 GiB). */
async function explainLargeLog(bytes: number): Promise<void> {
  const filler = 'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01Z level=INFO source=server.go:613 msg="llama runner started in 3.21 seconds"\n';
  const problem = 'Nov 22 10:00:02 gpu1 ollama[812]: level=ERROR error="pull model manifest: Get \\"https://registry.ollama.ai/v2/library/x/manifests/latest\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"\n';
  const block = Buffer.from(filler.repeat(2000) + problem);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M', process.execPath, BIN, 'explain', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  let sent = 0;
  while (sent < bytes) {
    if (!child.stdin.write(block)) await new Promise((r) => child.stdin.once('drain', r));
    sent += block.length;
  }
  child.stdin.end();
  const code = await done;
  const seconds = (performance.now() - t0) / 1000;
  const findings = (JSON.parse(out) as { findings: { count: number }[] }).findings;
  const rssMiB = Number(err.trim().split('\n').pop()) / 1024;
  console.log(`explain over a ${(bytes / 2 ** 30).toFixed(1)} GiB log on standard input`);
  console.log(`  exit ${code}, ${findings.length} finding(s), ${findings[0]?.count ?? 0} matching lines`);
  console.log(`  ${seconds.toFixed(1)} s (${(bytes / 2 ** 20 / seconds).toFixed(0)} MiB/s), peak RSS ${rssMiB.toFixed(0)} MiB\n`);
}

await explainLargeLog(Number(process.env.BENCH_LOG_BYTES ?? 2 ** 30));
