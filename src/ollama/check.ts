// "Ollama itself": is a server answering where the CLI looks (OLLAMA_HOST), which version, is it
// open to the network without credentials, and does the server process (not the shell that runs
// `ollama pull`) have the proxy and roots the pull needs, loaded after the last trust change.
//
// Where each fact comes from, most trusted first: the running `ollama serve` (/proc), the systemd
// unit that starts it (the tree), the current shell (only when neither is known).
import { redactEnvValue } from '../platform/redact.js';
import net from 'node:net';
import { statSync } from 'node:fs';
import { RootFs, type DirTree } from '../platform/rootfs.js';
import { GO_CERT_FILES } from '../trust/store-paths.js';
import { advisoriesFor, affectedRange, type Advisory } from './advisories.js';
import { clientAddress, isPublicBind, ollamaUrl, parseOllamaHost, type OllamaHost } from './host.js';
import { findOllamaServers, SERVER_ENV_NAMES, type OllamaProcess } from './server-process.js';
import { readSystemdService, type SystemdService } from './systemd.js';

export interface CheckOllamaOptions {
  fs: DirTree;
  env: NodeJS.ProcessEnv;
  now: Date;
  timeoutMs: number;
  /** Where /proc is; default /proc on Linux when `fs` is this machine's root (a --root tree has no processes). */
  procDir?: string;
  /** Files whose change means Go's cached roots are stale; default: the bundle Go reads plus SSL_CERT_FILE. */
  trustFiles?: string[];
}

export interface EnvEntry {
  name: string;
  /** Proxy passwords are printed as ***. */
  value: string;
  source: string;
}

/** A setting of the server's environment, where it was read. */
export interface ServerSetting {
  name: string;
  value: string;
  source: string;
}

/**
 * What checkOllama saw that means a finding (diagnose/ollama-findings.ts words it), in the
 * order found. Values are raw: redacted where they are shown.
 */
export type OllamaObservation =
  | { kind: 'vulnerable'; url: string; version: string; advisories: Advisory[] }
  | { kind: 'exposed'; url: string; evidence: string[] }
  /** OLLAMA_ORIGINS holds wildcards over web origins (`open`). */
  | { kind: 'origins-open'; open: string[]; setting: ServerSetting }
  | {
      kind: 'server-env';
      /** Whose environment this is, in words. */
      server: string;
      /** A systemd unit starts the server (its settings go in an override). */
      systemd: boolean;
      proxy?: ServerSetting;
      /** SSL_CERT_FILE, and whether the file is there (in the tree). */
      cert?: ServerSetting & { exists: boolean };
      shell: NodeJS.ProcessEnv;
    }
  /** A server process started before the trust store or its settings changed. */
  | { kind: 'restart'; proc: OllamaProcess; service: SystemdService | undefined; changed: string[]; configChanged: boolean };

export interface OllamaReport {
  host: { raw: string | null; url: string; public: boolean };
  reachable: boolean;
  /** HTTP status of GET /api/version, when anything answered. */
  status?: number;
  /** GET / said "Ollama is running". */
  running?: boolean;
  version: string | null;
  /** Why nothing answered (connection refused, timeout...): a note, not a failure. */
  error?: string;
  notes: string[];
  /** Where the server listens, and which setting says so. */
  bind?: { host: string; port: number; public: boolean; source: string };
  advisories?: { id: string; severity: string; range: string; summary: string; url: string }[];
  service?: { unit: string; masked: boolean; dropIns: string[]; environmentFiles: { path: string; status: string }[]; env: EnvEntry[]; notes: string[] };
  processes?: { pid: number; startedAt: string | null; unit?: string; container: boolean; envReadable: boolean; env: EnvEntry[] }[];
  origins?: { value: string; source: string; open: boolean };
}

// ---------------------------------------------------------------------------------------------
// HTTP: the two requests the CLI's own heartbeat and `ollama -v` make, without credentials.

interface Answer {
  status: number;
  body: string;
}

const BODY_LIMIT = 64 * 1024;

function hostHeader(h: OllamaHost): string {
  const host = h.host.includes(':') ? `[${h.host}]` : h.host || '0.0.0.0';
  return `${host}:${h.port}`;
}

/** GET with no proxy and no credentials; https (a proxy named in OLLAMA_HOST) is not verified here: the TLS views do that. */
async function get(h: OllamaHost, path: string, timeoutMs: number): Promise<Answer> {
  const addr = clientAddress(h);
  // Loaded here: a doctor run on a target alone never asks the local Ollama (node:http is ~1 ms).
  const mod = h.scheme === 'https' ? (await import('node:https')).default : (await import('node:http')).default;
  return new Promise((resolve, reject) => {
    const req = mod.request({
      host: addr, port: h.port, path, method: 'GET', agent: false,
      headers: { Host: hostHeader(h), 'User-Agent': 'ollama-tls', Accept: 'application/json' },
      ...(h.scheme === 'https' ? { rejectUnauthorized: false, servername: net.isIP(h.host) ? undefined : h.host } : {}),
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk;
      });
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, body }); });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.end();
  });
}

