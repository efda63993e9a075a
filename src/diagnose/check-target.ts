// One target end to end: probe, the chain judged once (before HTTP when a request needs to know
// whether it is trusted), findings, the target's report. `runDoctor` (doctor.ts) makes one
// checker per run and calls it for every target, given, on the pull path or --ai.
import { formatName, type Certificate } from '../x509/certificate.js';
import { decodedCertificate } from '../x509/load.js';
import { probe, type ProbeResult } from '../probe/probe.js';
import type { ClientIdentity } from '../probe/client-identity.js';
import { header, type NextRequest } from '../probe/http.js';
import { locationOf, reportableUrl } from '../ollama/pull-path.js';
import { upstreamRequests, type Credentials, type UpstreamRequest } from '../upstream/requests.js';
import { readUpstream } from './upstream-findings.js';
import { exposedFinding, versionFindings } from './ollama-findings.js';
import { isPublicBind } from '../ollama/host.js';
import { chooseProxy, type ProxyOptions } from '../probe/proxy-env.js';
import type { ResolveOverride } from '../probe/resolve.js';
import { httpsOrigin, type Target } from '../probe/target.js';
import { detectClientPlatform, type ClientPlatform } from '../platform/host.js';
import type { DirTree } from '../platform/rootfs.js';
import { clockFloor, type Env } from '../trust/stores.js';
import type { TrustViews, ViewName } from '../trust/views.js';
import { clientCertFinding, clientCertWarnings } from './client-cert.js';
import { sortFindings, type Finding, type FindingCode } from './finding.js';
import { verdictWithCode } from './verdict-codes.js';
import { networkFinding } from './network-findings.js';
import { describeCertificate, type HttpReport, type TargetReport } from './report.js';
import { chainOk, judgePresentedChain } from './judge-chain.js';
import type { TrustCandidate } from './interception.js';
import { diagnoseChain } from './trust-findings.js';

/** What checking one target needs to know from the run's options. */
export interface CheckOptions {
  timeoutMs: number;
  overrides: ResolveOverride[];
  servername?: string;
  dnsServers?: string[];
  deciding: ViewName[];
  env: Env;
  version: string;
  /** --proxy / --no-proxy (else the environment decides, as for Go). */
  proxy?: ProxyOptions;
  /** --user / --bearer: sent to upstreams, only over a trusted connection. */
  credentials?: Credentials;
  /** --compare-direct: when a target goes through a proxy, also fetch its chain directly. */
  compareDirect?: boolean;
  /** --cert/--key or --pkcs12: presented to servers that ask for a client certificate. */
  clientIdentity?: ClientIdentity;
  onProgress?: (label: string, stage: 'done') => void;
}

/** What the checks of one run found beyond the report: chains and interception CAs, by target label. */
export interface Found {
  /** The presented chains as parsed, by target label (for --save-chain). */
  chains: Map<string, Certificate[]>;
  /** For intercepted targets, the CA to trust (for --save-ca). */
  interceptionCas: Map<string, Certificate>;
  /** For intercepted targets with no CA to save: why, and how to get it (the interception finding's own words). */
  interceptionCaMissing: Map<string, string>;
  /** For intercepted targets, where the CA to trust came from (the chain, a store here, a --ca file): doctor --fix asks for a fingerprint only for the network's. */
  interceptionCandidates: Map<string, TrustCandidate>;
}

/**
 * Loading the stores is local work (and synchronous file reading): it starts once a ClientHello
 * has gone out, so it overlaps the round trip and the server's own handshake work instead of
 * delaying the connection; or when a probe ends without one (a name that does not resolve).
 */
export function storePreload(views: TrustViews, fs: DirTree, platform: NodeJS.Platform) {
  let ready: Promise<unknown> | undefined;
  let client!: Promise<ClientPlatform>;
  const launch = (): void => {
    if (ready) return;
    ready = Promise.all(views.views.map((v) => views.store(v)));
    client = detectClientPlatform(fs, platform);
  };
  return {
    launch,
    storesReady: (): Promise<unknown> => (launch(), ready!),
    client: (): Promise<ClientPlatform> => (launch(), client),
    // After the write that sent the ClientHello has returned to Node's TLS code.
    onClientHello: (): void => void setImmediate(launch),
  };
}

/** Everything one run's checks share. */
export interface CheckSession extends ReturnType<typeof storePreload> {
  opts: CheckOptions;
  views: TrustViews;
  now: Date;
  found: Found;
}

/** What to send after the handshake (it may ask whether the chain is trusted first), and what the answers mean. */
export interface HttpCheck {
  plan: (trusted: () => Promise<boolean>) => Promise<NextRequest | undefined>;
  read: (p: ProbeResult, trusted: boolean) => Finding[];
}

