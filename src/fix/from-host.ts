// `trust --from-host HOST`: connect the way Ollama does (same proxy, same rules), and take the CA
// that the connection presents: the interception root the doctor found, else the top of the
// chain the host sends. Trusting a CA fetched over the network is only safe once a person has
// checked its fingerprint, so the caller must confirm it or be given it (--fingerprint).
import { chainFacts } from '../diagnose/chain-facts.js';
import { runDoctor, type DoctorOptions } from '../diagnose/doctor.js';
import { InputError } from '../platform/input-error.js';
import { RootFs } from '../platform/rootfs.js';
import { parseTarget, TargetError } from '../probe/target.js';
import { formatName, type Certificate } from '../x509/certificate.js';

/** How to reach the host: the network flags doctor takes too (--timeout, --resolve, --proxy...). */
export type HostOptions = Pick<DoctorOptions, 'timeoutMs' | 'overrides' | 'proxy' | 'servername' | 'dnsServers'>;

export type FromHost =
  | { kind: 'candidate'; cert: Certificate; label: string; why: string; chain: Certificate[] }
  | { kind: 'already-trusted'; label: string }
  | { kind: 'failed'; label: string; problem: string };

export async function caFromHost(spec: string, net: HostOptions, root: string | undefined, version: string): Promise<FromHost> {
  let target;
  try {
    target = parseTarget(spec);
  } catch (e) {
    if (e instanceof TargetError) throw new InputError(`--from-host ${e.message}`);
    throw e;
  }
  const run = await runDoctor({
    targets: [target], extraCaFiles: [], deciding: ['go'], ...net,
    fs: new RootFs(root ?? '/'), env: process.env, platform: process.platform, version,
  });
  const report = run.report.targets[0]!;
  const chain = run.chains.get(target.label) ?? [];
  if (chain.length === 0) {
    const f = report.findings[0];
    return { kind: 'failed', label: target.label, problem: f ? `${f.title} [${f.code}]` : 'no certificate was received' };
  }
  if (report.verdicts.find((v) => v.view === 'go')?.ok) return { kind: 'already-trusted', label: target.label };
  const intercepted = run.interceptionCas.get(target.label);
  if (intercepted) {
    const finding = report.findings.find((f) => f.code.startsWith('interception-'));
    return { kind: 'candidate', cert: intercepted, label: target.label, chain, why: finding?.title ?? 'the interception CA' };
  }
  const facts = chainFacts(chain);
  const top = facts.linked[facts.linked.length - 1]!;
  if (top.isCA || top.selfSigned) {
    return { kind: 'candidate', cert: top, label: target.label, chain, why: top.selfSigned ? 'the root the host sends with its chain' : 'the top of the chain the host sends (an intermediate: its root was not sent)' };
  }
  return {
    kind: 'failed', label: target.label,
    problem: `${target.label} sends only its own certificate, issued by "${formatName(top.issuer)}", which it does not send: get that CA from your IT team and use --ca`,
  };
}

// The --fingerprint parsing doctor --fix imports from here (the trust command reads it from fingerprint.ts).
export { normaliseFingerprint, parseFingerprints } from './fingerprint.js';
