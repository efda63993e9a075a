// probe -> chain -> verdicts -> findings -> report, for every target at once.
import type { Certificate } from '../x509/certificate.js';
import { certificateFromDer } from '../x509/load.js';
import { probe, type ProbeResult } from '../probe/probe.js';
import { chooseProxy, type ProxyOptions } from '../probe/proxy-env.js';
import type { ResolveOverride } from '../probe/resolve.js';
import { isPublicHostName, type Target } from '../probe/target.js';
import { detectClientPlatform, type ClientPlatform } from '../platform/host.js';
import type { RootFs } from '../platform/rootfs.js';
import { clockFloor, type Env } from '../trust/stores.js';
import { TrustViews, type ViewName } from '../trust/views.js';
import { sortFindings, type Finding, type FindingCode } from './finding.js';
import { NETWORK_FIX } from './fixes.js';
import { verdictWithCode } from './catalogue.js';
import { networkFinding } from './network-findings.js';
import { describeCertificate, type DoctorReport, type TargetReport } from './report.js';
import { analyseInterception, interceptionFinding } from './interception.js';
import { diagnoseChain } from './trust-findings.js';

export interface DoctorOptions {
  targets: Target[];
  timeoutMs: number;
  overrides: ResolveOverride[];
  servername?: string;
  dnsServers?: string[];
  extraCaFiles: string[];
  deciding: ViewName[];
  fs: RootFs;
  env: Env;
  platform: NodeJS.Platform;
  version: string;
  /** --proxy / --no-proxy (else the environment decides, as for Go). */
  proxy?: ProxyOptions;
  /** --compare-direct: when a target goes through a proxy, also fetch its chain directly. */
  compareDirect?: boolean;
  now?: Date;
  onProgress?: (label: string, stage: 'done') => void;
}

export interface DoctorRun {
  report: DoctorReport;
  /** The presented chains as parsed, by target label (for --save-chain). */
  chains: Map<string, Certificate[]>;
  /** For intercepted targets, the CA to trust (for --save-ca). */
  interceptionCas: Map<string, Certificate>;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorRun> {
  const now = opts.now ?? new Date();
  const views = new TrustViews({ fs: opts.fs, env: opts.env, platform: opts.platform, now, extraCaFiles: opts.extraCaFiles });
  const chains = new Map<string, Certificate[]>();
  const interceptionCas = new Map<string, Certificate>();
  // Loading the stores is local work; start it once every probe has sent its first packet, so it
  // overlaps name resolution, round trips and the server's own handshake work.
  let storesReady!: Promise<unknown>;
  let client!: Promise<ClientPlatform>;
  const launched = new Promise<void>((resolve) => setImmediate(() => {
    storesReady = Promise.all(views.views.map((v) => views.store(v)));
    client = detectClientPlatform(opts.fs, opts.platform);
    resolve();
  }));

  const one = async (target: Target): Promise<TargetReport> => {
    const p = await probe(target, {
      timeoutMs: opts.timeoutMs, overrides: opts.overrides, proxy: chooseProxy(target.host, target.port, opts.env, opts.proxy),
      ...(opts.servername ? { servername: opts.servername } : {}), ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
    const presented = p.chain.map((der) => certificateFromDer(der)).filter((c): c is Certificate => c !== undefined);
    chains.set(target.label, presented);
    let findings: Finding[] = [];
    let verdicts: TargetReport['verdicts'] = [];
    if (p.failure) {
      await launched;
      findings = [networkFinding(p)!];
    } else if (presented.length === 0) {
      findings = [{
        code: 'malformed-certificate', severity: 'error', title: `${target.label} sent no certificate that can be parsed`,
        detail: 'The handshake completed, but the certificate message held nothing readable.', evidence: [], fixes: [],
      }];
    } else {
      await launched;
      await storesReady;
      const judgements = await views.judge(presented, p.verifyName);
      verdicts = judgements.map((j) => verdictWithCode(j.verdict));
      findings = await diagnoseChain({
        presented, judgements, deciding: opts.deciding, views, verifyName: p.verifyName, label: target.label,
        now, client: await client, env: opts.env, clockFloor: clockFloor(),
      });
      const proxied = Boolean(p.proxy?.used);
      const input = {
        host: target.host, label: target.label, presented, judgements, deciding: opts.deciding, proxied,
        osStore: await views.store('system'), now, client: await client,
        ...(proxied && opts.compareDirect ? { direct: await directChain(target, opts) } : {}),
      };
      const interception = analyseInterception(input);
      const finding = interceptionFinding(interception, input);
      if (finding) findings.push(finding);
      if (interception.candidate) interceptionCas.set(target.label, interception.candidate.cert);
    }
    const proxyReport = await judgeProxy(p, views);
    if (proxyReport?.verdict && !proxyReport.verdict.ok) findings.push(proxyTrustFinding(p, proxyReport.verdict));
    findings = sortFindings(findings);
    const decidingOk = verdicts.length > 0 && verdicts.filter((v) => opts.deciding.includes(v.view)).every((v) => v.ok);
    opts.onProgress?.(target.label, 'done');
    return toTargetReport(p, presented, verdicts, findings, decidingOk && !findings.some((f) => f.severity === 'error'), proxyReport);
  };

  const targets = await Promise.all(opts.targets.map(one));
  const environment = proxyEnvironmentFindings(opts, targets);
  return {
    report: {
      schema: 1,
      tool: { name: 'ollama-tls', version: opts.version },
      ok: targets.every((t) => t.ok),
      decidingViews: opts.deciding,
      findings: environment,
      targets,
    },
    chains,
    interceptionCas,
  };
}

/** The chain the server sends without the proxy in between (--compare-direct). */
async function directChain(target: Target, opts: DoctorOptions): Promise<{ chain: Certificate[] } | { failure: string }> {
  const p = await probe(target, {
    timeoutMs: opts.timeoutMs, overrides: opts.overrides, proxy: {},
    ...(opts.servername ? { servername: opts.servername } : {}), ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
  });
  if (p.failure) return { failure: p.failure.message };
  return { chain: p.chain.map((der) => certificateFromDer(der)).filter((c): c is Certificate => c !== undefined) };
}

/** An https:// proxy's own certificate, judged as Go judges it (same roots, the proxy's name). */
async function judgeProxy(p: ProbeResult, views: TrustViews): Promise<TargetReport['proxy']> {
  if (!p.proxy) return null;
  const { tlsChain, tlsServername, ...rest } = p.proxy;
  if (!tlsChain?.length) return rest;
  const certs = tlsChain.map((der) => certificateFromDer(der)).filter((c): c is Certificate => c !== undefined);
  const judgement = await views.judgeView('go', certs, tlsServername ?? new URL(p.proxy.url).hostname);
  return { ...rest, chain: certs.map((c, i) => describeCertificate(c, i)), verdict: verdictWithCode(judgement.verdict) };
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
