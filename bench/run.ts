// `npm run bench` (with bench/image.ts): every figure of issue 17 as a ratio A/B from paired runs
// of whole processes (bench/paired.ts), against the same peers each time:
//   --version, --help              / node -e 0
//   doctor, one loopback target    / a bare Node script: tls.connect + getPeerCertificate
//   explain --file, 200 MiB log    / grep -cE with 50 alternatives over the same file
// then issue 3's check: explain over 1 GiB on standard input keeps a flat peak RSS.
// BENCH_RUNS pairs per figure (default 15); BENCH_EXPLAIN_MIB (default 200); BENCH_LOG_BYTES
// (default 1 GiB; 0 skips it); BENCH_DIR for the log file (default the system's temp directory).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { paired, summary, type Figure } from './paired.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// BENCH_BIN: another build's launcher (a checkout before a change), for before/after figures.
const BIN = process.env.BENCH_BIN ?? path.join(ROOT, 'bin/ollama-tls.js');
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** A TLS server in its own process, so that the timed children do not share this event loop. */
async function startServer(dir: string): Promise<{ port: number; stop: () => void }> {
  const code = `
    const tls = require('tls'), fs = require('fs'), path = require('path');
    const d = ${JSON.stringify(dir)};
    const s = tls.createServer({ key: fs.readFileSync(path.join(d, 'key.pem')), cert: fs.readFileSync(path.join(d, 'chain.pem')) }, (c) => { c.on('error', () => {}); c.end(); });
    s.on('tlsClientError', () => {});
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(NODE, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (c) => reject(new Error(`bench server exited (${c})`)));
  });
  return { port, stop: () => child.kill() };
}

// A realistic Ollama journal: server lines, request lines, library loading that names libssl
// (which every TLS keyword gate lets through), and now and then a TLS failure.
const LOG_LINES = [
  'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01.512Z level=INFO source=server.go:613 msg="llama runner started in 3.21 seconds"',
  'Nov 22 10:00:01 gpu1 ollama[812]: [GIN] 2026/11/22 - 10:00:01 | 200 |  1.204512ms |       127.0.0.1 | POST     "/api/generate"',
  'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01.530Z level=DEBUG source=gpu.go:406 msg="dlopen" library=/usr/lib/x86_64-linux-gnu/libssl.so.3 handle=0x7f3a2c000b70',
  'Nov 22 10:00:01 gpu1 ollama[812]: llama_model_loader: - kv  12:                       tokenizer.ggml.model str              = gpt2',
  'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01.611Z level=INFO source=sched.go:714 msg="new model will fit in available VRAM in single GPU, loading" model=/root/.ollama/models/blobs/sha256-6a0746a1ec1a parallel=4',
  'Nov 22 10:00:01 gpu1 ollama[812]: ggml_cuda_init: found 1 CUDA devices: Device 0: NVIDIA A10G, compute capability 8.6, VMM: yes',
];
const LOG_PROBLEM = 'Nov 22 10:00:02 gpu1 ollama[812]: time=2026-11-22T10:00:02Z level=ERROR source=images.go:712 msg="pull model manifest" error="Get \\"https://registry.ollama.ai/v2/library/x/manifests/latest\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"';

/** Fifty fixed alternatives, the kind of keyword list a grep for TLS trouble in a log uses. */
const GREP_WORDS = [
  'x509', 'certificate', 'handshake', 'unknown authority', 'expired', 'not yet valid', 'self signed', 'self-signed',
  'SELF_SIGNED', 'UNABLE_TO_GET', 'UNABLE_TO_VERIFY', 'CERT_HAS_EXPIRED', 'ERR_TLS', 'EPROTO', 'ECONNRESET', 'ECONNREFUSED',
  'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'hang up', 'wrong version number', 'alert', 'PKIX', 'SSLError', 'SSL_ERROR',
  'CERTIFICATE_VERIFY_FAILED', 'verify failed', 'no such host', 'connection refused', 'reset by peer', 'i/o timeout',
  'dial tcp', 'proxyconnect', 'Proxy', 'Tunnel connection failed', 'curl: ', 'SecPolicy', 'path length', 'key usage',
  'name mismatch', 'altnames', 'Hostname', 'is not valid for', 'valid for', 'subtree', 'critical extension',
  'too weak', 'forcibly closed', 'cURL error', 'model manifest',
];

function writeLog(file: string, bytes: number): void {
  const block = `${Array.from({ length: 2000 }, (_, i) => LOG_LINES[i % LOG_LINES.length]).join('\n')}\n${LOG_PROBLEM}\n`;
  const buf = Buffer.from(block.repeat(Math.max(1, Math.round(bytes / Buffer.byteLength(block)))));
  writeFileSync(file, buf);
}

/** explain over a large log piped to standard input: wall time and peak RSS (issue 3: flat memory on 1 GiB). */
async function explainLargeLog(bytes: number): Promise<void> {
  const block = Buffer.from(`${LOG_LINES.join('\n')}\n`.repeat(333) + `${LOG_PROBLEM}\n`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M', NODE, BIN, 'explain', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
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

console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), ${os.cpus().length} CPUs, ${RUNS} pairs per figure\n`);
const figures: Figure[] = [];
const idle = { argv: [NODE, '-e', '0'] };
const exitsWith = (want: number) => (code: number | null, _o: string, e: string) => {
  if (code !== want) throw new Error(`exit ${code} (wanted ${want}):\n${e}`);
};

figures.push(await paired('--version / node -e 0', { argv: [NODE, BIN, '--version'] }, idle, 1.1, RUNS * 2, 3));
figures.push(await paired('--help / node -e 0', { argv: [NODE, BIN, '--help'] }, idle, 1.2, RUNS * 2, 3));

const dir = path.join(ROOT, 'fixtures/scenarios/valid-rsa');
const host = (JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as { host: string }).host;
const server = await startServer(dir);
try {
  const env = { ...process.env, SSL_CERT_FILE: path.join(dir, 'ca.pem'), NO_COLOR: '1' };
  const handshake = `const s=require('tls').connect({host:'127.0.0.1',port:${server.port},servername:'${host}',rejectUnauthorized:false},()=>{s.getPeerCertificate(true);s.destroy()})`;
  figures.push(await paired(
    'doctor, one loopback target / bare tls.connect script',
    { argv: [NODE, BIN, 'doctor', `${host}:${server.port}`, '--resolve', `${host}:${server.port}:127.0.0.1`, '--json'], env },
    { argv: [NODE, '-e', handshake], env },
    1.3, RUNS, 2,
  ));
} finally {
  server.stop();
}

const work = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'ollama-tls-bench-'));
try {
  const mib = Number(process.env.BENCH_EXPLAIN_MIB ?? 200);
  const log = path.join(work, 'ollama.log');
  writeLog(log, mib << 20);
  figures.push(await paired(
    `explain --file, ${mib} MiB log / grep -cE, ${GREP_WORDS.length} alternatives`,
    { argv: [NODE, BIN, 'explain', '--file', log, '--json'], check: exitsWith(1) },
    { argv: ['grep', '-cE', GREP_WORDS.join('|'), log] },
    3, Math.max(3, Math.round(RUNS / 3)), 1,
  ));
} finally {
  rmSync(work, { recursive: true, force: true });
}

summary(figures);
const big = Number(process.env.BENCH_LOG_BYTES ?? 2 ** 30);
if (big > 0) await explainLargeLog(big);
