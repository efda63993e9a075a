// "Ollama itself": is a server answering where the CLI looks (OLLAMA_HOST), which version, is it
// open to the network without credentials, and does the server process (not the shell that runs
// `ollama pull`) have the proxy and roots the pull needs, loaded after the last trust change.
//
// Where each fact comes from, most trusted first: the running `ollama serve` (/proc), the systemd
// unit that starts it (the tree), the current shell (only when neither is known).
import { redactEnvValue } from '../platform/redact.js';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { statSync } from 'node:fs';
import type { Finding, Fix } from '../diagnose/finding.js';
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
function get(h: OllamaHost, path: string, timeoutMs: number): Promise<Answer> {
  const addr = clientAddress(h);
  const mod = h.scheme === 'https' ? https : http;
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

const joinPath = (base: string, p: string) => `${base.replace(/\/+$/, '')}${p}`;

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

const first = (env: ServerEnv, ...names: string[]) => names.map((n) => ({ n, s: env.get(n) })).find((x) => x.s && x.s.value !== '');

// ---------------------------------------------------------------------------------------------
// Fixes shared by the findings.

const UPGRADE_FIXES: Fix[] = [
  { title: 'Upgrade Ollama on Linux (the install script replaces the binary and keeps the service), then restart it', command: 'curl -fsSL https://ollama.com/install.sh | sh', side: 'server' },
  { title: 'In Docker: pull the current image and recreate the container (models live in the volume)', command: 'docker pull ollama/ollama && docker compose up -d   # or: docker rm -f ollama && docker run ... ollama/ollama', side: 'server' },
  { title: 'On macOS and Windows: update from the app menu, or download the installer', command: 'https://ollama.com/download', side: 'server' },
];

const NGINX_SNIPPET = [
  'server {',
  '    listen 443 ssl;',
  '    server_name ollama.example.com;',
  '    ssl_certificate     /etc/ssl/ollama/fullchain.pem;',
  '    ssl_certificate_key /etc/ssl/ollama/privkey.pem;',
  '    location / {',
  '        auth_basic           "Ollama";',
  '        auth_basic_user_file /etc/nginx/ollama.htpasswd;   # htpasswd -c /etc/nginx/ollama.htpasswd alice',
  '        proxy_pass           http://127.0.0.1:11434;',
  '        proxy_set_header     Host localhost:11434;          # Ollama on loopback refuses other Host names (403)',
  '        proxy_buffering      off;                           # stream tokens as they come',
  '        proxy_read_timeout   600s;',
  '    }',
  '}',
].join('\n');

const CADDY_SNIPPET = [
  'ollama.example.com {',
  '    basic_auth {',
  '        alice <hash from: caddy hash-password>',
  '    }',
  '    reverse_proxy 127.0.0.1:11434 {',
  '        header_up Host localhost:11434',
  '    }',
  '}',
  '# or a bearer token instead of basic_auth (for API clients that send a header):',
  '#   @noToken not header Authorization "Bearer <long random token>"',
  '#   respond @noToken 401',
].join('\n');

/** Shared with doctor: an Ollama (local server or an upstream target) that answers /api/version to anyone on a non-loopback address. */
export function exposedFinding(url: string, evidence: string[]): Finding {
  return {
    code: 'ollama-exposed', severity: 'error',
    title: `Ollama at ${url} answers without credentials on a non-loopback address`,
    detail:
      'Ollama has no authentication of its own: anyone who can reach this port can list, pull, push and delete models, upload files ' +
      '(/api/blobs, /api/create), run inference on your hardware, and reach every server bug not yet fixed. Keep it on loopback and, ' +
      'for remote use, put a reverse proxy that asks for credentials in front (or reach it over a VPN / SSH tunnel).',
    evidence,
    fixes: [
      { title: 'Bind the service to loopback, then restart it', command: 'sudo systemctl edit ollama   # add: [Service] Environment="OLLAMA_HOST=127.0.0.1:11434"  then: sudo systemctl restart ollama', side: 'server' },
      { title: 'In Docker, publish the port on loopback only', command: 'docker run -d -p 127.0.0.1:11434:11434 -v ollama:/root/.ollama --name ollama ollama/ollama', side: 'server' },
      { title: 'For remote clients: nginx with basic auth in front of the loopback-only server', command: NGINX_SNIPPET, side: 'server' },
      { title: 'Or Caddy with basic auth (or a bearer-token check) in front of it; the ollama CLI sends no credentials, so use it on the server itself or through an SSH tunnel', command: CADDY_SNIPPET, side: 'server' },
    ],
  };
}

/** Shared with doctor: the advisories an Ollama version is affected by, as one finding (none when clean or unknown). */
export function versionFindings(url: string, version: string): Finding[] {
  const hits = advisoriesFor(version);
  return hits?.length ? [vulnerableFinding(url, version, hits)] : [];
}

function vulnerableFinding(url: string, version: string, hits: Advisory[]): Finding {
  const serious = hits.some((a) => a.codeExecution || a.severity === 'critical');
  return {
    code: 'ollama-version-vulnerable', severity: serious ? 'error' : 'warning',
    title: `Ollama ${version} is affected by ${hits.length} published security advisor${hits.length === 1 ? 'y' : 'ies'}`,
    detail:
      hits.map((a) => `${a.id} (${a.severity}${a.codeExecution ? ', code execution' : ''}, ${affectedRange(a)}): ${a.summary}.`).join(' ') +
      (hits.some((a) => a.confidence === 'partial') ? ` Notes: ${hits.filter((a) => a.note).map((a) => `${a.id}: ${a.note}`).join('; ')}.` : ''),
    evidence: [`GET ${joinPath(url, '/api/version')} -> {"version":"${version}"}`, ...hits.map((a) => `${a.id}: ${a.source}`)],
    fixes: UPGRADE_FIXES,
  };
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

function restartFinding(proc: OllamaProcess, service: SystemdService | undefined, changed: string[], configChanged: boolean): Finding {
  const systemd = Boolean(service && !proc.container && (proc.unit === undefined || proc.unit === service.name));
  const fix: Fix = proc.container
    ? { title: 'Restart the container that runs it (docker ps shows its name)', command: 'docker restart ollama', side: 'server' }
    : systemd
      ? { title: 'Restart the service so it reads its settings and the roots again', command: `${configChanged ? 'sudo systemctl daemon-reload && ' : ''}sudo systemctl restart ollama`, side: 'client' }
      : { title: `Stop ollama serve (pid ${proc.pid}) and start it again (or quit and reopen the Ollama app)`, command: `kill ${proc.pid}   # then: ollama serve`, side: 'client' };
  return {
    code: 'ollama-restart-needed', severity: 'warning',
    title: `ollama serve (pid ${proc.pid}) started before the ${configChanged ? 'settings or trust store changed' : 'trust store changed'}`,
    detail:
      'Go loads the system roots once, the first time the process verifies a certificate, and keeps them until it exits; systemd likewise ' +
      'applies a unit\'s Environment only when it starts the process. The running server still works from the old state, so a CA you just ' +
      'trusted (or a proxy you just configured) does not reach `ollama pull` until the server restarts.',
    evidence: [`pid ${proc.pid} started ${proc.startedAt}`, ...changed],
    fixes: [fix],
  };
}

export async function checkOllama(opts: CheckOllamaOptions): Promise<{ report: OllamaReport; findings: Finding[] }> {
  const { fs, env } = opts;
  const findings: Finding[] = [];
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
      if (hits.length) findings.push(vulnerableFinding(url, report.version, hits));
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
    findings.push(exposedFinding(url, [
      `GET ${joinPath(url, '/api/version')} -> ${versionAnswer?.status}${report.version ? ` {"version":"${report.version}"}` : ''} without credentials`,
      `listens on ${ollamaUrl(bind)}: ${report.bind.source}`,
    ]));
  }

  // 5. Browsers: OLLAMA_ORIGINS="*" (or scheme://*) lets any web page call the API.
  const origins = server.get('OLLAMA_ORIGINS');
  if (origins) {
    const entries = origins.value.split(',').map((s) => s.trim()).filter(Boolean);
    // Ollama's defaults already hold app://*, file://*, tauri://* and the like; only a wildcard over
    // web origins lets arbitrary pages in.
    const open = entries.filter((o) => o === '*' || /^https?:\/\/\*(?::[\d*]+)?$/i.test(o));
    report.origins = { value: origins.value, source: origins.source, open: open.length > 0 };
    if (open.length) {
      findings.push({
        code: 'ollama-origins-open', severity: 'warning',
        title: `OLLAMA_ORIGINS allows every web page (${open.join(', ')})`,
        detail:
          'Ollama adds these origins to its CORS allow-list; "*" (or "https://*") lets any page open in a browser that can reach the server ' +
          'call the API with the browser as a relay: read your models and prompts, run inference, pull or delete models. List only the ' +
          'origins of the apps that need it.',
        evidence: [`OLLAMA_ORIGINS=${origins.value} (${origins.source})`],
        fixes: [{ title: 'Name the origins instead (comma-separated), then restart', command: 'sudo systemctl edit ollama   # [Service] Environment="OLLAMA_ORIGINS=https://app.example.com"', side: 'server' }],
      });
    }
  }

  // 6. The server's proxy and roots, compared with the shell's.
  if (server.origin !== 'shell') findings.push(...environmentFindings(fs, server, service, env));

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
    if (changed.length || config.length || drift.length) findings.push(restartFinding(p, service, [...changed, ...config, ...drift], config.length + drift.length > 0));
  }
  return { report, findings };
}