/** One target end to end: probe, judge, findings, report. */
export type CheckOne = (target: Target, role: TargetReport['role'], http?: HttpCheck) => Promise<{ report: TargetReport; probe: ProbeResult }>;

/** The checker of one run. It sees the chain before any HTTP request: decides what to send (credentials only when trusted). */
export function targetChecker(s: CheckSession): CheckOne {
  const { opts, views, now, found } = s;
  return async (target, role, http) => {
    // The judgement is made once, of the one chain the handshake captured: before HTTP (when a
    // request needs it) or after the probe.
    const verifyName = opts.servername ?? target.host;
    let judged: Promise<{ presented: Certificate[]; judgements: Awaited<ReturnType<TrustViews['judge']>> }> | undefined;
    const judge = (chain: Buffer[]) =>
      (judged ??= (async () => {
        const presented = chain.map((der) => decodedCertificate(der)).filter((c): c is Certificate => c !== undefined);
        s.launch();
        await s.storesReady();
        return { presented, judgements: presented.length ? await views.judge(presented, verifyName) : [] };
      })());
    /** Trusted: the deciding views accept, or the user's own --ca roots do (they vouched for them). */
    const trustedBy = (judgements: Awaited<ReturnType<TrustViews['judge']>>) => {
      const v = judgements.map((j) => j.verdict);
      return v.length > 0 && (v.filter((x) => opts.deciding.includes(x.view)).every((x) => x.ok) || v.some((x) => x.view === 'extra' && x.ok));
    };
    /** A chain a later connection presented, when it differs from the first one's. */
    const others = new Map<string, Promise<{ presented: Certificate[]; judgements: Awaited<ReturnType<TrustViews['judge']>> }>>();
    const judgeOther = (chain: Buffer[]) => {
      const key = chain.map((d) => d.toString('base64')).join('.');
      let j = others.get(key);
      if (!j) {
        j = (async () => {
          const presented = chain.map((der) => decodedCertificate(der)).filter((c): c is Certificate => c !== undefined);
          s.launch();
          await s.storesReady();
          return { presented, judgements: presented.length ? await views.judge(presented, verifyName) : [] };
        })();
        others.set(key, j);
      }
      return j;
    };
    let trustedAnswer = false;
    const p = await probe(target, {
      timeoutMs: opts.timeoutMs, overrides: opts.overrides, proxy: chooseProxy(target.host, target.port, opts.env, opts.proxy),
      ...(opts.servername ? { servername: opts.servername } : {}), ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
      ...(opts.clientIdentity ? { clientIdentity: opts.clientIdentity } : {}),
      onClientHello: s.onClientHello,
      ...(http ? {
        http: {
          plan: (chain: Buffer[]) => http.plan(async () => {
            const { judgements } = await judge(chain);
            trustedAnswer = trustedBy(judgements);
            return trustedAnswer;
          }),
          // Credentials planned for a trusted connection go on over a new one only if it is trusted too.
          again: async (chain: Buffer[]) => !trustedAnswer || trustedBy((await judgeOther(chain)).judgements),
        },
      } : {}),
    });
    const presented = p.chain.length ? (await judge(p.chain)).presented : [];
    found.chains.set(target.label, presented);
    let findings: Finding[] = [];
    let verdicts: TargetReport['verdicts'] = [];
    if (p.failure) {
      s.launch();
      findings = [networkFinding(p)!];
    }
    // A server that refuses the client's certificate has already sent its own: still judged.
    if (presented.length === 0) {
      if (!p.failure) {
        findings = [{
          code: 'malformed-certificate', severity: 'error', title: `${target.label} sent no certificate that can be parsed`,
          detail: 'The handshake completed, but the certificate message held nothing readable.', evidence: [], fixes: [],
        }];
      }
    } else {
      const { judgements } = await judge(p.chain);
      const proxied = Boolean(p.proxy?.used);
      const judged = await judgePresentedChain({
        host: target.host, label: target.label, verifyName: p.verifyName, presented, judgements, views, deciding: opts.deciding,
        proxied, now, client: await s.client(), env: opts.env,
        ...(proxied && opts.compareDirect ? { direct: await directChain(target, opts) } : {}),
      });
      verdicts = judged.verdicts;
      findings.push(...judged.findings);
      const interception = judged.interception;
      // --save-ca writes what the finding names, or repeats why there is nothing to write.
      if (interception.candidate) {
        found.interceptionCas.set(target.label, interception.candidate.cert);
        found.interceptionCandidates.set(target.label, interception.candidate);
      }
      else if (interception.verdict !== 'none') found.interceptionCaMissing.set(target.label, interception.noCandidate);
      // A refusal is already the network finding; a mere request (or an HTTP-level refusal) is said here.
      const clientCert = p.failure ? undefined : clientCertFinding(p, now);
      if (clientCert) findings.push(clientCert);
      findings.push(...clientCertWarnings(p, opts.clientIdentity?.chain ?? []));
      if (http) findings.push(...http.read(p, trustedAnswer));
    }
    // A later connection (after the server closed one) that presented another chain: judged as well.
    const connectionVerdicts = new Map<number, TargetReport['verdicts']>();
    for (const [i, c] of (p.connections ?? []).entries()) {
      if (!c.differentChain) continue;
      const other = await judgeOther(c.differentChain);
      connectionVerdicts.set(i, other.judgements.map((j) => verdictWithCode(j)));
      if (!other.presented.length) continue;
      const more = await diagnoseChain({
        presented: other.presented, judgements: other.judgements, deciding: opts.deciding, views, verifyName: p.verifyName, label: target.label,
        now, client: await s.client(), env: opts.env, clockFloor: clockFloor(),
      });
      const note = `connection ${i + 1} (opened because ${c.reason}) presented a different chain: leaf sha256 ${other.presented[0]!.sha256}`;
      findings.push(...more.map((f) => ({ ...f, title: `On a new connection: ${f.title}`, evidence: [note, ...f.evidence] })));
    }
    const proxyReport = await judgeProxy(p, views);
    if (proxyReport?.verdict && !proxyReport.verdict.ok) findings.push(proxyTrustFinding(p, proxyReport.verdict));
    findings = sortFindings(findings);
    opts.onProgress?.(target.label, 'done');
    const report = toTargetReport(p, presented, verdicts, findings, chainOk(verdicts, findings, opts.deciding), proxyReport);
    if (role) report.role = role;
    if (p.clientCert) {
      const sent = p.clientCert.sentChain?.[0] ? decodedCertificate(p.clientCert.sentChain[0]) : undefined;
      const without = p.clientCert.withoutCertificate;
      report.clientCert = {
        requested: p.clientCert.requested, authorities: p.clientCert.authorities,
        sent: p.clientCert.sent ? (sent ? formatName(sent.subject) : 'yes') : null,
        refused: p.clientCert.refused ? p.clientCert.refused.message : null,
        policy: p.clientCert.policy ?? null,
        ...(without ? { withoutCertificate: { refused: without.refused ?? null, message: without.message, ms: without.ms } } : {}),
      };
    }
    if (http) report.http = httpReport(p, opts.credentials && !trustedAnswer && !p.failure ? 'the certificate is not trusted by the deciding views' : undefined, connectionVerdicts);
    return { report, probe: p };
  };
}