export const joinPath = (base: string, p: string) => `${base.replace(/\/+$/, '')}${p}`;

// ---------------------------------------------------------------------------------------------
// The server's environment: the process when we can read it, else the unit, else the shell.

interface Setting {
  value: string;
  source: string;
}

interface ServerEnv {
  origin: 'process' | 'service' | 'shell';
  get(name: string): Setting | undefined;
  describe: string;
}

function serverEnvironment(proc: OllamaProcess | undefined, service: SystemdService | undefined, shell: NodeJS.ProcessEnv): ServerEnv {
  if (proc?.envReadable && !proc.container) {
    return { origin: 'process', describe: `the running ollama serve (pid ${proc.pid})`, get: (n) => (proc.env[n] !== undefined ? { value: proc.env[n]!, source: `/proc/${proc.pid}/environ` } : undefined) };
  }
  if (service && !service.masked) {
    return {
      origin: 'service', describe: `the ${service.name} unit`,
      get: (n) => {
        const a = service.env[n];
        return a ? { value: a.value, source: `${a.source}:${a.line}` } : undefined;
      },
    };
  }
  return { origin: 'shell', describe: 'this shell (no service or running server was found)', get: (n) => (shell[n] !== undefined ? { value: shell[n]!, source: 'shell' } : undefined) };
}

/** Passwords in proxy URLs become *** (platform/redact.ts, the one redaction for the whole tool). */
export const redactValue = redactEnvValue;

