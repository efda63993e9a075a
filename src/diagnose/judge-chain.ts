// The judgement of one presented chain: each view's verdict, the chain and trust findings, and
// the interception analysis. The doctor calls it for every chain a server sends; `verify` calls
// it for a chain read from a file. One code path, so both say the same about the same chain.
import type { Certificate } from '../x509/certificate.js';
import type { ClientPlatform } from '../platform/host.js';
import { clockFloor, type Env } from '../trust/stores.js';
import type { Judgement, TrustViews, ViewName } from '../trust/views.js';
import { verdictWithCode } from './verdict-codes.js';
import type { Finding } from './finding.js';
import { analyseInterception, interceptionFinding, type InterceptionAnalysis } from './interception.js';
import type { Verdict } from './report.js';
import { diagnoseChain } from './trust-findings.js';

export interface ChainJudgementInput {
  /** The host as given, and the target as printed. */
  host: string;
  label: string;
  /** The name the clients verify (SNI or host). */
  verifyName: string;
  presented: Certificate[];
  /** views.judge(presented, verifyName), already made. */
  judgements: Judgement[];
  views: TrustViews;
  deciding: ViewName[];
  /** The connection went through a proxy. */
  proxied: boolean;
  /** --compare-direct: what the server sent without the proxy. */
  direct?: { chain: Certificate[] } | { failure: string };
  now: Date;
  client: ClientPlatform;
  env: Env;
  /**
   * The earliest a correct clock can read (clock-skew below it). Default: the newest bundled root's
   * notBefore. verify --at gives a time on purpose, so it is no clock to doubt.
   */
  clockFloor?: Date;
}

export interface ChainJudgement {
  verdicts: Verdict[];
  findings: Finding[];
  interception: InterceptionAnalysis;
}

export async function judgePresentedChain(input: ChainJudgementInput): Promise<ChainJudgement> {
  const { presented, judgements, views, deciding, now, client } = input;
  const verdicts = judgements.map((j) => verdictWithCode(j));
  // Interception first: whether an inspection product is in the middle helps tell a root that
  // was not sent from a missing intermediate.
  const analysisInput = {
    host: input.host, label: input.label, presented, judgements, deciding, proxied: input.proxied,
    osStore: await views.store('system'), caFiles: views.ctx.extraCaFiles, now, client,
    ...(input.direct ? { direct: input.direct } : {}),
  };
  const interception = analyseInterception(analysisInput);
  const findings = await diagnoseChain({
    presented, judgements, deciding, views, verifyName: input.verifyName, label: input.label,
    now, client, env: input.env, clockFloor: input.clockFloor ?? clockFloor(),
    interception: { verdict: interception.verdict, ...(interception.product ? { product: interception.product.name } : {}) },
  });
  const finding = interceptionFinding(interception, analysisInput);
  if (finding) findings.push(finding);
  return { verdicts, findings, interception };
}

/** A target passes when every deciding view accepts and no error-severity finding remains (the contract's `ok`). */
export function chainOk(verdicts: Verdict[], findings: Finding[], deciding: ViewName[]): boolean {
  const decidingOk = verdicts.length > 0 && verdicts.filter((v) => deciding.includes(v.view)).every((v) => v.ok);
  return decidingOk && !findings.some((f) => f.severity === 'error');
}
