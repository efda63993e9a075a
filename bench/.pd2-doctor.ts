import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { paired, summary } from './paired.js';
const ROOT = path.resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const bins = (process.env.BINS ?? path.join(ROOT, 'bin/ollama-tls.js')).split(',');
const dir = path.join(ROOT, 'fixtures/scenarios/valid-rsa');
const host = (JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as { host: string }).host;
const code = `const tls=require('tls'),fs=require('fs'),path=require('path');const d=${JSON.stringify(dir)};const s=tls.createServer({key:fs.readFileSync(path.join(d,'key.pem')),cert:fs.readFileSync(path.join(d,'chain.pem'))},(c)=>{c.on('error',()=>{});c.end();});s.on('tlsClientError',()=>{});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
const child = spawn(NODE, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
const env = { ...process.env, SSL_CERT_FILE: path.join(dir, 'ca.pem'), NO_COLOR: '1' };
const handshake = `const s=require('tls').connect({host:'127.0.0.1',port:${port},servername:'${host}',rejectUnauthorized:false},()=>{s.getPeerCertificate(true);s.destroy()})`;
const figs = [];
try {
  for (let round = 0; round < Number(process.env.ROUNDS ?? 1); round++)
  for (const bin of bins) figs.push(await paired(`doctor ${bin}`, { argv: [NODE, bin, 'doctor', `${host}:${port}`, '--resolve', `${host}:${port}:127.0.0.1`, '--json'], env }, { argv: [NODE, '-e', handshake], env }, 1.3, RUNS, 2));
} finally { child.kill(); }
summary(figs);
