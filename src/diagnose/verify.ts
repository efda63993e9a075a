// `verify`: the doctor's judgement of a chain read from a file instead of the network. The chain
// is taken as a server would send it (file order, duplicates kept), judged by the same code the
// doctor uses (judge-chain.ts), with the clock set to `at` for every view.
import type { Certificate } from '../x509/certificate.js';
import { detectClientPlatform } from '../platform/host.js';
import type { DirTree } from '../platform/rootfs.js';
import type { Env } from '../trust/stores.js';
import { TrustViews, type ViewName } from '../trust/views.js';
import { sortFindings, type Finding } from './finding.js';
import { chainOk, judgePresentedChain } from './judge-chain.js';
import { describeCertificate, type ChainEntry, type Verdict } from './report.js';

export interface VerifyOptions {
  presented: Certificate[];
  /** The name the clients verify. */
  host: string;
  /** For messages: the chain file. */
  label: string;
  at: Date;
  /** `at` was given (--at): a chosen time, not this machine's clock, so never reported as clock skew. */
  atGiven?: boolean;
  /** The views to judge under (default: every view but extra, as the doctor without --ca). */
  views?: ViewName[];
  deciding: ViewName[];
  /** --roots: only these files' certificates are roots, in every view. */
  rootFiles?: string[];
  password?: string;
  fs: DirTree;
  env: Env;
  platform: NodeJS.Platform;
}

export interface VerifyReport {
  schema: 1;
  host: string;
  at: string;
  ok: boolean;
  decidingViews: ViewName[];
  chain: ChainEntry[];
  verdicts: Verdict[];
  findings: Finding[];
}

export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  const views = new TrustViews({
    fs: opts.fs, env: opts.env, platform: opts.platform, now: opts.at, extraCaFiles: [],
    ...(opts.rootFiles ? { rootFiles: opts.rootFiles } : {}), ...(opts.password !== undefined ? { caPassword: opts.password } : {}),
  });
  const chosen = opts.views ?? views.views;
  const [judgements, client] = await Promise.all([
    Promise.all(chosen.map((v) => views.judgeView(v, opts.presented, opts.host))),
    detectClientPlatform(opts.fs, opts.platform),
  ]);
  const judged = await judgePresentedChain({
    host: opts.host, label: opts.label, verifyName: opts.host, presented: opts.presented, judgements, views,
    deciding: opts.deciding, proxied: false, now: opts.at, client, env: opts.env,
    ...(opts.atGiven ? { clockFloor: new Date(0) } : {}),
  });
  const findings = sortFindings(judged.findings);
  return {
    schema: 1, host: opts.host, at: opts.at.toISOString(), ok: chainOk(judged.verdicts, findings, opts.deciding), decidingViews: opts.deciding,
    chain: opts.presented.map((c, i) => describeCertificate(c, i)), verdicts: judged.verdicts, findings,
  };
}
