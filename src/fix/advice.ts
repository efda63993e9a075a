// What a store does not reach. Programs that keep their own roots need telling, and a running
// Ollama keeps the roots it loaded at start (Go reads them once per process), so it must restart.
import path from 'node:path';
import type { TrustContext } from './context.js';
import { LINUX_FAMILIES, LINUX_FAMILY_NAMES, shellToolCommand } from '../platform/linux-families.js';
import { redactProxyUrl } from '../platform/redact.js';
import { GO_CERT_FILES } from '../trust/store-paths.js';
import type { Plan } from './plan.js';

export interface Advice {
  title: string;
  command?: string;
}

/**
 * The bundle a Linux store ends up in, for tools pointed at a file: the family's Go bundle
 * (linux-families.ts), and for the native edits the first of Go's files.
 */
const LINUX_BUNDLE: Record<string, string> = {
  ...Object.fromEntries(LINUX_FAMILY_NAMES.map((f) => [f, LINUX_FAMILIES[f].goBundle])),
  'linux-native': GO_CERT_FILES[0]!,
};

const DEBIAN = LINUX_FAMILIES.debian;

/** How to make a running Ollama pick up the new roots. */
export function restartAdvice(ctx: TrustContext, plans: Plan[]): Advice[] {
  const out: Advice[] = [];
  const ids = new Set(plans.map((p) => p.target));
  if (ctx.platform === 'linux' && [...ids].some((id) => id in LINUX_BUNDLE)) {
    const service = ['/etc/systemd/system/ollama.service', '/usr/lib/systemd/system/ollama.service', '/lib/systemd/system/ollama.service'].some((p) => ctx.fs.exists(p));
    if (!ctx.live) out.push({ title: 'Programs started from this tree see the change; restart the ones already running (Go reads its roots once, at start)' });
    else if (service) out.push({ title: 'Restart Ollama so Go reloads its roots (it reads them once, at start)', command: 'sudo systemctl restart ollama' });
    else out.push({ title: 'Restart "ollama serve" (and any container running Ollama) so Go reloads its roots: it reads them once, at start' });
  }
  if (ids.has('macos')) out.push({ title: 'Quit and reopen the Ollama app so it sees the change', command: `osascript -e 'quit app "Ollama"' && open -a Ollama` });
  if (ids.has('windows') || ids.has('wsl-windows')) out.push({ title: 'Quit Ollama from the system tray and start it again (a service: restart it)' });
  const compose = plans.find((p) => p.target === 'compose');
  if (compose && compose.action === 'trust') {
    const override = compose.title.match(/\((.*)\)$/)?.[1] ?? 'the override';
    out.push({ title: 'Recreate the services with the override (Go reads its roots once, at start)', command: `docker compose -f ${path.basename(override).replace('.ollama-tls', '')} -f ${path.basename(override)} up -d` });
    const proxy = ctx.env.HTTPS_PROXY ?? ctx.env.https_proxy;
    if (proxy) out.push({ title: 'The containers do not inherit your HTTPS_PROXY: give the services it (and NO_PROXY for their own names) in the compose file', command: `environment: { HTTPS_PROXY: "${redactProxyUrl(proxy)}", NO_PROXY: "localhost,127.0.0.1,ollama" }` });
  }
  if (plans.some((p) => p.action === 'trust' && ['compose', 'dockerfile', 'image'].includes(p.target))) {
    out.push({ title: 'A container already running keeps its old roots; to fix one in place (Debian/Ubuntu-based, e.g. ollama/ollama), then restart it', command: `docker cp corp-ca.pem ollama:${DEBIAN.anchorDir}/corp-ca${DEBIAN.anchorSuffix} && docker exec ollama ${shellToolCommand(DEBIAN)} && docker restart ollama` });
  }
  if (ids.has('bundle')) {
    const file = plans.find((p) => p.target === 'bundle')!.title.replace(/^CA bundle file /, '');
    out.push({ title: 'Point Ollama at the bundle, then restart it', command: ctx.platform === 'linux' ? `sudo systemctl edit ollama   # [Service] Environment="SSL_CERT_FILE=${file}"` : `SSL_CERT_FILE=${file} ollama serve` });
  }
  return out;
}

/** Programs that do not read the store just changed, and how to give them the CA. */
export function otherReaders(ctx: TrustContext, plans: Plan[]): Advice[] {
  // Only a store on this machine leaves other programs here to tell; a container's files do not.
  if (!plans.some((p) => p.target in LINUX_BUNDLE || ['bundle', 'macos', 'windows', 'wsl-windows'].includes(p.target))) return [];
  const linux = plans.find((p) => p.target in LINUX_BUNDLE);
  const bundle = linux ? LINUX_BUNDLE[linux.target] : plans.find((p) => p.target === 'bundle')?.title.replace(/^CA bundle file /, '');
  const out: Advice[] = [];
  if (bundle) {
    out.push({ title: 'Node.js keeps its own roots: add the bundle (or run Node 22.15+/23.8+ with --use-system-ca)', command: `export NODE_EXTRA_CA_CERTS=${bundle}` });
    out.push({ title: 'Python requests/pip use certifi, not the OS store: point them at the bundle (or install truststore)', command: `export REQUESTS_CA_BUNDLE=${bundle} PIP_CERT=${bundle}` });
  } else if (ctx.platform === 'darwin' || ctx.platform === 'win32') {
    out.push({ title: 'Node.js keeps its own roots: run it with --use-system-ca (Node 22.15+/23.8+), or export NODE_EXTRA_CA_CERTS=corp-ca.pem' });
    out.push({ title: 'Python requests/pip use certifi: `pip install truststore` makes them ask the OS, or set REQUESTS_CA_BUNDLE' });
  }
  const hooks = linux?.target === 'debian' && ctx.fs.exists('/etc/ca-certificates/update.d/jks-keystore');
  out.push(hooks
    ? { title: "Java: Debian's jks-keystore hook has added it to Java's cacerts as well" }
    : { title: "Java keeps its own cacerts: import the CA there", command: 'keytool -importcert -cacerts -alias ollama-tls-ca -file corp-ca.pem' });
  return out;
}
