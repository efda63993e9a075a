// OLLAMA_HOST as Ollama reads it (envconfig.Host): spaces and any run of quotes trimmed, scheme
// http unless given, port 11434 unless given (but http:// alone means 80 and https:// 443), a path
// kept. The same value is where the server listens and where the CLI connects, so 0.0.0.0 means
// "every interface" to the server and is dialled as it is by the CLI.
import { isLoopbackHost, isUnspecifiedHost } from '../platform/address.js';

export interface OllamaHost {
  /** The variable as set, or undefined for the default. */
  raw?: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  /** Listening on every interface (0.0.0.0, ::) or a non-loopback address: reachable from elsewhere. */
  public: boolean;
}

const DEFAULT_HOST = '127.0.0.1';

export function parseOllamaHost(value: string | undefined): OllamaHost {
  // envconfig.Var: strings.Trim(strings.TrimSpace(v), "\"'") strips every leading/trailing quote;
  // Host() then trims spaces once more.
  const raw = value?.trim().replace(/^["']+|["']+$/g, '').trim();
  if (!raw) return { scheme: 'http', host: DEFAULT_HOST, port: 11434, path: '', public: false };
  let rest = raw;
  let scheme: 'http' | 'https' = 'http';
  let defaultPort = 11434;
  const cut = rest.indexOf('://');
  if (cut >= 0) {
    // Go compares the scheme case-sensitively: only "http" and "https" change the default port.
    const s = rest.slice(0, cut);
    if (s === 'http' || s === 'https') {
      scheme = s;
      defaultPort = s === 'https' ? 443 : 80;
    }
    rest = rest.slice(cut + 3);
  }
  const slash = rest.indexOf('/');
  const path = slash >= 0 ? rest.slice(slash) : '';
  const hostPort = slash >= 0 ? rest.slice(0, slash) : rest;
  let host: string;
  let port = defaultPort;
  let portText: string | undefined;
  const v6 = hostPort.match(/^\[([^\]]*)\](?::(.*))?$/);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if ((hostPort.match(/:/g) ?? []).length > 1) {
    host = hostPort; // net.SplitHostPort fails on a bare IPv6 literal; Ollama keeps it as the host
  } else if (hostPort.includes(':')) {
    const i = hostPort.lastIndexOf(':');
    host = hostPort.slice(0, i); // ":1234" keeps an empty host: every interface
    portText = hostPort.slice(i + 1);
  } else {
    host = hostPort || DEFAULT_HOST; // "http://" alone: SplitHostPort fails, Ollama falls back to 127.0.0.1
  }
  // Ollama warns and falls back to the default on a bad port.
  if (portText !== undefined && /^\d+$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
  const isPublic = isPublicBind(host);
  return { raw, scheme, host, port, path, public: isPublic };
}

/** An address the server would listen on that others can reach: every interface, or not loopback (private addresses count). */
export function isPublicBind(host: string): boolean {
  return isUnspecifiedHost(host) || !isLoopbackHost(host);
}

/** Where a client on this machine reaches the server: Ollama's CLI dials 0.0.0.0 (and an empty host) as is, which Linux routes to loopback. */
export function clientAddress(h: OllamaHost): string {
  if (h.host === '' || h.host === '0.0.0.0') return '127.0.0.1';
  if (h.host === '::') return '::1';
  return h.host;
}

export function ollamaUrl(h: OllamaHost): string {
  const host = h.host.includes(':') ? `[${h.host}]` : h.host || '0.0.0.0';
  return `${h.scheme}://${host}:${h.port}${h.path}`;
}