/** An https:// URL target: TLS, then the service's own answers (Ollama's version, open to the network?). */
export async function checkUpstream(one: CheckOne, target: Target, opts: CheckOptions): Promise<{ report: TargetReport; probe: ProbeResult }> {
  let version: string | undefined;
  const checked = await one(target, 'upstream', {
    plan: async (trusted) => {
      const send = opts.credentials && (await trusted()) ? opts.credentials : undefined;
      return upstreamRequests({ ...(target.path ? { path: target.path } : {}), ...(send ? { credentials: send } : {}), userAgent: userAgent(opts.version) });
    },
    read: (p, trusted) => {
      const reading = readUpstream(p, { credentialsWithheld: Boolean(opts.credentials) && !trusted });
      version = reading.version;
      const url = httpsOrigin(target);
      const extra = reading.version ? versionFindings(url, reading.version) : [];
      // Ollama has no authentication: answering without credentials from a non-loopback address is open to the network.
      const address = p.address?.address ?? target.host;
      if (reading.openWithoutCredentials && isPublicBind(address)) {
        extra.push(exposedFinding(url, [`GET /api/version answered {"version":"${reading.version}"} without credentials`, `connected to ${address}`]));
      }
      return [...reading.findings, ...extra];
    },
  });
  if (version && checked.report.http) checked.report.http.ollamaVersion = version;
  return checked;
}

/** How the doctor introduces itself: as the Ollama pull it stands in for, and as itself. */
export function userAgent(version: string): string {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386' }[process.arch as string] ?? process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `ollama-tls/${version} (${arch} ${os}; checking the ollama pull path)`;
}

