// probe -> chain -> verdicts -> findings -> report, for every target at once.
import type { Certificate } from '../x509/certificate.js';
import { certificateFromDer } from '../x509/load.js';
import { probe, type ProbeResult } from '../probe/probe.js';
import type { ResolveOverride } from '../probe/resolve.js';
import type { Target } from '../probe/target.js';
import { detectClientPlatform, type ClientPlatform } from '../platform/host.js';
import type { RootFs } from '../platform/rootfs.js';
import { clockFloor, type Env } from '../trust/stores.js';
import { TrustViews, type ViewName } from '../trust/views.js';
import { sortFindings, type Finding } from './finding.js';
import { verdictWithCode } from './catalogue.js';
import { networkFinding } from './network-findings.js';
import { describeCertificate, type DoctorReport, type TargetReport } from './report.js';
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
  now?: Date;
  onProgress?: (label: string, stage: 'done') => void;
}

export interface DoctorRun {
  report: DoctorReport;
  /** The presented chains as parsed, by target label (for --save-chain). */
  chains: Map<string, Certificate[]>;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorRun> {
  const now = opts.now ?? new Date();
  const views = new TrustViews({ fs: opts.fs, env: opts.env, platform: opts.platform, now, extraCaFiles: opts.extraCaFiles });
  const chains = new Map<string, Certificate[]>();
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
      timeoutMs: opts.timeoutMs, overrides: opts.overrides,
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
    }
    findings = sortFindings(findings);
    const decidingOk = verdicts.length > 0 && verdicts.filter((v) => opts.deciding.includes(v.view)).every((v) => v.ok);
    opts.onProgress?.(target.label, 'done');
    return toTargetReport(p, presented, verdicts, findings, decidingOk && !findings.some((f) => f.severity === 'error'));
  };

  const targets = await Promise.all(opts.targets.map(one));
  return {
    report: {
      schema: 1,
      tool: { name: 'ollama-tls', version: opts.version },
      ok: targets.every((t) => t.ok),
      decidingViews: opts.deciding,
      targets,
    },
    chains,
  };
}

function toTargetReport(p: ProbeResult, presented: Certificate[], verdicts: TargetReport['verdicts'], findings: Finding[], ok: boolean): TargetReport {
  const round = (n?: number) => (n === undefined ? undefined : Math.round(n * 10) / 10);
  return {
    target: p.target.label,
    host: p.target.host,
    port: p.target.port,
    servername: p.servername ?? null,
    address: p.address?.address ?? null,
    addresses: p.addresses,
    proxy: null,
    tls: p.tls ?? null,
    chainSource: p.chainSource ?? null,
    chain: presented.map((c, i) => describeCertificate(c, i)),
    verdicts,
    findings,
    ok,
    timings: Object.fromEntries(Object.entries(p.timings).map(([k, v]) => [k, round(v)])) as TargetReport['timings'],
  };
}
