// What the user asked us to check: `host`, `host:port`, `[v6]:port`, a bare IPv6 literal, or an
// https:// URL. Anything else is a usage error (exit 2) with a message saying what is accepted.
import { InputError } from '../platform/input-error.js';
import { ipVersion } from '../platform/ip.js';
import { hasPrivateSuffix } from '../platform/address.js';

export interface Target {
  /** The argument as given. */
  input: string;
  /** Host name or IP literal, without brackets, lower-cased names, no trailing dot. */
  host: string;
  port: number;
  /** Path from an https:// URL, used by later HTTP checks. */
  path?: string;
  /** How the contract prints it: host:port, [v6]:port. */
  label: string;
}

export class TargetError extends InputError {}

export function formatHostPort(host: string, port: number): string {
  return `${ipVersion(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The Host header Go sends for https: the port only when it is not 443. */
export function hostHeader(host: string, port: number): string {
  return formatHostPort(host, port).replace(/:443$/, '');
}

/** https://host[:port] for a target, as a base for request URLs. */
export function httpsOrigin(t: Pick<Target, 'host' | 'port'>): string {
  return `https://${hostHeader(t.host, t.port)}`;
}

function parsePort(text: string, input: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new TargetError(`"${input}": the port must be a number from 1 to 65535`);
  }
  return Number(text);
}

function normaliseHost(host: string, input: string): string {
  if (ipVersion(host)) return host.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(h) && !/^xn--/.test(h)) {
    throw new TargetError(`"${input}" is not a host name, IP address or https:// URL`);
  }
  return h;
}

export function parseTarget(input: string): Target {
  const raw = input.trim();
  if (!raw) throw new TargetError('an empty target was given');
  const scheme = raw.match(/^([a-z][a-z0-9+.-]*):\/\//i)?.[1]?.toLowerCase();
  if (scheme) {
    if (scheme === 'http') {
      throw new TargetError(`"${input}" is plain HTTP: there is no TLS to check. Use https://, or a host:port that speaks TLS.`);
    }
    if (scheme !== 'https') throw new TargetError(`"${input}": only https:// URLs are checked (got ${scheme}://)`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new TargetError(`"${input}" is not a valid URL`);
    }
    const host = normaliseHost(url.hostname.replace(/^\[|\]$/g, ''), input);
    const port = url.port ? Number(url.port) : 443;
    const path = `${url.pathname}${url.search}`;
    return { input, host, port, ...(path && path !== '/' ? { path } : {}), label: formatHostPort(host, port) };
  }
  if (raw.startsWith('[')) {
    const m = raw.match(/^\[([^\]]+)\](?::(.*))?$/);
    if (!m || ipVersion(m[1]!) !== 6) throw new TargetError(`"${input}": brackets are for IPv6 addresses, as in [::1]:443`);
    const port = m[2] !== undefined ? parsePort(m[2], input) : 443;
    return { input, host: m[1]!.toLowerCase(), port, label: formatHostPort(m[1]!.toLowerCase(), port) };
  }
  if (ipVersion(raw) === 6) return { input, host: raw.toLowerCase(), port: 443, label: formatHostPort(raw.toLowerCase(), 443) };
  const colon = raw.lastIndexOf(':');
  const hostPart = colon >= 0 ? raw.slice(0, colon) : raw;
  const port = colon >= 0 ? parsePort(raw.slice(colon + 1), input) : 443;
  if (hostPart.includes('/')) throw new TargetError(`"${input}": give a host, host:port or an https:// URL`);
  const host = normaliseHost(hostPart, input);
  return { input, host, port, label: formatHostPort(host, port) };
}

/** A DNS name on the public internet: not an address, not a single label, not a private suffix. */
export function isPublicHostName(host: string): boolean {
  if (ipVersion(host)) return false;
  return host.includes('.') && !hasPrivateSuffix(host);
}
