// `trust --compose FILE`: give services of a Compose project a CA without touching the user's
// file. An override file beside it mounts a generated bundle read-only and points the programs
// in the container at it (SSL_CERT_FILE for Go, hence Ollama; the Python and Node variables for
// images known to run those). The user's compose file is only read, with a YAML library that
// keeps its comments; ours is written fresh, with a comment saying how to remove it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Certificate } from '../x509/certificate.js';
import { writableHostDir } from './context.js';
import { appendBlock, caLabel, PlanError, type Check, type Plan, type Step, type TrustTarget } from './plan.js';

/** Where the bundle appears inside the containers: a path of its own, so nothing else is shadowed. */
export const BUNDLE_MOUNT = '/etc/ollama-tls/ca-bundle.pem';

const MARK = 'Written by ollama-tls';

// What runs inside an image decides which variables make it read the bundle. Go reads
// SSL_CERT_FILE (and so does OpenSSL, hence curl and Python's ssl module); requests/pip use
// certifi unless REQUESTS_CA_BUNDLE is set; Node only adds NODE_EXTRA_CA_CERTS.
const RUNTIMES: { match: RegExp; runtime: string; env: string[] }[] = [
  { match: /(^|\/)ollama(:|@|$)/, runtime: 'Ollama (Go)', env: ['SSL_CERT_FILE'] },
  { match: /open-?webui|python|jupyter|litellm|langflow|flowise-?py/i, runtime: 'Python', env: ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE'] },
  { match: /(^|\/)(node|n8n|flowise|anythingllm|librechat)(:|@|$)|anything-?llm|librechat|n8nio\//i, runtime: 'Node.js', env: ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS'] },
];

export interface ComposeService {
  name: string;
  image?: string;
  /** Variables the service already sets that the override would replace. */
  sets: string[];
}

export function readServices(text: string): ComposeService[] {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) throw new PlanError(doc.errors[0]!.message);
  const js = doc.toJS() as { services?: Record<string, { image?: string; environment?: Record<string, unknown> | string[] } | null> } | null;
  return Object.entries(js?.services ?? {}).map(([name, s]) => {
    const env = s?.environment;
    const keys = Array.isArray(env) ? env.map((e) => String(e).split('=')[0]!) : Object.keys(env ?? {});
    return { name, ...(s?.image ? { image: String(s.image) } : {}), sets: keys };
  });
}

function runtimeOf(image: string | undefined): { runtime: string; env: string[] } {
  const hit = image ? RUNTIMES.find((r) => r.match.test(image)) : undefined;
  return hit ?? { runtime: 'unknown', env: ['SSL_CERT_FILE'] };
}

/** Services to patch when none are named: the Ollama ones, else the only service there is. */
export function defaultServices(services: ComposeService[]): string[] {
  const ollama = services.filter((s) => s.image && RUNTIMES[0]!.match.test(s.image)).map((s) => s.name);
  if (ollama.length) return ollama;
  return services.length === 1 ? [services[0]!.name] : [];
}

export const overridePath = (composeFile: string): string => {
  const ext = path.extname(composeFile) || '.yaml';
  return path.join(path.dirname(composeFile), `${path.basename(composeFile, ext)}.ollama-tls${ext}`);
};
export const bundlePath = (composeFile: string): string => path.join(path.dirname(composeFile), 'ollama-tls-ca-bundle.pem');

export interface ComposePlan {
  override: { path: string; text: string };
  bundle: { path: string; text: string };
  services: { name: string; runtime: string; env: string[] }[];
  notes: string[];
}

export function planCompose(file: string, text: string, serviceNames: string[], cas: Certificate[], roots: Certificate[]): ComposePlan {
  const all = readServices(text);
  const notes: string[] = [];
  const services = serviceNames.map((name) => {
    const s = all.find((x) => x.name === name);
    if (!s) throw new PlanError(`no service "${name}" in ${file} (services: ${all.map((x) => x.name).join(', ') || 'none'})`);
    const r = runtimeOf(s.image);
    const replaced = r.env.filter((e) => s.sets.includes(e));
    if (replaced.length) notes.push(`${name} already sets ${replaced.join(', ')} in ${path.basename(file)}; the override replaces it.`);
    return { name, runtime: r.runtime, env: r.env };
  });
  const override = path.basename(overridePath(file));
  const bundleFile = path.basename(bundlePath(file));
  const doc = new YAML.Document({
    services: Object.fromEntries(services.map((s) => [s.name, {
      volumes: [`./${bundleFile}:${BUNDLE_MOUNT}:ro`],
      environment: Object.fromEntries(s.env.map((e) => [e, BUNDLE_MOUNT])),
    }])),
  });
  doc.commentBefore =
    ` ${MARK} for ${cas.map((c) => `"${caLabel(c)}" (sha256:${c.sha256})`).join(', ')}.\n` +
    ` Use it with: docker compose -f ${path.basename(file)} -f ${override} up -d\n` +
    ` Remove it with: ollama-tls untrust --compose ${path.basename(file)}`;
  let bundle = `# ${MARK}: the public roots (Mozilla's, as Debian and Ubuntu ship them) and your CA, for ${services.map((s) => s.name).join(', ')}.\n`;
  bundle += roots.map((c) => c.toPem()).join('');
  for (const ca of cas) bundle = appendBlock(bundle, ca.sha256, ca.toPem(), caLabel(ca));
  notes.push(`The containers see ${BUNDLE_MOUNT}: the public roots plus the CA. Their image's own CA store is not changed.`);
  return { override: { path: overridePath(file), text: doc.toString() }, bundle: { path: bundlePath(file), text: bundle }, services, notes };
}

/** Whether a file is an override ollama-tls wrote (untrust removes only those). */
export const isOurs = (text: string): boolean => text.startsWith(`# ${MARK}`) || text.startsWith(`#${MARK}`);

function readHost(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** The compose target: the user's file is read, never written; the override and bundle are ours. */
export function composeTarget(file: string, services: string[], roots: Certificate[]): TrustTarget {
  const abs = path.resolve(file);
  const plan = (action: 'trust' | 'untrust', steps: Step[], unchanged: string[], notes: string[], names: string[]): Plan => ({
    target: 'compose', action, root: '/', title: `Compose override for ${names.join(', ') || 'no service'} (${overridePath(abs)})`,
    steps, unchanged, notes, needsPrivilege: !writableHostDir(path.dirname(abs)),
    readers: 'the services named, once recreated with the override (docker compose ... up -d)',
  });
  return {
    id: 'compose',
    detect: () => ({ applies: true, why: `--compose ${file}` }),
    plan(_ctx, cas) {
      const text = readHost(abs);
      if (text === undefined) throw new PlanError(`--compose ${file}: cannot read it`);
      const existing = readHost(overridePath(abs));
      if (existing !== undefined && !isOurs(existing)) throw new PlanError(`${overridePath(abs)} exists and was not written by ollama-tls; move it away first`);
      const p = planCompose(abs, text, services, cas, roots);
      const steps: Step[] = [];
      const unchanged: string[] = [];
      if (readHost(p.bundle.path) === p.bundle.text) unchanged.push(`${p.bundle.path} already holds these CAs`);
      else steps.push({ kind: 'write', path: p.bundle.path, content: p.bundle.text, mode: 0o644, why: `the bundle the containers will read (${p.bundle.text.split('BEGIN CERTIFICATE').length - 1} certificates)` });
      if (existing === p.override.text) unchanged.push(`${p.override.path} is already as planned`);
      else steps.push({ kind: 'write', path: p.override.path, content: p.override.text, mode: 0o644, why: `mount it into ${p.services.map((s) => `${s.name} (${s.runtime}: ${s.env.join(', ')})`).join('; ')}` });
      return plan('trust', steps, unchanged, p.notes, p.services.map((s) => s.name));
    },
    planUndo() {
      const steps: Step[] = [];
      const unchanged: string[] = [];
      const o = readHost(overridePath(abs));
      if (o !== undefined && isOurs(o)) steps.push({ kind: 'remove', path: overridePath(abs), why: 'the override ollama-tls wrote' });
      else unchanged.push(`no override written by ollama-tls beside ${file}`);
      const b = readHost(bundlePath(abs));
      if (b !== undefined && isOurs(b)) steps.push({ kind: 'remove', path: bundlePath(abs), why: 'the bundle it mounted' });
      return plan('untrust', steps, unchanged, [], services);
    },
    async verify(_ctx, refs, action): Promise<Check[]> {
      const o = readHost(overridePath(abs));
      const b = readHost(bundlePath(abs)) ?? '';
      if (action === 'untrust') return [{ ok: o === undefined, what: `${overridePath(abs)} ${o === undefined ? 'is gone' : 'is still there'}` }];
      const parsed = o === undefined ? undefined : (YAML.parse(o) as { services?: Record<string, { volumes?: string[]; environment?: Record<string, string> }> });
      const checks: Check[] = [];
      for (const name of services) {
        const s = parsed?.services?.[name];
        const ok = Boolean(s?.volumes?.some((v) => v.endsWith(`:${BUNDLE_MOUNT}:ro`)) && s?.environment?.SSL_CERT_FILE === BUNDLE_MOUNT);
        checks.push({ ok, what: `${name}: ${ok ? `mounts the bundle and sets SSL_CERT_FILE=${BUNDLE_MOUNT}` : 'the override does not mount the bundle'}` });
      }
      for (const r of refs) checks.push({ ok: b.includes(r.sha256), what: `the bundle ${b.includes(r.sha256) ? 'holds' : 'lacks'} ${r.cert ? `"${caLabel(r.cert)}"` : r.sha256.slice(0, 16)}` });
      return checks;
    },
  };
}
