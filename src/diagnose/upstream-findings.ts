// What an upstream's HTTP answers say: who guards it (nginx auth_basic, a bearer check, Ollama's
// own Host check), whether the credentials worked, and whether Ollama is what answered.
import { header, headerAll, type HttpResponse } from '../probe/http.js';
import type { ProbeResult } from '../probe/probe.js';
import type { UpstreamRequest } from '../upstream/requests.js';
import { answerSummary, blockedFinding, stoppedFinding } from './pull-findings.js';
import { matchBlockPage } from './block-pages.js';
import type { Finding, Fix } from './finding.js';

export interface UpstreamReading {
  findings: Finding[];
  /** The Ollama version /api/version reported, when Ollama answered. */
  version?: string;
  /** /api/version answered 200 with no credentials sent. */
  openWithoutCredentials: boolean;
}

interface Challenge {
  scheme: string;
  realm?: string;
  raw: string;
}

/** `WWW-Authenticate: Basic realm="x", charset="UTF-8"` -> scheme and realm (one per header line). */
export function parseChallenges(values: string[]): Challenge[] {
  return values.map((raw) => {
    const scheme = raw.match(/^\s*([A-Za-z][\w-]*)/)?.[1] ?? raw;
    const realm = raw.match(/realm\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i);
    return { scheme, raw, ...(realm ? { realm: realm[1] ?? realm[2] } : {}) };
  });
}

/** What sits in front, read from the challenge and the Server header. */
function guardText(challenges: Challenge[], server: string | undefined): string {
  const front = server ? ` (Server: ${server})` : '';
  const c = challenges[0];
  if (!c) {
    return `A 401 without a WWW-Authenticate header: a custom check in front${front}, typically an nginx \`map\`/\`if\` on $http_authorization or an API gateway wanting a bearer token or API key.`;
  }
  if (/^basic$/i.test(c.scheme)) {
    return `HTTP Basic authentication${c.realm !== undefined ? ` for the realm "${c.realm}"` : ''}${front}: nginx \`auth_basic\` with an htpasswd file, or Caddy \`basic_auth\`. Clients send a user name and password.`;
  }
  if (/^bearer$/i.test(c.scheme)) {
    return `A bearer-token check${c.realm !== undefined ? ` (realm "${c.realm}")` : ''}${front}: clients send "Authorization: Bearer <token>" (an API key).`;
  }
  return `The ${c.scheme} authentication scheme${front}.`;
}

const CRED_FIX: Record<string, Fix> = {
  basic: { title: 'Give the user name and password (never printed back)', command: 'ollama-tls doctor https://HOST/ --user USER:PASSWORD', side: 'client' },
  bearer: { title: 'Give the token (never printed back)', command: 'ollama-tls doctor https://HOST/ --bearer-file token.txt', side: 'client' },
};

/** The Ollama CLI cannot add credentials: what sends them. */
const CLIENT_NOTE =
  ' Note that the `ollama` CLI sends no credentials of its own (OLLAMA_HOST carries none); clients such as Open WebUI, LangChain or the OpenAI-compatible SDKs set the header.';

