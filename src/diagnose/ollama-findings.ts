// Findings about Ollama itself, from what ollama/check.ts observed (server, service, process):
// exposure, vulnerable versions, open CORS origins, the server's proxy and roots, a restart due.
// The wording and the fixes live here; the observing lives in ollama/.
import { redactEnvValue } from '../platform/redact.js';
import { advisoriesFor, affectedRange, type Advisory } from '../ollama/advisories.js';
import { checkOllama, joinPath, type CheckOllamaOptions, type OllamaObservation, type OllamaReport, type ServerSetting } from '../ollama/check.js';
import type { OllamaProcess } from '../ollama/server-process.js';
import type { SystemdService } from '../ollama/systemd.js';
import type { Finding, Fix } from './finding.js';

/** Ollama checked as `checkOllama` observes it, with the findings its observations mean. */
export async function diagnoseOllama(opts: CheckOllamaOptions): Promise<{ report: OllamaReport; findings: Finding[] }> {
  const { report, observations } = await checkOllama(opts);
  return { report, findings: observations.flatMap(ollamaFindings) };
}

/** The findings one observation means, in the order checkOllama made them. */
export function ollamaFindings(o: OllamaObservation): Finding[] {
  switch (o.kind) {
    case 'vulnerable': return [vulnerableFinding(o.url, o.version, o.advisories)];
    case 'exposed': return [exposedFinding(o.url, o.evidence)];
    case 'origins-open': return [originsFinding(o.open, o.setting)];
    case 'server-env': return environmentFindings(o);
    case 'restart': return [restartFinding(o.proc, o.service, o.changed, o.configChanged)];
  }
}

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

function originsFinding(open: string[], origins: ServerSetting): Finding {
  return {
    code: 'ollama-origins-open', severity: 'warning',
    title: `OLLAMA_ORIGINS allows every web page (${open.join(', ')})`,
    detail:
      'Ollama adds these origins to its CORS allow-list; "*" (or "https://*") lets any page open in a browser that can reach the server ' +
      'call the API with the browser as a relay: read your models and prompts, run inference, pull or delete models. List only the ' +
      'origins of the apps that need it.',
    evidence: [`OLLAMA_ORIGINS=${origins.value} (${origins.source})`],
    fixes: [{ title: 'Name the origins instead (comma-separated), then restart', command: 'sudo systemctl edit ollama   # [Service] Environment="OLLAMA_ORIGINS=https://app.example.com"', side: 'server' }],
  };
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

/** The server's HTTPS_PROXY and SSL_CERT_FILE against the shell's; a cert file that is not there. */
function environmentFindings(o: Extract<OllamaObservation, { kind: 'server-env' }>): Finding[] {
  const out: Finding[] = [];
  const { server, proxy, cert, shell } = o;
  const shellProxyName = ['HTTPS_PROXY', 'https_proxy'].find((n) => shell[n]);
  const shellCert = shell.SSL_CERT_FILE;
  const edit = o.systemd ? 'sudo systemctl edit ollama' : undefined;
  const say = (x: ServerSetting | undefined, name: string) =>
    x ? `${x.name}=${redactEnvValue(x.name, x.value)} (${x.source})` : `${name} not set`;

  out.push({
    code: 'ollama-service-env', severity: 'info',
    title: `ollama serve has ${proxy ? 'an HTTPS proxy' : 'no HTTPS proxy'} and ${cert ? 'its own SSL_CERT_FILE' : 'the default roots'}`,
    detail:
      `\`ollama pull\` only asks the server to download; the server (${server}) opens the registry connections with its own ` +
      'environment, never your shell\'s. This is what it has.',
    evidence: [
      say(proxy, 'HTTPS_PROXY'), say(cert, 'SSL_CERT_FILE'),
      `this shell: ${shellProxyName ? `${shellProxyName}=${redactEnvValue(shellProxyName, shell[shellProxyName]!)}` : 'no HTTPS_PROXY'}, ${shellCert ? `SSL_CERT_FILE=${shellCert}` : 'no SSL_CERT_FILE'}`,
    ],
    fixes: [],
  });

  if (shellProxyName && !proxy) {
    const noProxy = shell.NO_PROXY ?? shell.no_proxy;
    const lines = [`Environment="HTTPS_PROXY=${redactEnvValue('HTTPS_PROXY', shell[shellProxyName]!)}"`, ...(noProxy ? [`Environment="NO_PROXY=${noProxy}"`] : [])];
    out.push({
      code: 'ollama-proxy-env', severity: 'warning',
      title: `This shell has ${shellProxyName}, but ollama serve does not`,
      detail:
        `Commands you run here go through the proxy; the Ollama server, which makes the pull's registry connections, does not, so on a ` +
        'network that only lets HTTPS out through the proxy `ollama pull` times out or is refused. Give the server the same proxy (and ' +
        'leave HTTP_PROXY out).',
      evidence: [`${shellProxyName}=${redactEnvValue(shellProxyName, shell[shellProxyName]!)} (shell)`, `HTTPS_PROXY not set for ${server}`],
      fixes: [
        edit
          ? { title: `Add it to the service (${edit} opens an override file), then restart`, command: `${edit}   # add:\n[Service]\n${lines.join('\n')}\n# then: sudo systemctl restart ollama`, side: 'client' }
          : { title: 'Start ollama serve from a shell that exports the proxy', command: `HTTPS_PROXY=${redactEnvValue('HTTPS_PROXY', shell[shellProxyName]!)} ollama serve`, side: 'client' },
      ],
    });
  }

  if (shellCert && !cert) {
    out.push({
      code: 'ollama-service-env', severity: 'warning',
      title: 'SSL_CERT_FILE is set in this shell but not for ollama serve',
      detail: 'The CLI does no TLS for a pull; the server does, with the system roots. Either trust the CA in the OS store (and restart Ollama), or give the server the variable.',
      evidence: [`SSL_CERT_FILE=${shellCert} (shell)`, `SSL_CERT_FILE not set for ${server}`],
      fixes: [edit
        ? { title: 'Set it in the service, then restart', command: `${edit}   # add:\n[Service]\nEnvironment="SSL_CERT_FILE=${shellCert}"\n# then: sudo systemctl restart ollama`, side: 'client' }
        : { title: 'Start ollama serve with it', command: `SSL_CERT_FILE=${shellCert} ollama serve`, side: 'client' }],
    });
  }

  if (cert && !cert.exists) {
    out.push({
      code: 'ollama-cert-file-missing', severity: 'error',
      title: `SSL_CERT_FILE for ollama serve names a file that does not exist: ${cert.value}`,
      detail:
        'Go reads SSL_CERT_FILE instead of the system bundle; when it is missing Go silently falls back to the certificate directories ' +
        '(/etc/ssl/certs, /etc/pki/tls/certs), so whatever CA that file was meant to add is not trusted, and on systems with no such ' +
        'directory there are no roots at all ("certificate signed by unknown authority").',
      evidence: [`SSL_CERT_FILE=${cert.value} (${cert.source})`, `${cert.value}: no such file`],
      fixes: [{ title: 'Point it at a bundle that exists (OS roots plus your CA), or remove the setting and trust the CA in the OS store; then restart', command: edit ? `${edit}   # fix or remove Environment="SSL_CERT_FILE=..."; then: sudo systemctl restart ollama` : undefined, side: 'client' }],
    });
  }
  return out;
}
