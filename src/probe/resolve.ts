// Name resolution that says where each address came from: `--resolve` (curl's meaning), the
// hosts file, or DNS. A stale hosts-file entry or a forced address is a classic reason a chain
// "suddenly" belongs to someone else, so provenance is reported, not just the answer.
import { InputError } from '../platform/input-error.js';
// node:dns/promises and node:fs/promises load when first needed: a target given as an address or
// with --resolve needs neither, and loading them is a few milliseconds of a doctor run.
import path from 'node:path';
import { ipVersion } from '../platform/ip.js';

export type AddressSource = 'resolve' | 'literal' | 'hosts' | 'dns';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
  source: AddressSource;
}

export interface ResolveOverride {
  host: string;
  port: number | '*';
  addresses: string[];
}

export class ResolveOptionError extends InputError {}

/** Parse `HOST:PORT:ADDR[,ADDR...]` (addresses may be [bracketed] IPv6, HOST may be '*'). */
export function parseResolveOption(text: string): ResolveOverride {
  const m = text.match(/^([^:]+):(\d+|\*):(.+)$/);
  if (!m) throw new ResolveOptionError(`--resolve "${text}": expected HOST:PORT:ADDRESS, e.g. registry.ollama.ai:443:127.0.0.1`);
  const addresses = m[3]!.split(',').map((a) => a.trim().replace(/^\[(.*)\]$/, '$1'));
  for (const a of addresses) {
    if (!ipVersion(a)) throw new ResolveOptionError(`--resolve "${text}": "${a}" is not an IP address`);
  }
  return { host: m[1]!.toLowerCase(), port: m[2] === '*' ? '*' : Number(m[2]), addresses };
}

export function hostsFilePath(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'drivers', 'etc', 'hosts');
  return '/etc/hosts';
}

let hostsCache: Promise<Map<string, string[]>> | undefined;

async function readHostsFile(file: string): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  let text = '';
  try {
    const { readFile } = await import('node:fs/promises');
    text = await readFile(file, 'utf8');
  } catch {
    return map;
  }
  for (const line of text.split(/\r?\n/)) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (fields.length < 2 || !ipVersion(fields[0]!.replace(/%.*/, ''))) continue;
    for (const name of fields.slice(1)) {
      const key = name.toLowerCase();
      const list = map.get(key) ?? [];
      list.push(fields[0]!);
      map.set(key, list);
    }
  }
  return map;
}

export class ResolveFailure extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export interface ResolveOptions {
  overrides: ResolveOverride[];
  timeoutMs: number;
  hostsFile?: string;
  /** Ask these DNS servers directly (like curl --dns-servers) instead of the system resolver. */
  dnsServers?: string[];
}

/** Query A and AAAA from specific servers; NXDOMAIN from both is "no such host". */
async function lookupWith(servers: string[], host: string): Promise<{ address: string; family: number }[]> {
  const { Resolver } = await import('node:dns/promises');
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(servers);
  const settle = async (family: 4 | 6) => {
    try {
      return (await (family === 4 ? resolver.resolve4(host) : resolver.resolve6(host))).map((address) => ({ address, family }));
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
  };
  const [v4, v6] = await Promise.all([settle(4), settle(6)]);
  const found = [...(Array.isArray(v4) ? v4 : []), ...(Array.isArray(v6) ? v6 : [])];
  if (found.length) return found;
  const err = (Array.isArray(v4) ? v6 : v4) as NodeJS.ErrnoException;
  // c-ares says ENOTFOUND for NXDOMAIN and ENODATA for a name without addresses.
  throw Object.assign(new Error(err.message), { code: err.code === 'ENODATA' ? 'ENOTFOUND' : err.code });
}

export async function resolveHost(host: string, port: number, opts: ResolveOptions): Promise<ResolvedAddress[]> {
  const fam = (a: string): 4 | 6 => (ipVersion(a) === 6 ? 6 : 4);
  const forced = opts.overrides.find((o) => (o.host === host || o.host === '*') && (o.port === port || o.port === '*'));
  if (forced) return forced.addresses.map((address) => ({ address, family: fam(address), source: 'resolve' as const }));
  if (ipVersion(host)) return [{ address: host, family: fam(host), source: 'literal' }];

  hostsCache ??= readHostsFile(opts.hostsFile ?? hostsFilePath());
  const fromHosts = (await hostsCache).get(host);
  if (fromHosts?.length) return fromHosts.map((address) => ({ address, family: fam(address), source: 'hosts' as const }));

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ResolveFailure(`DNS lookup of ${host} timed out after ${opts.timeoutMs} ms`, 'ETIMEOUT')), opts.timeoutMs);
  });
  try {
    const { lookup } = await import('node:dns/promises');
    const query = opts.dnsServers?.length ? lookupWith(opts.dnsServers, host) : lookup(host, { all: true, verbatim: true });
    const answers = await Promise.race([query, timeout]);
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4, source: 'dns' as const }));
  } catch (e) {
    if (e instanceof ResolveFailure) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'EAI_FAIL';
    const why = code === 'ENOTFOUND' ? 'no such host' : code === 'EAI_AGAIN' ? 'temporary failure in name resolution' : code;
    throw new ResolveFailure(`lookup ${host}: ${why}`, code);
  } finally {
    clearTimeout(timer);
  }
}
