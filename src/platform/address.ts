// Where an address or host name lives: loopback, private, unspecified, or public. The one home of
// these facts; each caller asks its own question from them:
// - probe/proxy-env.ts, "does Go's httpproxy bypass the proxy?": `isLoopbackName` or
//   `isLoopbackIp` only (Go's useProxy checks host == "localhost" and ip.IsLoopback(); a private
//   address or *.localhost is still proxied unless NO_PROXY says otherwise);
// - ollama/host.ts `isPublicBind`, "is a listener on this host reachable from other machines?":
//   everything but loopback, so unspecified (every interface) and private addresses count as exposed;
// - diagnose/network-findings.ts, "could this target need a proxy at all?": `isLocalHost`, which
//   adds private and link-local ranges and single-label names to loopback;
// - probe/target.ts `isPublicHostName`, "is this a DNS name on the public internet?": no address
//   at all, and not a name under a private suffix (`hasPrivateSuffix`).
// Addresses are compared as parsed bytes (platform/ip.ts), so ::ffff:127.0.0.1 and 0:0::1 are
// loopback like 127.0.0.1 and ::1, as Go's net.IP methods see them.
import { parseIp } from './ip.js';

/** 127.0.0.0/8 and ::1 (Go's net.IP.IsLoopback); IPv4-mapped IPv6 arrives as 4 bytes from parseIp. */
export function isLoopbackIp(ip: Buffer): boolean {
  if (ip.length === 4) return ip[0] === 127;
  return ip.subarray(0, 15).every((b) => b === 0) && ip[15] === 1;
}

/**
 * The name "localhost" exactly (any case), as Go's httpproxy and Ollama's listener treat it.
 * Not *.localhost: Go proxies those (RFC 6761 reserves them, but Go does not special-case them).
 */
export function isLoopbackName(host: string): boolean {
  return host.toLowerCase() === 'localhost';
}

/** "localhost" or a loopback IP literal. */
export function isLoopbackHost(host: string): boolean {
  const ip = parseIp(host);
  return isLoopbackName(host) || (ip !== undefined && isLoopbackIp(ip));
}

/** Every interface: an empty host (":11434"), 0.0.0.0 or :: (Go's net.IP.IsUnspecified). */
export function isUnspecifiedHost(host: string): boolean {
  if (host === '') return true;
  const ip = parseIp(host);
  return ip !== undefined && ip.every((b) => b === 0);
}

/** RFC 1918 and fc00::/7 (Go's net.IP.IsPrivate), plus link-local 169.254.0.0/16 and fe80::/10. */
export function isPrivateIp(ip: Buffer): boolean {
  if (ip.length === 4) {
    return ip[0] === 10 || (ip[0] === 172 && (ip[1]! & 0xf0) === 16) || (ip[0] === 192 && ip[1] === 168) || (ip[0] === 169 && ip[1] === 254);
  }
  return (ip[0]! & 0xfe) === 0xfc || (ip[0] === 0xfe && (ip[1]! & 0xc0) === 0x80);
}

/** Loopback, private or link-local addresses, "localhost", and single-label names: never on the public internet. */
export function isLocalHost(host: string): boolean {
  const ip = parseIp(host);
  if (ip) return isLoopbackIp(ip) || isPrivateIp(ip);
  return isLoopbackName(host) || !host.includes('.');
}

// Names that never belong to the public internet (RFC 6761, RFC 8375, and common private suffixes).
const PRIVATE_SUFFIX = /\.(test|local|localhost|internal|intranet|lan|home|corp|invalid|example|home\.arpa)$/;

/** A name under a reserved or private suffix (.test, .local, .localhost, .internal, .home.arpa...). */
export function hasPrivateSuffix(name: string): boolean {
  return PRIVATE_SUFFIX.test(name.toLowerCase());
}
