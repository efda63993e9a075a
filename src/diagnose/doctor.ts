// probe -> chain -> verdicts -> findings -> report, for every target at once.
import { formatName, type Certificate } from '../x509/certificate.js';
import { decodedCertificate } from '../x509/load.js';
import { probe, type ProbeResult } from '../probe/probe.js';
import type { ClientIdentity } from '../probe/client-identity.js';
import { clientCertFinding, clientCertWarnings } from './client-cert.js';
import { header, type NextRequest } from '../probe/http.js';
import { PULL_FALLBACK_HOSTS } from '../probe/known-hosts.js';
import { crossHostHops, hopRequests, locationOf, registryRequests, reportableUrl, type PullHop } from '../ollama/pull-path.js';
import { DEFAULT_REGISTRY, displayName, manifestPath, type ModelName } from '../ollama/name.js';
import { upstreamRequests, type Credentials, type UpstreamRequest } from '../upstream/requests.js';
import { fallbackFinding, readBlobHost, readRegistry } from './pull-findings.js';
import { readUpstream } from './upstream-findings.js';
import { diagnoseOllama, exposedFinding, versionFindings } from './ollama-findings.js';
import { isPublicBind } from '../ollama/host.js';
import { chooseProxy, type ProxyOptions } from '../probe/proxy-env.js';
import type { ResolveOverride } from '../probe/resolve.js';
import { formatHostPort, httpsOrigin, isPublicHostName, parseTarget, type Target } from '../probe/target.js';
import { detectClientPlatform, type ClientPlatform } from '../platform/host.js';
import type { DirTree } from '../platform/rootfs.js';
import { clockFloor, type Env } from '../trust/stores.js';
import { TrustViews, type ViewName } from '../trust/views.js';
import { sortFindings, type Finding, type FindingCode } from './finding.js';
import { NETWORK_FIX } from './fixes.js';
import { verdictWithCode } from './verdict-codes.js';
import { networkFinding } from './network-findings.js';
import { describeCertificate, type DoctorReport, type HttpReport, type PullReport, type TargetReport } from './report.js';
import { chainOk, judgePresentedChain } from './judge-chain.js';
import type { TrustCandidate } from './interception.js';
import { diagnoseChain } from './trust-findings.js';

export interface DoctorOptions {
  /** Hosts given on the command line; https:// URLs among them also get the upstream HTTP checks. */
  targets: Target[];
  /** Walk the pull path of this model (the default run, and --model). */
  pull?: { name: ModelName };
  /** --ai: the common AI API hosts, checked like any host. */
  aiTargets?: Target[];
  /** --user / --bearer: sent to upstreams, only over a trusted connection. */
  credentials?: Credentials;
  timeoutMs: number;
  overrides: ResolveOverride[];
  servername?: string;
  dnsServers?: string[];
  extraCaFiles: string[];
  /** Password of a PKCS#12 --ca file. */
  caPassword?: string;
  deciding: ViewName[];
  fs: DirTree;
  env: Env;
  platform: NodeJS.Platform;
  version: string;
  /** --proxy / --no-proxy (else the environment decides, as for Go). */
  proxy?: ProxyOptions;
  /** Check the local Ollama server too (OLLAMA_HOST, its service, its process): the default run. */
  localOllama?: boolean;
  /** --compare-direct: when a target goes through a proxy, also fetch its chain directly. */
  compareDirect?: boolean;
  /** --cert/--key or --pkcs12: presented to servers that ask for a client certificate. */
  clientIdentity?: ClientIdentity;
  now?: Date;
  onProgress?: (label: string, stage: 'done') => void;
}

