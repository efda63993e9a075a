// Which proxy Ollama would use for an https:// request, by Go's rules
// (golang.org/x/net/http/httpproxy, which net/http's ProxyFromEnvironment uses):
// - HTTPS_PROXY, else https_proxy (the upper-case name wins when both are set);
// - a value without a scheme means http://;
// - localhost and loopback addresses are never proxied;
// - NO_PROXY (else no_proxy) is a comma list of `*`, CIDR ranges, IPs (optionally :port), and
//   domains (optionally :port) that match themselves and their subdomains; a leading "." or "*."
//   matches subdomains only.
import { domainToASCII } from 'node:url';
import { parseIp } from '../platform/ip.js';
import { isLoopbackIp, isLoopbackName } from '../platform/address.js';
import { redactProxyUrl } from '../platform/redact.js';

export type Env = Record<string, string | undefined>;

export interface ProxyChoice {
  /** The proxy to go through, or undefined to connect directly. */
  url?: URL;
  /** Where the proxy setting came from (the variable name, or --proxy). */
  source?: string;
  /** The setting as written. */
  raw?: string;
  /** Why a configured proxy is not used for this target. */
  bypass?: string;
  /** A setting Go could not parse: Go then connects directly. */
  invalid?: string;
}

function getEnvAny(env: Env, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/** Go's parseProxy: a value without a scheme (or host) is tried again as http://VALUE. */
export function parseProxyUrl(value: string): URL | undefined {
  const tryParse = (s: string) => {
    try {
      return new URL(s);
    } catch {
      return undefined;
    }
  };
  const direct = tryParse(value);
  if (direct && /^[a-z][a-z0-9+.-]*:$/i.test(direct.protocol) && direct.host) return direct;
  return tryParse(`http://${value}`) ?? undefined;
}

interface Matcher {
  entry: string;
  match(host: string, port: string, ip: Buffer | undefined): boolean;
}

function cidrContains(cidr: string, ip: Buffer): boolean {
  const [base, bitsText] = cidr.split('/');
  const net = parseIp(base!);
  const bits = Number(bitsText);
  if (!net || Number.isNaN(bits) || net.length !== ip.length || bits > net.length * 8) return false;
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((net[byte]! & mask) !== (ip[byte]! & mask)) return false;
  }
  return true;
}

/** Parse NO_PROXY the way httpproxy's config.init does. */
export function noProxyMatchers(value: string): Matcher[] {
  const matchers: Matcher[] = [];
  for (const raw of value.split(',')) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return [{ entry: '*', match: () => true }];
    if (/^[^/]+\/\d+$/.test(p) && parseIp(p.split('/')[0]!)) {
      matchers.push({ entry: p, match: (_h, _p, ip) => Boolean(ip && cidrContains(p, ip)) });
      continue;
    }
    let host = p;
    let port = '';
    const hp = p.match(/^(\[[^\]]*\]|[^:]*):(\d+)$/);
    if (hp) {
      host = hp[1]!.replace(/^\[(.*)\]$/, '$1');
      port = hp[2]!;
      if (!host) continue;
    }
    const ip = parseIp(host);
    if (ip) {
      matchers.push({ entry: p, match: (_h, tport, tip) => Boolean(tip && tip.equals(ip)) && (port === '' || port === tport) });
      continue;
    }
    if (host.startsWith('*.')) host = host.slice(1);
    const matchHost = !host.startsWith('.');
    if (matchHost) host = `.${host}`;
    host = idna(host);
    matchers.push({
      entry: p,
      match: (thost, tport) => (thost.endsWith(host) || (matchHost && thost === host.slice(1))) && (port === '' || port === tport),
    });
  }
  return matchers;
}

export interface ProxyOptions {
  /** --proxy URL: used instead of HTTPS_PROXY (NO_PROXY and the loopback rule still apply, as in Go). */
  proxy?: string;
  /** --no-proxy: connect directly whatever the environment says. */
  noProxy?: boolean;
}

/** The proxy Go would use to reach https://host:port. */
export function chooseProxy(host: string, port: number, env: Env, opts: ProxyOptions = {}): ProxyChoice {
  if (opts.noProxy) return {};
  const setting = opts.proxy !== undefined ? { name: '--proxy', value: opts.proxy } : getEnvAny(env, ['HTTPS_PROXY', 'https_proxy']);
  if (!setting) return {};
  const url = parseProxyUrl(setting.value);
  const base = { source: setting.name, raw: setting.value };
  if (!url) return { ...base, invalid: `${setting.name}=${redactProxyUrl(setting.value)} is not a URL Go can parse, so Go connects directly` };

  const h = idna(host.toLowerCase());
  const ip = parseIp(h);
  if (isLoopbackName(h)) return { ...base, url, bypass: 'localhost is never proxied' };
  if (ip && isLoopbackIp(ip)) return { ...base, url, bypass: 'loopback addresses are never proxied' };
  const noProxy = getEnvAny(env, ['NO_PROXY', 'no_proxy']);
  if (noProxy) {
    const matchers = noProxyMatchers(noProxy.value);
    // IP matchers only see IP targets; domain matchers see every target (Go tries both kinds).
    const hit = matchers.find((m) => m.match(h, String(port), ip));
    if (hit) return { ...base, url, bypass: `${noProxy.name} contains "${hit.entry}"` };
  }
  return { ...base, url };
}

/** Go compares names in their ASCII (punycode) form on both sides. */
function idna(name: string): string {
  if (/^[\x00-\x7f]*$/.test(name)) return name;
  const lead = name.startsWith('.') ? '.' : '';
  return lead + (domainToASCII(name.slice(lead.length)) || name.slice(lead.length));
}

/** A proxy setting fit to print (platform/redact.ts): the password is never shown. */
export function redactProxy(url: URL): string {
  return redactProxyUrl(url.href);
}
