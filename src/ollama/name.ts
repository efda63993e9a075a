// Model names as Ollama reads them (types/model/name.go): [host[:port]/][namespace/]model[:tag],
// split from the right, so "x/y" is namespace/model and a registry host needs all three parts.
// Defaults: registry.ollama.ai, library, latest; always https for the doctor (Ollama's
// --insecure only switches to plain http, which is never a TLS question).
import { InputError } from '../platform/input-error.js';


export interface ModelName {
  host: string;
  port: number;
  namespace: string;
  model: string;
  tag: string;
}

export const DEFAULT_REGISTRY = 'registry.ollama.ai';
/** A small public model: its manifest is fetched, never its layers. */
export const DEFAULT_MODEL = 'all-minilm';

export class ModelNameError extends InputError {}

export function parseModelName(text: string): ModelName {
  let rest = text.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (!rest) throw new ModelNameError('--model: give a model name, e.g. llama3.2:1b or registry.example.com/team/model:tag');
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 3 || parts.some((p) => p === '') || !tag) {
    throw new ModelNameError(`--model "${text}": expected [host[:port]/][namespace/]model[:tag]`);
  }
  const model = parts.pop()!;
  const namespace = parts.pop() ?? 'library';
  const hostPort = parts.pop() ?? DEFAULT_REGISTRY;
  const m = hostPort.match(/^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/);
  if (!m) throw new ModelNameError(`--model "${text}": bad registry host "${hostPort}"`);
  const port = m[2] ? Number(m[2]) : 443;
  if (port < 1 || port > 65535) throw new ModelNameError(`--model "${text}": bad port`);
  return { host: m[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port, namespace, model, tag };
}

export const manifestPath = (n: ModelName): string => `/v2/${n.namespace}/${n.model}/manifests/${n.tag}`;
export const blobPath = (n: ModelName, digest: string): string => `/v2/${n.namespace}/${n.model}/blobs/${digest}`;
export const displayName = (n: ModelName): string =>
  `${n.host === DEFAULT_REGISTRY && n.port === 443 ? '' : `${n.host}${n.port === 443 ? '' : `:${n.port}`}/`}${n.namespace === 'library' && n.host === DEFAULT_REGISTRY ? '' : `${n.namespace}/`}${n.model}:${n.tag}`;
