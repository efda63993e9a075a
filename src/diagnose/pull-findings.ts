// What the HTTP answers on the pull path mean: the registry's manifest and blob redirects, the blob
// host's answer, and what a proxy or captive portal put in their place.
import { header, type HttpResponse } from '../probe/http.js';
import type { ProbeResult } from '../probe/probe.js';
import type { PullRequest } from '../ollama/pull-path.js';
import { PULL_FALLBACK_HOSTS } from '../probe/known-hosts.js';
import { BLOCKING_STATUS, htmlTitle, matchBlockPage } from './block-pages.js';
import type { Finding, Fix } from './finding.js';

const ALLOW_HOSTS_FIX: Fix = {
  title: 'Ask IT to allow the hosts `ollama pull` uses: registry.ollama.ai, *.ollama.com and *.r2.cloudflarestorage.com (Cloudflare R2, where the model files are)',
  side: 'client',
};

const WHAT: Record<PullRequest['purpose'], string> = {
  manifest: 'model manifest',
  'blob-head': 'model file (HEAD)',
  'blob-get': 'model file redirect',
  'blob-part': 'model file part',
};

const statusLine = (r: HttpResponse) => `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}`;

/** One line that says who answered and how: status, type, server, page title. */
export function answerSummary(r: HttpResponse): string {
  const parts = [statusLine(r)];
  const type = header(r, 'content-type');
  if (type) parts.push(type.split(';')[0]!);
  const server = header(r, 'server');
  if (server) parts.push(`Server: ${server}`);
  const title = /html/i.test(type ?? '') ? htmlTitle(r.body) : undefined;
  if (title) parts.push(`page title "${title}"`);
  return parts.join(', ');
}

function via(p: ProbeResult): string {
  return p.proxy?.used ? `the proxy ${p.proxy.url} (from ${p.proxy.source})` : 'something on the network (a filtering gateway, a captive portal)';
}

/** An answer that did not come from the server asked: block page, captive portal, proxy refusal. */
export function blockedFinding(p: ProbeResult, r: HttpResponse, expected: string): Finding {
  const product = matchBlockPage(r.body, r.headers);
  const meaning = BLOCKING_STATUS[r.status];
  const location = header(r, 'location');
  const portal = r.status === 511 || (location !== undefined && r.status >= 300 && r.status < 400);
  return {
    code: 'http-blocked',
    severity: 'error',
    title: `${p.target.label} answered ${statusLine(r)} instead of the ${expected}${product ? `: a ${product} block page` : portal ? ': a captive portal' : ''}`,
    detail:
      `The TLS connection worked, but the HTTP answer is not what ${p.target.host} sends: ${via(p)} answered in its place` +
      `${meaning ? ` (${r.status}: ${meaning})` : ''}. ` +
      (portal
        ? 'A redirect to a sign-in page means the network wants you to log in or accept terms first (hotel, guest or office Wi-Fi). '
        : 'Web filters do this when the host or the "AI" category is blocked by policy. ') +
      'Ollama shows it as "pull model manifest: ..." or a failed download with this status; certificates are not the problem here.',
    evidence: [
      answerSummary(r),
      ...(location ? [`Location: ${location.replace(/\?.*$/, '?...')}`] : []),
      ...(product ? [`the page names ${product}`] : []),
      ...(header(r, 'x-squid-error') ? [`X-Squid-Error: ${header(r, 'x-squid-error')}`] : []),
    ],
    fixes: portal ? [{ title: 'Open any web page in a browser on this network and complete the sign-in, then run the doctor again', side: 'client' }] : [ALLOW_HOSTS_FIX],
  };
}

/**
 * Answers came, then a request got none (the server closed or reset the connection, or a new
 * connection for it failed): Ollama's pull would stop at the same request.
 */
export function stoppedFinding(p: ProbeResult, code: 'http-blocked' | 'upstream-error'): Finding | undefined {
  const f = p.httpFailure;
  if (!f || !p.http?.length) return undefined;
  return {
    code, severity: 'error',
    title: `${p.target.label} stopped answering after ${p.http.length} request${p.http.length === 1 ? '' : 's'}`,
    detail: `${f.path ? `The request for ${f.path.replace(/\?.*$/, '')}` : 'The next request'} got no answer: ${f.message}. A client such as Ollama fails at the same request.`,
    evidence: [`${f.kind}: ${f.message}`, ...p.http.map((r) => `${r.request.method} ${r.request.path.replace(/\?.*$/, '')}: ${answerSummary(r)}`)],
    fixes: code === 'http-blocked' ? [ALLOW_HOSTS_FIX] : [],
  };
}

/** An S3-style XML error from the blob store itself (R2 speaks the S3 API). */
function storageError(r: HttpResponse): string | undefined {
  return r.body.toString('utf8').match(/<Code>([A-Za-z]+)<\/Code>/)?.[1];
}

