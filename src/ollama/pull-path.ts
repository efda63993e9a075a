// The HTTP side of `ollama pull`, as Ollama's server does it (server/images.go, server/download.go):
//   1. GET  https://<registry>/v2/<ns>/<model>/manifests/<tag>  (Accept: Docker manifest v2)
//   2. HEAD https://<registry>/v2/<ns>/<model>/blobs/<digest>   following every redirect
//   3. GET  the same blob URL, stopping at the first redirect to another host; its Location is
//      where the parts are then fetched with Range requests (http.DefaultClient, following redirects).
// Each host reached this way is a TLS target of its own. Nothing here touches the network: these
// are request plans for the probe and readings of what came back. A blob body is never read.
import { header, type HttpRequest, type HttpResponse, type NextRequest } from '../probe/http.js';
import { blobPath, manifestPath, type ModelName } from './name.js';

export type PullPurpose = 'manifest' | 'blob-head' | 'blob-get' | 'blob-part';

export interface PullRequest extends HttpRequest {
  purpose: PullPurpose;
}

/** Ollama's manifest request type (server/images.go pullModelManifest). */
export const MANIFEST_ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json';

/** Redirect hops followed on one host before giving up, as Go's client stops at 10. */
const MAX_HOPS = 10;

/** A request to send to a host reached by a cross-host redirect. */
export interface PullHop {
  url: URL;
  purpose: 'blob-head' | 'blob-part';
}

const isRedirect = (status: number) => [301, 302, 303, 307, 308].includes(status);

/** The layer to ask for: the smallest, since any one shows the path (and none is downloaded). */
export function pickLayer(manifest: Buffer): string | undefined {
  try {
    const m = JSON.parse(manifest.toString('utf8')) as { layers?: { digest?: unknown; size?: unknown }[]; config?: { digest?: unknown } };
    const layers = (m.layers ?? []).filter((l): l is { digest: string; size?: number } => typeof l?.digest === 'string' && /^sha256[:-][0-9a-f]{64}$/.test(l.digest));
    layers.sort((a, b) => (Number(a.size) || 0) - (Number(b.size) || 0));
    const digest = layers[0]?.digest ?? (typeof m.config?.digest === 'string' ? m.config.digest : undefined);
    return digest?.replace('-', ':');
  } catch {
    return undefined;
  }
}

/** Where a redirect points, resolved against the URL asked for. */
export function locationOf(r: HttpResponse, base: URL): URL | undefined {
  const loc = header(r, 'location');
  if (!loc || !isRedirect(r.status)) return undefined;
  try {
    return new URL(loc, base);
  } catch {
    return undefined;
  }
}

const sameOrigin = (a: URL, b: URL) => a.protocol === b.protocol && a.host === b.host;

export interface RegistryWalk {
  next: NextRequest;
  /** Filled in as answers arrive. */
  digest?: string;
}

/** The registry's part: manifest, blob HEAD (same-host redirects followed here), blob GET. */
export function registryRequests(name: ModelName, origin: URL, userAgent: string): RegistryWalk {
  const walk: RegistryWalk = { next: () => undefined };
  const headers = { 'User-Agent': userAgent };
  walk.next = (done) => {
    const last = done[done.length - 1] as (HttpResponse & { request: PullRequest }) | undefined;
    if (!last) return { method: 'GET', path: manifestPath(name), headers: { ...headers, Accept: MANIFEST_ACCEPT }, purpose: 'manifest' } as PullRequest;
    const purpose = last.request.purpose;
    if (purpose === 'manifest') {
      if (last.status !== 200) return undefined;
      walk.digest = pickLayer(last.body);
      return walk.digest ? ({ method: 'HEAD', path: blobPath(name, walk.digest), headers, purpose: 'blob-head' } as PullRequest) : undefined;
    }
    if (purpose === 'blob-head') {
      const to = locationOf(last, new URL(last.request.path, origin));
      const hops = done.filter((r) => (r.request as PullRequest).purpose === 'blob-head').length;
      if (to && sameOrigin(to, origin) && hops < MAX_HOPS) return { method: 'HEAD', path: `${to.pathname}${to.search}`, headers, purpose: 'blob-head' } as PullRequest;
      // Then the GET that stops at the first redirect to another host (headers only: never the body).
      return { method: 'GET', path: blobPath(name, walk.digest!), headers, headersOnly: true, purpose: 'blob-get' } as PullRequest;
    }
    return undefined;
  };
  return walk;
}

/** The requests for a host reached by a redirect; same-host redirects are followed on the connection. */
export function hopRequests(hops: PullHop[], userAgent: string): NextRequest {
  const queue: PullRequest[] = hops.map((h) => hopRequest(h.url, h.purpose, userAgent));
  let sent = 0;
  return (done) => {
    const last = done[done.length - 1] as (HttpResponse & { request: PullRequest }) | undefined;
    if (last && sent > 0) {
      const origin = hops[0]!.url;
      const to = locationOf(last, new URL(last.request.path, origin));
      if (to && sameOrigin(to, origin) && done.length < MAX_HOPS) return hopRequest(to, last.request.purpose as PullHop['purpose'], userAgent);
    }
    const r = queue[sent];
    if (r) sent++;
    return r;
  };
}

function hopRequest(url: URL, purpose: PullHop['purpose'], userAgent: string): PullRequest {
  const path = `${url.pathname}${url.search}`;
  // The parts are fetched with Range requests by Go's default client; one byte shows the answer.
  return purpose === 'blob-part'
    ? { method: 'GET', path, headers: { 'User-Agent': 'Go-http-client/1.1', Range: 'bytes=0-0' }, headersOnly: true, purpose }
    : { method: 'HEAD', path, headers: { 'User-Agent': userAgent }, purpose };
}

/**
 * The cross-host places the answers on one host point to: a HEAD redirect is followed with HEAD,
 * the GET's redirect is where the parts are fetched from.
 */
export function crossHostHops(responses: HttpResponse[], origin: URL): PullHop[] {
  const out: PullHop[] = [];
  for (const r of responses) {
    const purpose = (r.request as PullRequest).purpose;
    const to = locationOf(r, new URL(r.request.path, origin));
    if (!to || sameOrigin(to, origin) || to.protocol !== 'https:') continue;
    if (purpose === 'blob-head') out.push({ url: to, purpose: 'blob-head' });
    else if (purpose === 'blob-get' || purpose === 'blob-part') out.push({ url: to, purpose: 'blob-part' });
  }
  return out;
}

/** A URL fit for a report: query values hidden (presigned blob URLs carry signatures and credentials). */
export function reportableUrl(url: URL): string {
  const names = [...url.searchParams.keys()];
  const query = names.length ? `?${names.map((n) => `${n}=...`).join('&')}` : '';
  return `${url.protocol}//${url.host}${url.pathname}${query}`;
}
