// The flags that say how to reach a host, shared by `doctor` and `trust --from-host`: the same
// meaning, the same checks and the same messages in both.
import type { ProxyOptions } from '../probe/proxy-env.js';
import { parseProxyUrl } from '../probe/proxy-env.js';
import { parseResolveOption, type ResolveOverride } from '../probe/resolve.js';
import { ipVersion } from '../platform/ip.js';
import { InputError } from '../platform/input-error.js';
import type { FlagsOf } from './options.js';

/** The network flags (options.ts NETWORK_OPTIONS); commander: --proxy URL gives a string, --no-proxy gives false. */
export type NetworkFlags = Pick<FlagsOf<'doctor'>, 'timeout' | 'resolve' | 'servername' | 'dnsServer' | 'proxy'>;

export interface NetworkOptions {
  timeoutMs: number;
  overrides: ResolveOverride[];
  proxy: ProxyOptions;
  servername?: string;
  dnsServers?: string[];
}

export function parseNetworkFlags(flags: NetworkFlags): NetworkOptions {
  const text = flags.timeout;
  if (text !== undefined && (!/^\d+$/.test(text) || Number(text) < 1)) {
    throw new InputError(`--timeout "${text}": give milliseconds as a whole number, e.g. --timeout 5000`);
  }
  const overrides: ResolveOverride[] = (flags.resolve ?? []).map(parseResolveOption);
  if (typeof flags.proxy === 'string') {
    const url = parseProxyUrl(flags.proxy);
    if (!url || !['http:', 'https:', 'socks5:', 'socks5h:'].includes(url.protocol)) {
      throw new InputError(`--proxy "${flags.proxy}": give http://, https://, socks5:// or socks5h:// with a host, e.g. --proxy http://proxy.example:3128`);
    }
  }
  for (const server of flags.dnsServer ?? []) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+)(:\d+)?$/.test(server) && !ipVersion(server)) {
      throw new InputError(`--dns-server "${server}": give an IP address, optionally with :port (e.g. 1.1.1.1 or [::1]:5353)`);
    }
  }
  return {
    timeoutMs: text === undefined ? 10_000 : Number(text),
    overrides,
    proxy: flags.proxy === false ? { noProxy: true } : typeof flags.proxy === 'string' ? { proxy: flags.proxy } : {},
    ...(flags.servername !== undefined ? { servername: flags.servername } : {}),
    ...(flags.dnsServer?.length ? { dnsServers: flags.dnsServer } : {}),
  };
}
