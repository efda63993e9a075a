// What the doctor asks an upstream service (a self-hosted Ollama behind nginx or Caddy, an AI API)
// once TLS is up: the path the user gave, or Ollama's /api/version then /api/tags. Credentials go
// only over a connection whose certificate the deciding views trust, and never into a report.
import { InputError } from '../platform/input-error.js';
import type { HttpRequest, NextRequest } from '../probe/http.js';

export type Credentials = { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string };

export class CredentialsError extends InputError {}

/** --user USER:PASS (curl's meaning: split at the first colon), --bearer TOKEN, --bearer-file FILE. */
export function parseCredentials(flags: { user?: string; bearer?: string; bearerFileText?: string }): Credentials | undefined {
  const given = [flags.user !== undefined, flags.bearer !== undefined, flags.bearerFileText !== undefined].filter(Boolean).length;
  if (given > 1) throw new CredentialsError('give one of --user, --bearer or --bearer-file');
  if (flags.user !== undefined) {
    const i = flags.user.indexOf(':');
    if (i <= 0) throw new CredentialsError('--user: give USER:PASSWORD');
    return { kind: 'basic', user: flags.user.slice(0, i), password: flags.user.slice(i + 1) };
  }
  const token = (flags.bearer ?? flags.bearerFileText)?.trim();
  if (token === undefined) return undefined;
  if (!token || /[\s]/.test(token)) throw new CredentialsError(`${flags.bearer !== undefined ? '--bearer' : '--bearer-file'}: the token must be one word, without spaces or line breaks`);
  return { kind: 'bearer', token: token.replace(/^Bearer\s+/i, '') };
}

export function authorization(c: Credentials): string {
  return c.kind === 'basic' ? `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}` : `Bearer ${c.token}`;
}

export interface UpstreamRequest extends HttpRequest {
  /** What the answer is read as. */
  purpose: 'version' | 'tags' | 'given';
  auth?: Credentials['kind'];
}

/** Ollama's API answers: the version first (small, always there), then the model list. */
export function upstreamRequests(opts: { path?: string; credentials?: Credentials; userAgent: string }): NextRequest {
  const headers: Record<string, string> = { 'User-Agent': opts.userAgent, Accept: 'application/json' };
  if (opts.credentials) headers.Authorization = authorization(opts.credentials);
  const auth = opts.credentials ? { auth: opts.credentials.kind } : {};
  const plan: UpstreamRequest[] = opts.path
    ? [{ method: 'GET', path: opts.path, headers, purpose: /\/api\/version\/?$/.test(opts.path) ? 'version' : 'given', ...auth }]
    : [
        { method: 'GET', path: '/api/version', headers, purpose: 'version', ...auth },
        { method: 'GET', path: '/api/tags', headers, purpose: 'tags', ...auth },
      ];
  return (done) => {
    // After a refusal the rest would be refused too; after a version answer that is not Ollama's, there is no model list to ask for.
    if (done.some((r) => r.status >= 300)) return undefined;
    const last = done[done.length - 1];
    if (last && (last.request as UpstreamRequest).purpose === 'version' && !/"version"\s*:/.test(last.body.toString('utf8'))) return undefined;
    return plan[done.length];
  };
}
