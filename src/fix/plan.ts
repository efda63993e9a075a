// A fix is a plan: plain data that is printed, confirmed, then applied step by step. Every target
// (a distro's store, the macOS keychain, the Windows Root store, a bundle file...) turns the CAs
// into the same small vocabulary of steps, so rendering, privileges and undo work the same way.
import type { Certificate } from '../x509/certificate.js';
import type { RootFs } from '../platform/rootfs.js';
import { certificatesFromPem } from '../x509/load.js';
import { InputError } from '../platform/input-error.js';
import type { TrustContext } from './context.js';

export type TargetId =
  | 'debian' | 'rhel' | 'suse' | 'arch' | 'alpine' | 'linux-native'
  | 'macos' | 'windows' | 'wsl-windows' | 'bundle'
  | 'dockerfile' | 'compose' | 'image'
  | 'ollama-service';

export type Step =
  /** Write a whole file atomically (temp file + rename), creating its directory. */
  | { kind: 'write'; path: string; content: string; mode: number; why: string }
  /** Remove a file or symlink if it is there. */
  | { kind: 'remove'; path: string; why: string }
  /** Create a symlink (relative target), replacing one that is there. */
  | { kind: 'symlink'; path: string; target: string; why: string }
  /** Append a marked PEM block to a bundle file (atomic), unless that block is already there. */
  | { kind: 'append-block'; path: string; fingerprint: string; pem: string; label: string; why: string }
  /** Remove the marked block for `fingerprint` from a bundle file (atomic), leaving the rest byte for byte. */
  | { kind: 'strip-block'; path: string; fingerprint: string; why: string }
  /**
   * Run a program: absolute path and an argument array, never a shell string. `stdin` is fed to
   * it (Debian's hooks read their +/- lines there); `env` is added to ours. After an interrupted
   * run, `leftovers` (in-tree paths the program leaves when killed) are removed and `recover` is
   * run instead of argv, when a plain re-run would not repair what the kill left.
   */
  | { kind: 'run'; argv: string[]; why: string; stdin?: string; env?: Record<string, string>; recover?: string[]; leftovers?: string[] }
  /** Write an image with ollama-tls's layer added (pems) or removed (fingerprints), streaming, no daemon. */
  | { kind: 'image'; src: string; dst: string; action: 'trust' | 'untrust'; pems: string[]; fingerprints: string[]; why: string };

export interface Plan {
  target: TargetId;
  /** e.g. "Debian/Ubuntu system store (/usr/local/share/ca-certificates)". */
  title: string;
  action: 'trust' | 'untrust';
  /** Paths in steps are inside this tree ('/' for the running system). */
  root: string;
  steps: Step[];
  /** Things already as asked: nothing to do for them. */
  unchanged: string[];
  /** The steps need rights this process does not have (root, or an administrator). */
  needsPrivilege: boolean;
  /** Who reads this store. */
  readers: string;
  notes: string[];
}

/** A problem with the user's input found while planning (a file that cannot be read, a name that is not there). */
export class PlanError extends InputError {
  override name = 'PlanError';
}

/** What a check after applying found, in words. */
export interface Check {
  ok: boolean;
  what: string;
}

/** The CAs a plan is about: their certificate when known (trust, untrust --ca), else the fingerprint alone. */
export interface CaRef {
  sha256: string;
  cert?: Certificate;
}

/** Files ollama-tls writes are named from the CA's fingerprint, so untrust finds exactly them. */
export const fileStem = (sha256: string): string => `ollama-tls-${sha256.slice(0, 16)}`;

export const caLabel = (c: Certificate): string => c.commonName ?? c.sha256.slice(0, 16);

// The marker that opens a block ollama-tls appended to a bundle. Go and OpenSSL skip text between
// PEM blocks, so the comment is harmless, and it lets untrust remove exactly that block.
const MARK = '# ollama-tls sha256:';
const JOINED = ' (newline added)';

/**
 * `text` with a marked block for the CA appended, or unchanged when the block is there. A file
 * without a final newline gets one, and the marker says so, so that strip restores it exactly.
 */
export function appendBlock(text: string, sha256: string, pem: string, label: string): string {
  if (text.includes(`${MARK}${sha256}`)) return text;
  const joined = text.length > 0 && !text.endsWith('\n');
  const body = pem.endsWith('\n') ? pem : `${pem}\n`;
  return `${text}${joined ? '\n' : ''}${MARK}${sha256}${joined ? JOINED : ''} ${label.replace(/[\r\n]/g, ' ')}\n${body}`;
}

/** `text` without the marked block for the CA (and the newline it added, if it did). */
export function stripBlock(text: string, sha256: string): string {
  const start = text.indexOf(`${MARK}${sha256}`);
  if (start < 0) return text;
  const endMarker = '-----END CERTIFICATE-----';
  const endAt = text.indexOf(endMarker, start);
  if (endAt < 0) return text;
  let end = endAt + endMarker.length;
  if (text[end] === '\n') end++;
  const lineEnd = text.indexOf('\n', start);
  const joined = text.slice(start, lineEnd).includes(JOINED);
  const from = joined && text[start - 1] === '\n' ? start - 1 : start;
  return text.slice(0, from) + text.slice(end);
}

/** The CA in a copy ollama-tls kept (macOS, Windows), so untrust --fingerprint can name it. */
export function readCopy(fs: RootFs, p: string, sha256: string): Certificate | undefined {
  try {
    return certificatesFromPem(fs.readFile(p).toString('latin1')).certificates.find((c) => c.sha256 === sha256);
  } catch {
    return undefined;
  }
}

/** Whether a bundle text holds the marked block for the CA. */
export const hasBlock = (text: string, sha256: string): boolean => text.includes(`${MARK}${sha256}`);

/**
 * One place a CA can be trusted. Every target has the same small interface, the way mkcert keeps
 * one truststore file per platform: does it apply here, the plan to trust, the plan to undo, and
 * a check of the result read back from the store itself.
 */
export interface TrustTarget {
  id: TargetId;
  detect(ctx: TrustContext): { applies: boolean; why: string };
  plan(ctx: TrustContext, cas: Certificate[]): Plan | Promise<Plan>;
  planUndo(ctx: TrustContext, refs: CaRef[]): Plan | Promise<Plan>;
  verify(ctx: TrustContext, refs: CaRef[], action: 'trust' | 'untrust'): Promise<Check[]>;
}