export interface RegistryReading {
  findings: Finding[];
  /** Why the blob hosts could not be learnt from the registry (then the known hosts are checked). */
  cannotWalk?: string;
}

/** The registry's answers: the manifest, then the blob HEAD/GET and where they redirect. */
export function readRegistry(p: ProbeResult, model: string): RegistryReading {
  const rs = p.http ?? [];
  const manifest = rs.find((r) => (r.request as PullRequest).purpose === 'manifest');
  if (!manifest) {
    const why = p.httpFailure ? `the registry gave no HTTP answer (${p.httpFailure.message})` : 'no HTTP request could be sent';
    return {
      cannotWalk: why,
      findings: p.httpFailure ? [{
        code: 'http-blocked', severity: 'error',
        title: `${p.target.label} accepted TLS but gave no HTTP answer`,
        detail: `After the handshake, the manifest request got no answer: ${p.httpFailure.message}. Something between you and the registry ends connections after looking at them; Ollama would fail the same way.`,
        evidence: [`${p.httpFailure.kind}: ${p.httpFailure.message}`], fixes: [ALLOW_HOSTS_FIX],
      }] : [],
    };
  }
  if (manifest.status === 404) {
    return {
      cannotWalk: `the registry has no manifest for ${model}`,
      findings: [{
        code: 'model-not-found', severity: 'error',
        title: `The registry has no model "${model}"`,
        detail: `The registry answered 404 for the manifest: the name or tag does not exist (Ollama says "pull model manifest: file does not exist"). The connection itself works.`,
        evidence: [answerSummary(manifest)],
        fixes: [{ title: 'Check the name and tag on https://ollama.com/library', side: 'client' }],
      }],
    };
  }
  if (manifest.status === 401) {
    const auth = header(manifest, 'www-authenticate') ?? 'no WWW-Authenticate header';
    return { cannotWalk: `the registry wants a signed-in request for ${model} (${auth}); Ollama signs with its own key, the doctor does not`, findings: [] };
  }
  const json = /json/i.test(header(manifest, 'content-type') ?? '') || manifest.body.subarray(0, 1).toString() === '{';
  if (manifest.status !== 200 || !json) {
    return { cannotWalk: `the manifest request was answered by something else (${answerSummary(manifest)})`, findings: [blockedFinding(p, manifest, WHAT.manifest)] };
  }
  const findings: Finding[] = [];
  for (const r of rs) {
    const purpose = (r.request as PullRequest).purpose;
    if (purpose === 'manifest') continue;
    if (r.status >= 400) findings.push(blockedFinding(p, r, WHAT[purpose]));
  }
  const stopped = stoppedFinding(p, 'http-blocked');
  if (stopped) findings.push(stopped);
  if (!rs.some((r) => (r.request as PullRequest).purpose === 'blob-head')) {
    return { cannotWalk: p.httpFailure ? `the registry stopped answering (${p.httpFailure.message})` : 'the manifest names no layer to ask for', findings };
  }
  return { findings };
}

/** A blob host's answers: HEAD 200 and the first byte of a part (206), or why not. */
export function readBlobHost(p: ProbeResult): Finding[] {
  const out: Finding[] = [];
  for (const r of p.http ?? []) {
    if (r.status < 400) continue;
    const code = storageError(r);
    if (code && /xml/i.test(header(r, 'content-type') ?? 'xml')) {
      const clock = /RequestTimeTooSkewed|expired/i.test(r.body.toString('utf8'));
      out.push({
        code: clock ? 'clock-skew' : 'http-blocked', severity: 'error',
        title: `The model file store ${p.target.host} refused the signed download link: ${code}`,
        detail: clock
          ? 'The download links the registry hands out are signed for a short time; the store says the request is outside it. Check this machine\'s clock.'
          : 'The store itself (not a proxy) refused the link the registry handed out. If this persists, the registry or the store is at fault; try again later.',
        evidence: [answerSummary(r), `<Code>${code}</Code>`],
        fixes: clock ? [{ title: 'Sync the clock', command: 'sudo timedatectl set-ntp true', side: 'client' }] : [],
      });
    } else {
      out.push(blockedFinding(p, r, WHAT[(r.request as PullRequest).purpose] ?? 'model file'));
    }
  }
  const stopped = stoppedFinding(p, 'http-blocked');
  if (stopped) out.push(stopped);
  return out;
}

export function fallbackFinding(reason: string, hosts: string[]): Finding {
  return {
    code: 'pull-path-fallback', severity: 'info',
    title: 'Checked the known pull hosts instead of following the registry',
    detail: `The doctor could not learn the blob hosts from the registry: ${reason}. It checked the hosts \`ollama pull\` has used so far instead, which may change.`,
    evidence: hosts.length ? hosts : PULL_FALLBACK_HOSTS,
    fixes: [],
  };
}