/** The first of the names set to a non-empty value. */
function first(env: ServerEnv, ...names: string[]): ServerSetting | undefined {
  for (const name of names) {
    const s = env.get(name);
    if (s && s.value !== '') return { name, ...s };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

function mtime(fs: RootFs, p: string): number | undefined {
  try {
    return statSync(fs.resolve(p)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Go's bundle on Linux: SSL_CERT_FILE when set, else the first file of its list that exists. */
function goBundle(fs: RootFs, sslCertFile: string | undefined): string[] {
  if (sslCertFile) return [sslCertFile];
  const found = GO_CERT_FILES.find((f) => fs.exists(f));
  return found ? [found] : [];
}

export async function checkOllama(opts: CheckOllamaOptions): Promise<{ report: OllamaReport; observations: OllamaObservation[] }> {
  const { fs, env } = opts;
  const observations: OllamaObservation[] = [];
  const target = parseOllamaHost(env.OLLAMA_HOST);
  const url = ollamaUrl(target);
  const report: OllamaReport = { host: { raw: target.raw ?? null, url, public: target.public }, reachable: false, version: null, notes: [] };

  // 1. Ask the server, as the CLI would.
  let versionAnswer: Answer | undefined;
  try {
    versionAnswer = await get(target, joinPath(target.path, '/api/version'), opts.timeoutMs);
    report.reachable = true;
    report.status = versionAnswer.status;
    if (versionAnswer.status === 200) {
      try {
        const v = (JSON.parse(versionAnswer.body) as { version?: unknown }).version;
        if (typeof v === 'string') report.version = v;
      } catch {
        report.notes.push(`${joinPath(url, '/api/version')} answered 200 but not with Ollama's JSON`);
      }
    } else if ([401, 403, 407].includes(versionAnswer.status)) {
      report.notes.push(`${joinPath(url, '/api/version')} answered ${versionAnswer.status}: something in front asks for credentials (or Ollama refused the Host name)`);
    }
    try {
      const root = await get(target, joinPath(target.path, '/'), opts.timeoutMs);
      report.running = root.status === 200 && root.body.trim() === 'Ollama is running';
    } catch {
      // The version answer already says enough.
    }
  } catch (e) {
    report.error = (e as Error).message;
    report.notes.push(`Nothing answers at ${url} (${report.error}); fine if Ollama runs elsewhere or is stopped`);
  }

  // 2. What starts the server, and the server itself.
  const service = readSystemdService(fs);
  const scanProcesses = opts.procDir !== undefined || (process.platform === 'linux' && fs.isHostRoot);
  const procs = scanProcesses ? findOllamaServers(opts.procDir ?? '/proc').filter((p) => !p.startedAt || Date.parse(p.startedAt) <= opts.now.getTime() + 60_000) : [];
  const mainProc = procs.find((p) => !p.container && p.unit === service?.name) ?? procs.find((p) => !p.container) ?? procs[0];
  const server = serverEnvironment(mainProc, service, env);

  if (service) {
    report.service = {
      unit: service.unit, masked: service.masked, dropIns: service.dropIns,
      environmentFiles: service.environmentFiles.map((f) => ({ path: f.path, status: f.status })),
      env: SERVER_ENV_NAMES.filter((n) => service.env[n]).map((n) => ({ name: n, value: redactValue(n, service.env[n]!.value), source: `${service.env[n]!.source}:${service.env[n]!.line}` })),
      notes: service.notes,
    };
  }
  if (scanProcesses) {
    report.processes = procs.map((p) => ({
      pid: p.pid, startedAt: p.startedAt, ...(p.unit ? { unit: p.unit } : {}), container: p.container, envReadable: p.envReadable,
      env: Object.entries(p.env).map(([name, value]) => ({ name, value: redactValue(name, value), source: `/proc/${p.pid}/environ` })),
    }));
  }

  // 3. Version against the advisories.
  if (report.version) {
    const hits = advisoriesFor(report.version);
    if (hits === null) {
      report.notes.push(`Version "${report.version}" is a development build or unreadable: advisories not checked`);
    } else {
      report.advisories = hits.map((a) => ({ id: a.id, severity: a.severity, range: affectedRange(a), summary: a.summary, url: a.source }));
      if (hits.length) observations.push({ kind: 'vulnerable', url, version: report.version, advisories: hits });
    }
  }

  // 4. Exposure: answered without credentials, and listening where others can reach it. A target
  // that is not this machine's loopback was reached over the network, which settles it.
  const loopbackTarget = !isPublicBind(clientAddress(target));
  const bindSetting = loopbackTarget ? server.get('OLLAMA_HOST') : { value: target.raw ?? '', source: 'this shell, reached over the network' };
  const bind = loopbackTarget ? parseOllamaHost(bindSetting?.value) : target;
  report.bind = { host: bind.host, port: bind.port, public: bind.public, source: bindSetting ? `OLLAMA_HOST=${bindSetting.value} (${bindSetting.source})` : `default: OLLAMA_HOST is not set for ${server.describe}` };
  const openAnswer = (versionAnswer?.status === 200 && report.version !== null) || report.running === true;
  if (procs.some((p) => p.container)) {
    report.notes.push('An ollama serve runs in a container: who can reach it depends on the published port (docker ps; "-p 11434:11434" listens on every interface, "-p 127.0.0.1:11434:11434" on loopback only)');
  }
  if (openAnswer && bind.public) {
    observations.push({ kind: 'exposed', url, evidence: [
      `GET ${joinPath(url, '/api/version')} -> ${versionAnswer?.status}${report.version ? ` {"version":"${report.version}"}` : ''} without credentials`,
      `listens on ${ollamaUrl(bind)}: ${report.bind.source}`,
    ] });
  }

  // 5. Browsers: OLLAMA_ORIGINS="*" (or scheme://*) lets any web page call the API.
  const origins = server.get('OLLAMA_ORIGINS');
  if (origins) {
    const entries = origins.value.split(',').map((s) => s.trim()).filter(Boolean);
    // Ollama's defaults already hold app://*, file://*, tauri://* and the like; only a wildcard over
    // web origins lets arbitrary pages in.
    const open = entries.filter((o) => o === '*' || /^https?:\/\/\*(?::[\d*]+)?$/i.test(o));
    report.origins = { value: origins.value, source: origins.source, open: open.length > 0 };
    if (open.length) observations.push({ kind: 'origins-open', open, setting: { name: 'OLLAMA_ORIGINS', ...origins } });
  }

  // 6. The server's proxy and roots, compared with the shell's.
  if (server.origin !== 'shell') {
    const proxy = first(server, 'HTTPS_PROXY', 'https_proxy');
    const cert = first(server, 'SSL_CERT_FILE');
    observations.push({
      kind: 'server-env', server: server.describe, systemd: service !== undefined, shell: env,
      ...(proxy ? { proxy } : {}), ...(cert ? { cert: { ...cert, exists: fs.exists(cert.value) } } : {}),
    });
  }

  // 7. Started before the trust store (or its settings) changed?
  for (const p of procs) {
    if (!p.startedAt) continue;
    const started = Date.parse(p.startedAt);
    const sslFile = p.envReadable ? p.env.SSL_CERT_FILE : service?.env.SSL_CERT_FILE?.value;
    let where = fs;
    if (p.container) {
      where = new RootFs(`${opts.procDir ?? '/proc'}/${p.pid}/root`); // the container's own files, when we may look
      if (!where.exists('/etc')) continue;
    }
    const files = [...new Set([...(opts.trustFiles ?? goBundle(where, undefined)), ...(sslFile ? goBundle(where, sslFile) : [])])];
    const changed = files.flatMap((f) => {
      const m = mtime(where, f);
      return m !== undefined && m > started ? [`${f} changed ${new Date(m).toISOString()}`] : [];
    });
    const ownService = service && !p.container && (p.unit === undefined || p.unit === service.name) ? service : undefined;
    const config = (ownService?.files ?? []).flatMap((f) => {
      const m = mtime(fs, f);
      return m !== undefined && m > started ? [`${f} changed ${new Date(m).toISOString()}`] : [];
    });
    const drift = ownService && p.envReadable
      ? SERVER_ENV_NAMES.filter((n) => (ownService.env[n]?.value ?? '') !== (p.env[n] ?? '')).map((n) =>
        `${n}: the unit says ${ownService.env[n] ? `"${redactValue(n, ownService.env[n]!.value)}"` : 'nothing'}, the running server has ${p.env[n] !== undefined ? `"${redactValue(n, p.env[n]!)}"` : 'nothing'}`)
      : [];
    if (changed.length || config.length || drift.length) observations.push({ kind: 'restart', proc: p, service, changed: [...changed, ...config, ...drift], configChanged: config.length + drift.length > 0 });
  }
  return { report, observations };
}