/** The server's HTTPS_PROXY and SSL_CERT_FILE against the shell's; a cert file that is not there. */
function environmentFindings(fs: RootFs, server: ServerEnv, service: SystemdService | undefined, shell: NodeJS.ProcessEnv): Finding[] {
  const out: Finding[] = [];
  const proxy = first(server, 'HTTPS_PROXY', 'https_proxy');
  const cert = first(server, 'SSL_CERT_FILE');
  const shellProxyName = ['HTTPS_PROXY', 'https_proxy'].find((n) => shell[n]);
  const shellCert = shell.SSL_CERT_FILE;
  const edit = service ? 'sudo systemctl edit ollama' : undefined;
  const say = (x: { n: string; s?: Setting } | undefined, name: string) =>
    x ? `${x.n}=${redactValue(x.n, x.s!.value)} (${x.s!.source})` : `${name} not set`;

  out.push({
    code: 'ollama-service-env', severity: 'info',
    title: `ollama serve has ${proxy ? 'an HTTPS proxy' : 'no HTTPS proxy'} and ${cert ? 'its own SSL_CERT_FILE' : 'the default roots'}`,
    detail:
      `\`ollama pull\` only asks the server to download; the server (${server.describe}) opens the registry connections with its own ` +
      'environment, never your shell\'s. This is what it has.',
    evidence: [
      say(proxy, 'HTTPS_PROXY'), say(cert, 'SSL_CERT_FILE'),
      `this shell: ${shellProxyName ? `${shellProxyName}=${redactValue(shellProxyName, shell[shellProxyName]!)}` : 'no HTTPS_PROXY'}, ${shellCert ? `SSL_CERT_FILE=${shellCert}` : 'no SSL_CERT_FILE'}`,
    ],
    fixes: [],
  });

  if (shellProxyName && !proxy) {
    const noProxy = shell.NO_PROXY ?? shell.no_proxy;
    const lines = [`Environment="HTTPS_PROXY=${redactValue('HTTPS_PROXY', shell[shellProxyName]!)}"`, ...(noProxy ? [`Environment="NO_PROXY=${noProxy}"`] : [])];
    out.push({
      code: 'ollama-proxy-env', severity: 'warning',
      title: `This shell has ${shellProxyName}, but ollama serve does not`,
      detail:
        `Commands you run here go through the proxy; the Ollama server, which makes the pull's registry connections, does not, so on a ` +
        'network that only lets HTTPS out through the proxy `ollama pull` times out or is refused. Give the server the same proxy (and ' +
        'leave HTTP_PROXY out).',
      evidence: [`${shellProxyName}=${redactValue(shellProxyName, shell[shellProxyName]!)} (shell)`, `HTTPS_PROXY not set for ${server.describe}`],
      fixes: [
        edit
          ? { title: `Add it to the service (${edit} opens an override file), then restart`, command: `${edit}   # add:\n[Service]\n${lines.join('\n')}\n# then: sudo systemctl restart ollama`, side: 'client' }
          : { title: 'Start ollama serve from a shell that exports the proxy', command: `HTTPS_PROXY=${redactValue('HTTPS_PROXY', shell[shellProxyName]!)} ollama serve`, side: 'client' },
      ],
    });
  }

  if (shellCert && !cert) {
    out.push({
      code: 'ollama-service-env', severity: 'warning',
      title: 'SSL_CERT_FILE is set in this shell but not for ollama serve',
      detail: 'The CLI does no TLS for a pull; the server does, with the system roots. Either trust the CA in the OS store (and restart Ollama), or give the server the variable.',
      evidence: [`SSL_CERT_FILE=${shellCert} (shell)`, `SSL_CERT_FILE not set for ${server.describe}`],
      fixes: [edit
        ? { title: 'Set it in the service, then restart', command: `${edit}   # add:\n[Service]\nEnvironment="SSL_CERT_FILE=${shellCert}"\n# then: sudo systemctl restart ollama`, side: 'client' }
        : { title: 'Start ollama serve with it', command: `SSL_CERT_FILE=${shellCert} ollama serve`, side: 'client' }],
    });
  }

  if (cert && !fs.exists(cert.s!.value)) {
    out.push({
      code: 'ollama-cert-file-missing', severity: 'error',
      title: `SSL_CERT_FILE for ollama serve names a file that does not exist: ${cert.s!.value}`,
      detail:
        'Go reads SSL_CERT_FILE instead of the system bundle; when it is missing Go silently falls back to the certificate directories ' +
        '(/etc/ssl/certs, /etc/pki/tls/certs), so whatever CA that file was meant to add is not trusted, and on systems with no such ' +
        'directory there are no roots at all ("certificate signed by unknown authority").',
      evidence: [`SSL_CERT_FILE=${cert.s!.value} (${cert.s!.source})`, `${cert.s!.value}: no such file`],
      fixes: [{ title: 'Point it at a bundle that exists (OS roots plus your CA), or remove the setting and trust the CA in the OS store; then restart', command: edit ? `${edit}   # fix or remove Environment="SSL_CERT_FILE=..."; then: sudo systemctl restart ollama` : undefined, side: 'client' }],
    });
  }
  return out;
}