function isOllamaVersion(r: HttpResponse): string | undefined {
  try {
    const v = (JSON.parse(r.body.toString('utf8')) as { version?: unknown }).version;
    return typeof v === 'string' && /^\d+\.\d+/.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function readUpstream(p: ProbeResult, opts: { credentialsWithheld: boolean }): UpstreamReading {
  const rs = p.http ?? [];
  const first = rs[0];
  const label = p.target.label;
  const findings: Finding[] = [];
  if (!first) {
    if (p.httpFailure) {
      findings.push({
        code: 'upstream-error', severity: 'error',
        title: `${label} accepted TLS but gave no HTTP answer`,
        detail: `The request after the handshake failed: ${p.httpFailure.message}. A proxy in front that cannot reach its backend sometimes just closes; so does a server that is not HTTP at all.`,
        evidence: [`${p.httpFailure.kind}: ${p.httpFailure.message}`], fixes: [],
      });
    }
    return { findings, openWithoutCredentials: false };
  }
  const req = first.request as UpstreamRequest;
  const sent = Boolean(req.auth);
  const server = header(first, 'server');
  const what = `${req.method} ${req.path.replace(/\?.*$/, '')}`;
  const answered = `${what}: ${answerSummary(first)}`;

  if (first.status === 401 || first.status === 407) {
    const challenges = parseChallenges(headerAll(first, first.status === 407 ? 'proxy-authenticate' : 'www-authenticate'));
    const schemes = challenges.map((c) => c.scheme.toLowerCase());
    const evidence = [
      answered,
      ...challenges.map((c) => `${first.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate'}: ${c.scheme}${c.realm !== undefined ? ` realm="${c.realm}"` : ''}`),
    ];
    if (sent) {
      findings.push({
        code: 'upstream-auth-rejected', severity: 'error',
        title: `${label} refused the ${req.auth} credentials given (${first.status})`,
        detail: `${guardText(challenges, server)} The ${req.auth === 'basic' ? 'user name or password' : 'token'} sent was not accepted${
          req.auth && schemes.length && !schemes.includes(req.auth) ? `, and the server asks for ${challenges[0]!.scheme}, not ${req.auth === 'basic' ? 'Basic' : 'Bearer'}` : ''}.`,
        evidence,
        fixes: [
          ...(schemes.includes('basic') && req.auth !== 'basic' ? [CRED_FIX.basic!] : []),
          ...(schemes.includes('bearer') && req.auth !== 'bearer' ? [CRED_FIX.bearer!] : []),
          { title: 'Check the credentials with whoever runs the proxy (htpasswd entry, token list)', side: 'server' },
        ],
      });
    } else {
      findings.push({
        code: 'upstream-auth-required', severity: 'error',
        title: `${label} wants credentials (${first.status}${challenges[0] ? `, ${challenges[0].scheme}${challenges[0].realm !== undefined ? ` realm "${challenges[0].realm}"` : ''}` : ''})`,
        detail: `${guardText(challenges, server)}${opts.credentialsWithheld ? ' Credentials were given but not sent, because the certificate is not trusted.' : ''}${CLIENT_NOTE}`,
        evidence,
        // Credentials already given but withheld: asking for them again would not help; trust would.
        fixes: opts.credentialsWithheld
          ? [{ title: 'Make the certificate trusted first (see the findings about it), or vouch for its CA with --ca: the credentials given are then sent', side: 'client' }]
          : schemes.includes('basic') ? [CRED_FIX.basic!] : [CRED_FIX.bearer!],
      });
    }
    return { findings, openWithoutCredentials: false };
  }

  if (first.status === 403) {
    const product = matchBlockPage(first.body, first.headers);
    if (product) return { findings: [blockedFinding(p, first, 'service')], openWithoutCredentials: false };
    const ollamaHostCheck = first.body.length === 0;
    if (sent) {
      findings.push({
        code: 'upstream-auth-rejected', severity: 'error',
        title: `${label} refused the request with the ${req.auth} credentials given (403)`,
        detail: `The credentials were read and the request is still forbidden: the account or token lacks access, or an address allow-list refuses this machine.${ollamaHostCheck ? ' An empty 403 is also what Ollama itself sends for a Host header it does not accept (see below).' : ''}`,
        evidence: [answered],
        fixes: [{ title: 'Check the account\'s access with whoever runs the proxy', side: 'server' }],
      });
    } else {
      findings.push({
        code: 'upstream-forbidden', severity: 'error',
        title: `${label} forbids the request (403)`,
        detail: ollamaHostCheck
          ? 'An empty 403 is what Ollama sends when the Host header is not a local name and Ollama listens on loopback (its guard against DNS rebinding). Behind nginx, pass a local Host to Ollama.'
          : 'The server refuses this request without asking for credentials: an address allow-list, a WAF rule, or a location that is closed.',
        evidence: [answered],
        fixes: ollamaHostCheck
          ? [{ title: 'nginx: send Ollama a local Host header', command: 'proxy_set_header Host localhost:11434;', side: 'server' }]
          : [{ title: 'Ask whoever runs the server which clients are allowed', side: 'server' }],
      });
    }
    return { findings, openWithoutCredentials: false };
  }

  if (first.status >= 500) {
    findings.push({
      code: 'upstream-error', severity: 'error',
      title: `${label} answered ${first.status} ${first.statusText}`.trim(),
      detail: [502, 503, 504].includes(first.status)
        ? `The proxy in front${server ? ` (${server})` : ''} answered, but could not get an answer from the service behind it: is \`ollama serve\` running, and listening where \`proxy_pass\` points?`
        : 'The service failed while answering.',
      evidence: [answered],
      fixes: [{ title: 'Check the backend from the proxy machine', command: 'curl -s http://127.0.0.1:11434/api/version', side: 'server' }],
    });
    return { findings, openWithoutCredentials: false };
  }

  if (req.purpose === 'given') {
    if (first.status >= 400) {
      findings.push({
        code: 'upstream-not-ollama', severity: 'warning',
        title: `${label} has nothing at ${req.path.replace(/\?.*$/, '')} (${first.status})`,
        detail: `The path given answered ${answerSummary(first)}. Check the path, and whether the proxy in front maps it (a location prefix) to the service.`,
        evidence: [answered], fixes: [],
      });
    }
    return { findings, openWithoutCredentials: false };
  }

  const version = first.status === 200 ? isOllamaVersion(first) : undefined;
  const stopped = stoppedFinding(p, 'upstream-error');
  if (stopped) findings.push(stopped);
  if (!version) {
    findings.push({
      code: 'upstream-not-ollama', severity: 'warning',
      title: `${label} does not answer like Ollama`,
      detail:
        `GET /api/version should give {"version":"..."}; this answered ${answerSummary(first)}. It may be another service, a proxy's default page, or Ollama under a path prefix` +
        ` (give it: ollama-tls doctor https://${label.replace(/:443$/, '')}/PREFIX/api/version).` +
        (first.status === 404 && first.body.toString('utf8').trim() === '404 page not found' ? ' The 404 text is the one Ollama\'s router uses, so an Ollama is there, on another path.' : ''),
      evidence: [answered],
      fixes: [],
    });
  }
  return { findings, ...(version ? { version } : {}), openWithoutCredentials: Boolean(version) && !sent };
}
