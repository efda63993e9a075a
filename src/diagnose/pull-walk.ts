// The Ollama pull path as `ollama pull` walks it: the registry's manifest and blob requests, then
// every host a redirect leads to, each checked as a target of its own (check-target.ts); the
// known hosts when the registry cannot show the way.
import type { ProbeResult } from '../probe/probe.js';
import { PULL_FALLBACK_HOSTS } from '../probe/known-hosts.js';
import { formatHostPort, httpsOrigin, parseTarget } from '../probe/target.js';
import { crossHostHops, hopRequests, registryRequests, reportableUrl, type PullHop } from '../ollama/pull-path.js';
import { DEFAULT_REGISTRY, displayName, manifestPath, type ModelName } from '../ollama/name.js';
import { fallbackFinding, readBlobHost, readRegistry } from './pull-findings.js';
import { userAgent, type CheckOne } from './check-target.js';
import type { Finding } from './finding.js';
import type { PullReport, TargetReport } from './report.js';

/**
 * The pull path, host by host: the registry (manifest, blob HEAD and GET), then every host a
 * redirect leads to, each probed and judged as a target of its own. When the registry cannot show
 * the way, the known hosts are checked instead, and the report says so.
 */
export async function walkPull(name: ModelName, one: CheckOne, opts: { version: string }): Promise<{ checked: { report: TargetReport; probe: ProbeResult }[]; report: PullReport; findings: Finding[] }> {
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

