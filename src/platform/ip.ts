// IP addresses as bytes, for comparing a target with IP SANs the way Go's net.IP.Equal does.
import { isIPv6 } from 'node:net';

/** Dotted-quad IPv4 as Go's net.ParseIP reads it: four decimal octets, no leading zeros. */
function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/**
 * net.isIP without its cost: Node's check compiles large regular expressions on first use, which
 * shows on the start-up path, and a host name needs none of it.
 */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (isIPv4(s)) return 4;
  return mayBeIPv6(s) && isIPv6(s) ? 6 : 0;
}

/**
 * Only hex digits, colons and dots before an optional zone (%eth0): anything else is no IPv6
 * address, and `host:port` never reaches isIPv6 (whose regular expression costs ~3 ms to build).
 */
function mayBeIPv6(s: string): boolean {
  const zone = s.indexOf('%');
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(zone >= 0 ? s.slice(0, zone) : s);
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; undefined when not an IP literal. */
export function parseIp(s: string): Buffer | undefined {
  const v = ipVersion(s);
  if (v === 4) return Buffer.from(s.split('.').map(Number));
  if (v === 6) {
    const [head, tail = ''] = s.includes('::') ? s.split('::') : [s, undefined as unknown as string];
    const groups = (x: string) => (x ? x.split(':') : []);
    let h = groups(head!), t = groups(tail);
    // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
    const expand = (g: string[]) => g.flatMap((p) => (p.includes('.') ? (() => { const b = p.split('.').map(Number); return [((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)]; })() : [p]));
    h = expand(h); t = expand(t);
    const fill = s.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
    const all = [...h, ...fill, ...t];
    const buf = Buffer.alloc(16);
    all.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
    // Go's net.IP.Equal treats ::ffff:a.b.c.d and a.b.c.d as the same address.
    if (buf.subarray(0, 10).every((b) => b === 0) && buf[10] === 0xff && buf[11] === 0xff) return Buffer.from(buf.subarray(12));
    return buf;
  }
  return undefined;
}