/** The exchanges as the report carries them: no secrets in URLs, only the kind of credentials sent. */
function httpReport(p: ProbeResult, withheld: string | undefined, connectionVerdicts: Map<number, TargetReport['verdicts']>): HttpReport {
  const base = httpsOrigin(p.target);
  return {
    exchanges: (p.http ?? []).map((r) => {
      const url = new URL(r.request.path, base);
      const location = locationOf(r, url);
      const type = header(r, 'content-type');
      const server = header(r, 'server');
      const auth = (r.request as UpstreamRequest).auth;
      return {
        method: r.request.method, url: reportableUrl(url), status: r.status, statusText: r.statusText,
        ...(location ? { location: reportableUrl(location) } : {}), ...(type ? { contentType: type } : {}), ...(server ? { server } : {}),
        ...(auth ? { auth } : {}), ms: Math.round(r.ms * 10) / 10, protocol: r.protocol, ...(r.connection ? { connection: r.connection } : {}),
      };
    }),
    // Listed only when the server made a second connection necessary.
    ...((p.connections?.length ?? 0) > 1 ? {
      connections: p.connections!.map((c, i) => ({
        reason: c.reason, alpn: c.alpn, chain: c.differentChain ? 'different' as const : 'same' as const,
        ...(connectionVerdicts.has(i) ? { verdicts: connectionVerdicts.get(i)! } : {}),
      })),
    } : {}),
    ...(p.httpFailure ? { failure: { kind: p.httpFailure.kind, message: p.httpFailure.message } } : {}),
    ...(withheld ? { credentialsWithheld: withheld } : {}),
  };
}

/** The chain the server sends without the proxy in between (--compare-direct). */
async function directChain(target: Target, opts: CheckOptions): Promise<{ chain: Certificate[] } | { failure: string }> {
  const p = await probe(target, {
    timeoutMs: opts.timeoutMs, overrides: opts.overrides, proxy: {},
    ...(opts.servername ? { servername: opts.servername } : {}), ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    ...(opts.clientIdentity ? { clientIdentity: opts.clientIdentity } : {}),
  });
  // A refused client certificate still leaves the server's chain to compare.
  if (p.failure && !p.chain.length) return { failure: p.failure.message };
  return { chain: p.chain.map((der) => decodedCertificate(der)).filter((c): c is Certificate => c !== undefined) };
}

/** An https:// proxy's own certificate, judged as Go judges it (same roots, the proxy's name). */
async function judgeProxy(p: ProbeResult, views: TrustViews): Promise<TargetReport['proxy']> {
  if (!p.proxy) return null;
  const { tlsChain, tlsServername, hostname, port: _port, ...rest } = p.proxy;
  if (!tlsChain?.length) return rest;
  const certs = tlsChain.map((der) => decodedCertificate(der)).filter((c): c is Certificate => c !== undefined);
  const judgement = await views.judgeView('go', certs, tlsServername ?? hostname);
  return { ...rest, chain: certs.map((c, i) => describeCertificate(c, i)), verdict: verdictWithCode(judgement) };
}

function proxyTrustFinding(p: ProbeResult, verdict: NonNullable<NonNullable<TargetReport['proxy']>['verdict']>): Finding {
  return {
    code: (verdict.code ?? 'unknown-authority') as FindingCode,
    severity: 'error',
    title: `Go does not trust the certificate of the https:// proxy ${p.proxy!.url}`,
    detail:
      'With an https:// proxy URL, Go first opens TLS to the proxy and checks its certificate with the same roots as any server; this one fails, ' +
      'so Ollama never reaches the destination. Most proxies want plain http:// instead.',
    evidence: [`go: ${verdict.message}`],
    fixes: [
      { title: 'Use an http:// proxy URL if the proxy accepts plain CONNECT', command: 'export HTTPS_PROXY=http://proxy.example:3128', side: 'client' },
      { title: "Or trust the proxy's CA where Ollama runs", side: 'client' },
    ],
  };
}

function toTargetReport(
  p: ProbeResult, presented: Certificate[], verdicts: TargetReport['verdicts'], findings: Finding[], ok: boolean, proxy: TargetReport['proxy'],
): TargetReport {
  const round = (n?: number) => (n === undefined ? undefined : Math.round(n * 10) / 10);
  return {
    target: p.target.label,
    host: p.target.host,
    port: p.target.port,
    servername: p.servername ?? null,
    address: p.address?.address ?? null,
    addresses: p.addresses,
    proxy,
    tls: p.tls ?? null,
    chainSource: p.chainSource ?? null,
    chain: presented.map((c, i) => describeCertificate(c, i)),
    verdicts,
    findings,
    ok,
    timings: Object.fromEntries(Object.entries(p.timings).map(([k, v]) => [k, round(v)])) as TargetReport['timings'],
  };
}
