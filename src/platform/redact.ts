// The one way a proxy URL, or any setting that may carry a password, is shown: in text, JSON,
// findings, advice and files written. A value that parses as the URL its writer meant is shown
// with the password as ***; anything else is never echoed: only the parts that are certainly
// not secret (the scheme, a host that looks like one) and its length. Lowest layer on purpose:
// probe, ollama, diagnose, fix and cli all import it.

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// A host (name, IPv4 or [IPv6]) with an optional port: nothing else is shown of a value that
// does not parse, because a password written raw can end up anywhere in it.
const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * A proxy URL fit to print. `http://alice:s3cret@proxy:3128` -> `http://alice:***@proxy:3128`;
 * `alice:s3cret@proxy:3128` (no scheme: Go reads it as http://) -> `alice:***@proxy:3128`;
 * `http://alice:pa/ss@proxy:3128` (a raw "/" in the password) -> `http://***@proxy:3128 (unparsable, 29 chars)`.
 */
export function redactProxyUrl(value: string): string {
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  const rest = scheme ? value.slice(scheme.length + 3) : value;
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : undefined;
  const afterAt = at >= 0 ? rest.slice(at + 1) : rest;
  const hostGuess = afterAt.split(/[/?#]/, 1)[0]!;

  let url: URL | undefined;
  try {
    url = new URL(scheme ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  // Parsed "normally": the host is the text after the last "@", the credentials (if any) are
  // all before it, and nothing of them spilled into a path, query or fragment.
  const normal = url !== undefined && /^[\x21-\x7e]*$/.test(value)
    && url.host.toLowerCase() === hostGuess.toLowerCase()
    && (userinfo === undefined ? url.username === '' && url.password === '' : url.username !== '' || url.password !== '')
    && !/@|%40/i.test(url.pathname + url.search + url.hash);
  if (url && normal) {
    // A user name alone may be a token (some proxies take one as the user name): hidden too.
    const user = url.password || userinfo?.includes(':') ? `${url.username}:***@` : url.username ? '***@' : '';
    // Shown in the form it was written: without a scheme when it had none (Go adds http://).
    return `${scheme ? `${url.protocol}//` : ''}${user}${url.host}`;
  }
  return unparsable(value, scheme, HOST_PORT.test(hostGuess) ? hostGuess : undefined, userinfo !== undefined);
}

function unparsable(value: string, scheme: string | undefined, host: string | undefined, credentials: boolean): string {
  const note = `(unparsable, ${value.length} chars)`;
  if (!scheme && !host) return note;
  return `${scheme ? `${scheme}://` : ''}${credentials ? '***@' : ''}${host ?? '?'} ${note}`;
}

/** Environment variables whose values are proxy URLs (NO_PROXY is a host list: no secret). */
export const isProxyVariable = (name: string): boolean => /^(all|https?|ftp|socks)_proxy$/i.test(name);

/** An environment value fit to print: proxy URLs redacted, other values as they are. */
export function redactEnvValue(name: string, value: string): string {
  return isProxyVariable(name) ? redactProxyUrl(value) : value;
}