export interface DoctorRun {
  report: DoctorReport;
  /** The presented chains as parsed, by target label (for --save-chain). */
  chains: Map<string, Certificate[]>;
  /** For intercepted targets, the CA to trust (for --save-ca). */
  interceptionCas: Map<string, Certificate>;
  /** For intercepted targets with no CA to save: why, and how to get it (the interception finding's own words). */
  interceptionCaMissing: Map<string, string>;
  /** For intercepted targets, where the CA to trust came from (the chain, a store here, a --ca file): doctor --fix asks for a fingerprint only for the network's. */
  interceptionCandidates: Map<string, TrustCandidate>;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorRun> {
  const now = opts.now ?? new Date();
  const views = new TrustViews({ fs: opts.fs, env: opts.env, platform: opts.platform, now, extraCaFiles: opts.extraCaFiles, ...(opts.caPassword !== undefined ? { caPassword: opts.caPassword } : {}) });
  const chains = new Map<string, Certificate[]>();
  const interceptionCas = new Map<string, Certificate>();
  const interceptionCaMissing = new Map<string, string>();
  const interceptionCandidates = new Map<string, TrustCandidate>();
  // Loading the stores is local work (and synchronous file reading): it starts once a ClientHello
  // has gone out, so it overlaps the round trip and the server's own handshake work instead of
  // delaying the connection; or when a probe ends without one (a name that does not resolve).
  let storesReady: Promise<unknown> | undefined;
  let client!: Promise<ClientPlatform>;
  const launch = () => {
    if (storesReady) return;
    storesReady = Promise.all(views.views.map((v) => views.store(v)));
    client = detectClientPlatform(opts.fs, opts.platform);
  };
  // After the write that sent the ClientHello has returned to Node's TLS code.
  const onClientHello = () => setImmediate(launch);

  /** Sees the chain before any HTTP request: decides what to send (credentials only when trusted). */
  const one: CheckOne = async (target, role, http) => {
    // The judgement is made once, of the one chain the handshake captured: before HTTP (when a
    // request needs it) or after the probe.
    const verifyName = opts.servername ?? target.host;
    let judged: Promise<{ presented: Certificate[]; judgements: Awaited<ReturnType<TrustViews['judge']>> }> | undefined;
    const judge = (chain: Buffer[]) =>
      (judged ??= (async () => {
        const presented = chain.map((der) => decodedCertificate(der)).filter((c): c is Certificate => c !== undefined);
        launch();
        await storesReady;
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
          launch();
          await storesReady;
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
      onClientHello,
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
    chains.set(target.label, presented);
    let findings: Finding[] = [];
    let verdicts: TargetReport['verdicts'] = [];
    if (p.failure) {
      launch();
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
        proxied, now, client: await client, env: opts.env,
        ...(proxied && opts.compareDirect ? { direct: await directChain(target, opts) } : {}),
      });
      verdicts = judged.verdicts;
      findings.push(...judged.findings);
      const interception = judged.interception;
      // --save-ca writes what the finding names, or repeats why there is nothing to write.
      if (interception.candidate) {
        interceptionCas.set(target.label, interception.candidate.cert);
        interceptionCandidates.set(target.label, interception.candidate);
      }
      else if (interception.verdict !== 'none') interceptionCaMissing.set(target.label, interception.noCandidate);
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
        now, client: await client, env: opts.env, clockFloor: clockFloor(),
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

  /** An https:// URL target: TLS, then the service's own answers. */
  const upstream = async (target: Target) => {
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
  };

  const explicit = Promise.all([
    ...opts.targets.map((t) => (/^https:\/\//i.test(t.input) ? upstream(t) : one(t, undefined))),
    ...(opts.aiTargets ?? []).map((t) => one(t, 'ai')),
  ]);
  const pulled = opts.pull ? walkPull(opts.pull.name, one, opts) : Promise.resolve(undefined);
  const local = opts.localOllama ? diagnoseOllama({ fs: opts.fs, env: opts.env, now, timeoutMs: opts.timeoutMs }) : Promise.resolve(undefined);
  const [given, pull, ollama] = await Promise.all([explicit, pulled, local]);
  const targets = [...(pull?.checked ?? []), ...given].map((c) => c.report);
  const environment = [...proxyEnvironmentFindings(opts, targets), ...(pull?.findings ?? []), ...(ollama?.findings ?? [])];
  return {
    report: {
      schema: 1,
      tool: { name: 'ollama-tls', version: opts.version },
      ok: targets.every((t) => t.ok) && !environment.some((f) => f.severity === 'error'),
      decidingViews: opts.deciding,
      findings: sortFindings(environment),
      ...(pull ? { pull: pull.report } : {}),
      ...(ollama ? { ollama: ollama.report } : {}),
      targets,
    },
    chains,
    interceptionCas,
    interceptionCaMissing,
    interceptionCandidates,
  };
}

/** How the doctor introduces itself: as the Ollama pull it stands in for, and as itself. */
function userAgent(version: string): string {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386' }[process.arch as string] ?? process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `ollama-tls/${version} (${arch} ${os}; checking the ollama pull path)`;
}

/** What to send after the handshake (it may ask whether the chain is trusted first), and what the answers mean. */
interface HttpCheck {
  plan: (trusted: () => Promise<boolean>) => Promise<NextRequest | undefined>;
  read: (p: ProbeResult, trusted: boolean) => Finding[];
}

/** One target end to end: probe, judge, findings, report. */
type CheckOne = (target: Target, role: TargetReport['role'], http?: HttpCheck) => Promise<{ report: TargetReport; probe: ProbeResult }>;

/**
 * The pull path, host by host: the registry (manifest, blob HEAD and GET), then every host a
 * redirect leads to, each probed and judged as a target of its own. When the registry cannot show
 * the way, the known hosts are checked instead, and the report says so.
 */
async function walkPull(name: ModelName, one: CheckOne, opts: DoctorOptions): Promise<{ checked: { report: TargetReport; probe: ProbeResult }[]; report: PullReport; findings: Finding[] }> {
  const ua = userAgent(opts.version);
  const registry = parseTarget(formatHostPort(name.host, name.port));
  const origin = new URL(httpsOrigin(registry));
  const walk = registryRequests(name, origin, ua);
  let cannotWalk: string | undefined;
  const first = await one(registry, 'registry', {
    plan: async () => walk.next,
    read: (p) => {
      const reading = readRegistry(p, displayName(name));
      cannotWalk = reading.cannotWalk;
      return reading.findings;
    },
  });
  if (first.probe.failure) cannotWalk = `the registry could not be reached (${first.probe.failure.message})`;
  const checked = [first];
  const seen = new Set([registry.label]);
  /** The cross-host places a checked host's answers point to. */
  const hopsFrom = (c: { probe: ProbeResult }) => crossHostHops(c.probe.http ?? [], new URL(httpsOrigin(c.probe.target)));
  let pending: PullHop[] = hopsFrom(first);
  // A few rounds: registry -> blob host is one; a CDN in between would be another.
  for (let round = 0; round < 4 && pending.length; round++) {
    const byHost = new Map<string, PullHop[]>();
    for (const hop of pending) {
      const label = formatHostPort(hop.url.hostname.replace(/^\[|\]$/g, ''), Number(hop.url.port || 443));
      if (!seen.has(label)) byHost.set(label, [...(byHost.get(label) ?? []), hop]);
    }
    for (const label of byHost.keys()) seen.add(label);
    const results = await Promise.all([...byHost].map(([label, hops]) => one(parseTarget(label), 'blob', { plan: async () => hopRequests(hops, ua), read: readBlobHost })));
    checked.push(...results);
    pending = results.flatMap(hopsFrom);
  }
  if (!cannotWalk && checked.length === 1) cannotWalk = 'the registry did not redirect the model file to another host';
  const findings: Finding[] = [];
  if (cannotWalk) {
    const known = name.host === DEFAULT_REGISTRY && name.port === 443 ? PULL_FALLBACK_HOSTS.filter((h) => !seen.has(h)) : [];
    const fallback = await Promise.all(known.map((h) => one(parseTarget(h), 'fallback')));
    checked.push(...fallback);
    findings.push(fallbackFinding(cannotWalk, known));
  }
  return {
    checked,
    findings,
    report: {
      model: displayName(name),
      registry: registry.label,
      manifest: reportableUrl(new URL(manifestPath(name), origin)),
      digest: walk.digest ?? null,
      hosts: checked.map((c) => c.report.target),
      fallback: cannotWalk ?? null,
    },
  };
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
async function directChain(target: Target, opts: DoctorOptions): Promise<{ chain: Certificate[] } | { failure: string }> {
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

/** What the proxy environment as a whole says, beyond any one target. */
function proxyEnvironmentFindings(opts: DoctorOptions, targets: TargetReport[]): Finding[] {
  const out: Finding[] = [];
  const env = opts.env;
  const httpProxy = env.HTTP_PROXY ? 'HTTP_PROXY' : env.http_proxy ? 'http_proxy' : undefined;
  if (httpProxy && !opts.proxy?.noProxy) {
    out.push({
      code: 'ollama-proxy-env', severity: 'warning',
      title: `${httpProxy} is set; Ollama only needs HTTPS_PROXY`,
      detail:
        'Model pulls use HTTPS only, so HTTP_PROXY does nothing for them, and Ollama\'s FAQ warns that it can break the client\'s own calls to the ' +
        'server (OLLAMA_HOST) when that address is not loopback or not listed in NO_PROXY.',
      evidence: [`${httpProxy}=${env[httpProxy]}`],
      fixes: [{ title: `Unset ${httpProxy} for Ollama and set HTTPS_PROXY instead (plus NO_PROXY=localhost,127.0.0.1)`, command: `unset ${httpProxy}`, side: 'client' }],
    });
  }
  const invalid = opts.targets.map((t) => chooseProxy(t.host, t.port, env, opts.proxy).invalid).find(Boolean);
  if (invalid) {
    out.push({
      code: 'ollama-proxy-env', severity: 'warning', title: 'The proxy setting cannot be parsed', detail: `${invalid}.`, evidence: [invalid],
      fixes: [{ title: 'Write it as a URL', command: 'export HTTPS_PROXY=http://proxy.example:3128', side: 'client' }],
    });
  }
  const noProxyConfigured = !opts.proxy?.proxy && !env.HTTPS_PROXY && !env.https_proxy;
  const unreachable = targets.filter((t) => !t.proxy && t.findings.some((f) => NEEDS_PROXY_HINT.has(f.code)) && isPublicHostName(t.host));
  if (noProxyConfigured && !opts.proxy?.noProxy && unreachable.length) {
    out.push({
      code: 'ollama-proxy-env', severity: 'warning',
      title: 'No HTTPS_PROXY is set, and direct connections fail',
      detail:
        `${unreachable.map((t) => t.target).join(', ')} could not be reached directly. Many corporate networks only let HTTPS out through a proxy; if ` +
        'yours does, Ollama needs HTTPS_PROXY in its own environment (the service, not your shell).',
      evidence: unreachable.map((t) => `${t.target}: ${t.findings[0]!.code}`),
      fixes: [NETWORK_FIX.proxyForOllama],
    });
  }
  return out;
}

const NEEDS_PROXY_HINT = new Set(['dns-failure', 'connect-timeout', 'connection-refused', 'host-unreachable', 'connection-reset']);


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
