// probe -> chain -> verdicts -> findings -> report, for every target at once. Orchestration only:
// one target is checked by check-target.ts, the pull path walked by pull-walk.ts, the proxy
// environment judged by proxy-env-findings.ts, the local Ollama by ollama/check.ts.
import { diagnoseOllama } from './ollama-findings.js';
import type { ModelName } from '../ollama/name.js';
import type { Target } from '../probe/target.js';
import type { DirTree } from '../platform/rootfs.js';
import { TrustViews } from '../trust/views.js';
import { checkUpstream, storePreload, targetChecker, type CheckOptions, type Found } from './check-target.js';
import { sortFindings } from './finding.js';
import { proxyEnvironmentFindings } from './proxy-env-findings.js';
import { walkPull } from './pull-walk.js';
import type { DoctorReport } from './report.js';

export interface DoctorOptions extends CheckOptions {
  /** Hosts given on the command line; https:// URLs among them also get the upstream HTTP checks. */
  targets: Target[];
  /** Walk the pull path of this model (the default run, and --model). */
  pull?: { name: ModelName };
  /** --ai: the common AI API hosts, checked like any host. */
  aiTargets?: Target[];
  extraCaFiles: string[];
  /** Password of a PKCS#12 --ca file. */
  caPassword?: string;
  fs: DirTree;
  platform: NodeJS.Platform;
  /** Check the local Ollama server too (OLLAMA_HOST, its service, its process): the default run. */
  localOllama?: boolean;
  now?: Date;
}

export interface DoctorRun extends Found {
  report: DoctorReport;
}

/** Every target at once: the given ones, the pull path, --ai, and the local Ollama; one report. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorRun> {
  const now = opts.now ?? new Date();
  const views = new TrustViews({ fs: opts.fs, env: opts.env, platform: opts.platform, now, extraCaFiles: opts.extraCaFiles, ...(opts.caPassword !== undefined ? { caPassword: opts.caPassword } : {}) });
  const found: Found = { chains: new Map(), interceptionCas: new Map(), interceptionCaMissing: new Map(), interceptionCandidates: new Map() };
  const one = targetChecker({ ...storePreload(views, opts.fs, opts.platform), opts, views, now, found });

  const explicit = Promise.all([
    ...opts.targets.map((t) => (/^https:\/\//i.test(t.input) ? checkUpstream(one, t, opts) : one(t, undefined))),
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
    ...found,
  };
}
