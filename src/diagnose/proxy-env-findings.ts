// What the proxy environment as a whole says, beyond any one target: HTTP_PROXY set for nothing,
// a proxy setting Go cannot parse, no HTTPS_PROXY while direct connections fail.
import { chooseProxy, type ProxyOptions } from '../probe/proxy-env.js';
import { isPublicHostName, type Target } from '../probe/target.js';
import type { Env } from '../trust/stores.js';
import type { Finding } from './finding.js';
import { NETWORK_FIX } from './fixes.js';
import type { TargetReport } from './report.js';

/** What the proxy environment as a whole says, beyond any one target. */
export function proxyEnvironmentFindings(opts: { env: Env; proxy?: ProxyOptions; targets: Target[] }, targets: TargetReport[]): Finding[] {
  const out: Finding[] = [];
  const env = opts.env;
  const httpProxy = env.HTTP_PROXY ? 'HTTP_PROXY' : env.http_proxy ? 'http_proxy' : undefined;
  if (httpProxy && !opts.proxy?.noProxy) {
    out.push({
      code: 'ollama-proxy-env', severity: 'warning',
      title: `${httpProxy} is set; Ollama only needs HTTPS_PROXY`,
      detail:
        'Model pulls use HTTPS only, so HTTP_PROXY does nothing for them, and Ollama\'s FAQ warns that it can break the client\'s own calls to the ' +
        'server (OLLAMA_HOST) when that address is not loopback or not listed in NO_PROXY.',
      evidence: [`${httpProxy}=${env[httpProxy]}`],
      fixes: [{ title: `Unset ${httpProxy} for Ollama and set HTTPS_PROXY instead (plus NO_PROXY=localhost,127.0.0.1)`, command: `unset ${httpProxy}`, side: 'client' }],
    });
  }
  const invalid = opts.targets.map((t) => chooseProxy(t.host, t.port, env, opts.proxy).invalid).find(Boolean);
  if (invalid) {
    out.push({
      code: 'ollama-proxy-env', severity: 'warning', title: 'The proxy setting cannot be parsed', detail: `${invalid}.`, evidence: [invalid],
      fixes: [{ title: 'Write it as a URL', command: 'export HTTPS_PROXY=http://proxy.example:3128', side: 'client' }],
    });
  }
  const noProxyConfigured = !opts.proxy?.proxy && !env.HTTPS_PROXY && !env.https_proxy;
  const unreachable = targets.filter((t) => !t.proxy && t.findings.some((f) => NEEDS_PROXY_HINT.has(f.code)) && isPublicHostName(t.host));
  if (noProxyConfigured && !opts.proxy?.noProxy && unreachable.length) {
    out.push({
      code: 'ollama-proxy-env', severity: 'warning',
      title: 'No HTTPS_PROXY is set, and direct connections fail',
      detail:
        `${unreachable.map((t) => t.target).join(', ')} could not be reached directly. Many corporate networks only let HTTPS out through a proxy; if ` +
        'yours does, Ollama needs HTTPS_PROXY in its own environment (the service, not your shell).',
      evidence: unreachable.map((t) => `${t.target}: ${t.findings[0]!.code}`),
      fixes: [NETWORK_FIX.proxyForOllama],
    });
  }
  return out;
}

const NEEDS_PROXY_HINT = new Set(['dns-failure', 'connect-timeout', 'connection-refused', 'host-unreachable', 'connection-reset']);
