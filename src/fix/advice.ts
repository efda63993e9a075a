// What a store does not reach. Programs that keep their own roots need telling, and a running
// Ollama keeps the roots it loaded at start (Go reads them once per process), so it must restart.
import type { TrustContext } from './context.js';
import type { Plan } from './plan.js';

export interface Advice {
  title: string;
  command?: string;
}

/** The bundle a Linux store ends up in, for tools pointed at a file. */
const LINUX_BUNDLE: Record<string, string> = {
  debian: '/etc/ssl/certs/ca-certificates.crt',
  alpine: '/etc/ssl/certs/ca-certificates.crt',
  rhel: '/etc/pki/tls/certs/ca-bundle.crt',
  suse: '/etc/ssl/ca-bundle.pem',
  arch: '/etc/ssl/certs/ca-certificates.crt',
  'linux-native': '/etc/ssl/certs/ca-certificates.crt',
};

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
  if (ids.has('bundle')) {
    const file = plans.find((p) => p.target === 'bundle')!.title.replace(/^CA bundle file /, '');
    out.push({ title: 'Point Ollama at the bundle, then restart it', command: ctx.platform === 'linux' ? `sudo systemctl edit ollama   # [Service] Environment="SSL_CERT_FILE=${file}"` : `SSL_CERT_FILE=${file} ollama serve` });
  }
  return out;
}

/** Programs that do not read the store just changed, and how to give them the CA. */
export function otherReaders(ctx: TrustContext, plans: Plan[]): Advice[] {
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
