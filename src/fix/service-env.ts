// Give Ollama's systemd service the environment the doctor found it lacks (the shell's HTTPS
// proxy, the shell's SSL_CERT_FILE), as a drop-in of ollama-tls's own, so that `doctor --fix` can
// carry the fix out and undo is one file. `systemctl edit ollama` writes override.conf; this
// writes ollama-tls.conf beside it and leaves the user's files alone.
import { systemProgram } from '../platform/executable.js';
import { readSystemdService } from '../ollama/systemd.js';
import type { TrustContext } from './context.js';
import type { Plan, Step } from './plan.js';

export const DROP_IN = '/etc/systemd/system/ollama.service.d/ollama-tls.conf';

export interface ServiceEnvWant {
  /** Variables to set, and why (the finding that asked). */
  set: { name: string; value: string; why: string }[];
  /** What could not be given, and why (a proxy URL with credentials is a secret: never written). */
  skipped: string[];
}

/** A URL with a user or password in it: a secret, never written into a unit file. */
const hasCredentials = (url: string): boolean => {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return /\/\/[^/@]*@/.test(url);
  }
};

/**
 * What the service lacks that the shell has: HTTPS_PROXY (with NO_PROXY) when the doctor reported
 * `ollama-proxy-env`, SSL_CERT_FILE when it reported the shell has one the service does not.
 */
export function serviceEnvWanted(findings: { code: string; evidence: string[] }[], shell: NodeJS.ProcessEnv): ServiceEnvWant {
  const out: ServiceEnvWant = { set: [], skipped: [] };
  if (findings.some((f) => f.code === 'ollama-proxy-env')) {
    const name = ['HTTPS_PROXY', 'https_proxy'].find((n) => shell[n]);
    const proxy = name ? shell[name]! : undefined;
    if (proxy && hasCredentials(proxy)) {
      out.skipped.push('the shell\'s HTTPS_PROXY carries credentials, which ollama-tls never writes: put it in a root-only EnvironmentFile= yourself (sudo systemctl edit ollama)');
    } else if (proxy) {
      out.set.push({ name: 'HTTPS_PROXY', value: proxy, why: 'this shell has it; ollama serve, which makes the pull\'s connections, does not' });
      const noProxy = shell.NO_PROXY ?? shell.no_proxy;
      if (noProxy) out.set.push({ name: 'NO_PROXY', value: noProxy, why: 'goes with HTTPS_PROXY' });
    }
  }
  const certFile = shell.SSL_CERT_FILE;
  if (certFile && findings.some((f) => f.code === 'ollama-service-env' && f.evidence.includes(`SSL_CERT_FILE=${certFile} (shell)`))) {
    out.set.push({ name: 'SSL_CERT_FILE', value: certFile, why: 'this shell has it; ollama serve reads the default roots instead' });
  }
  return out;
}

/** systemd's quoting for one Environment= assignment. */
const assignment = (name: string, value: string): string => `Environment="${name}=${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The plan: the drop-in, then (on the running system) daemon-reload; undefined when there is no ollama service or nothing to set. */
export function serviceEnvPlan(ctx: TrustContext, want: ServiceEnvWant): Plan | undefined {
  if (want.set.length === 0) return undefined;
  const service = readSystemdService(ctx.fs);
  if (!service || service.masked) return undefined;
  const content = [
    '# Written by ollama-tls doctor --fix: what ollama serve lacked. Remove this file (then systemctl daemon-reload) to undo.',
    '[Service]',
    ...want.set.map((v) => assignment(v.name, v.value)),
    '',
  ].join('\n');
  const steps: Step[] = [{ kind: 'write', path: DROP_IN, content, mode: 0o644, why: `give ${service.unit} ${want.set.map((v) => v.name).join(', ')}` }];
  const systemctl = ctx.live ? systemProgram('systemctl', (p) => ctx.hostTool(p)) : undefined;
  if (systemctl) steps.push({ kind: 'run', argv: [systemctl, 'daemon-reload'], why: 'systemd reads the drop-in' });
  return {
    target: 'ollama-service', title: `Ollama's service environment (${DROP_IN})`, action: 'trust', root: ctx.root, steps, unchanged: [],
    needsPrivilege: !ctx.canWrite('/etc/systemd/system/ollama.service.d'),
    readers: 'ollama serve, from its next start',
    notes: [...want.set.map((v) => `${v.name}: ${v.why}`), ...want.skipped],
  };
}
