// `trust --dockerfile`: patch a Dockerfile so the image it builds trusts the CA. Pure logic: the
// caller reads the Dockerfile, hands its text here, and writes what the plan says (the new text
// and the files for the build context); nothing here touches the disk.
//
// The Dockerfile is read with dockerfile-ast (the VS Code Docker language server's parser), never
// with line regexes: stages, continuation lines, heredocs, comments and parser directives are the
// parser's business. The patch is one marked block right after the final stage's FROM, so the CA
// is trusted before any RUN of that stage downloads through an inspecting proxy:
//
//   # >>> ollama-tls: trust "Corp Root CA" sha256:<hex> (remove: ollama-tls untrust --dockerfile Dockerfile)
//   COPY ollama-tls-<16 hex>.crt /usr/local/share/ca-certificates/ollama-tls-<16 hex>.crt
//   COPY ollama-tls-roots.pem /tmp/ollama-tls-roots.pem
//   RUN chmod 0644 ... && if command -v update-ca-certificates ...; then ...;
//       else ...seed the bundle from the roots if it is missing or empty, append the CA...; fi
//       && rm -f /tmp/ollama-tls-roots.pem
//   # <<< ollama-tls
//
// Without the update tool the RUN follows the rule of seed-roots.ts (the same as `trust --image`):
// a bundle that is missing or empty (debian/ubuntu *-slim without ca-certificates) is seeded with
// Mozilla's roots first, so the image does not end up trusting the CA alone.
//
// Where it goes: directly after the FROM instruction (after its last continuation line), before
// anything else of the stage, ARG and comments included. The block uses no build argument, so it
// needs no ARG above it; comments under a FROM describe the instructions they sit above, and stay
// above them. Parser directives (`# syntax=`, `# escape=`) precede every FROM, so they stay first.
//
// COPY --chmod or not: the RUN families use a plain COPY and set the mode in their RUN
// (`chmod 0644`), which works with every builder (BuildKit, the legacy builder, Buildah/Podman,
// Kaniko) whatever mode the file has in the context. An image without a shell has no RUN, and its
// processes usually run as 65532: the bundle must be world-readable, and only `COPY --chmod=0644`
// guarantees that (a plain COPY keeps the context file's mode, 0600 under a umask of 077 or after a
// git checkout with one). --chmod needs BuildKit (the default builder since Docker Engine 23, and
// Docker Desktop) or Buildah/Podman; the legacy builder stops with "the --chmod option requires
// BuildKit" instead of shipping an unreadable bundle. The plan's notes say so.
//
// Undo is exact: the block is found again through the parser's comments, and removing it gives
// the original text back byte for byte (CRLF files, a missing final newline).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DockerfileParser, type Dockerfile, type From, type Instruction, type PropertyInstruction } from 'dockerfile-ast';
import { LINUX_FAMILIES, shellToolCommand, type LinuxFamily } from '../platform/linux-families.js';
import type { Certificate } from '../x509/certificate.js';
import { GO_CERT_FILES } from '../trust/store-paths.js';
import { bundledRoots } from '../trust/stores.js';
import { isRootUser, lookupFamily, type BaseFamily, type FamilyMatch } from './base-family.js';
import { appendBlock, caLabel, fileStem, PlanError } from './plan.js';
import { ROOTS_FILE, seedRootsPem, seedShellTest } from './seed-roots.js';

export type { BaseFamily } from './base-family.js';
export { BASE_FAMILIES, isBaseFamily, lookupFamily, parseImageRef } from './base-family.js';

export interface DockerfileInput {
  /** The Dockerfile's path as the user gave it (its base name goes into the block's remove hint). */
  path: string;
  text: string;
  /** The build context; files for COPY are written at its top. Usually the Dockerfile's directory. */
  contextDir: string;
  cas: Certificate[];
  /** --base-family: overrides the table (and is required when the table does not know the image). */
  family?: BaseFamily;
  /** Roots for the shellless bundle; default Node's bundled Mozilla roots. */
  roots?: Certificate[];
}

export interface ContextFile {
  /** Absolute or contextDir-relative path, as contextDir was given. */
  path: string;
  /** The name COPY uses (relative to the context). */
  name: string;
  content: string;
  mode: number;
  why: string;
}

export interface StageInfo {
  /** Index of the final stage among the FROMs (0-based). */
  index: number;
  /** Its `AS name`, when it has one. */
  name?: string;
  /** The final FROM's image as written (`${BASE}`, `builder`...). */
  image: string;
  /** The real base image after ARG defaults and stage chains (`ubuntu:24.04`). */
  base: string;
  /** Stage indexes from the one built FROM the real base to the final stage. */
  chain: number[];
  family: BaseFamily;
  /** 'table': the image is in the table; 'mirror': matched by the end of its path; 'option': --base-family. */
  familySource: 'table' | 'mirror' | 'option';
  /** The user in effect where the block goes, when it is not root. */
  user?: string;
}

export type DockerfilePlan =
  | {
      kind: 'patch';
      text: string;
      /** Files to write into the build context (mode applied with chmod, not left to the umask). */
      files: ContextFile[];
      /** Files of a previous block for other CAs, to remove from the context. */
      remove: string[];
      stage: StageInfo;
      notes: string[];
    }
  | {
      kind: 'unchanged';
      stage: StageInfo;
      /** What the block refers to: the caller writes any that are missing or differ. */
      files: ContextFile[];
      notes: string[];
    }
  | {
      kind: 'unknown-family';
      /** The base image reference (resolved when it could be), for the question to the user. */
      image: string;
      stageIndex: number;
      reason: string;
      notes: string[];
    };

export type DockerfileUndo =
  | { kind: 'restore'; text: string; remove: string[]; notes: string[] }
  | { kind: 'unchanged' };

/** A Dockerfile that cannot be planned for: no FROM, a damaged block. The caller exits 2 with the message. */
export class DockerfileError extends PlanError {
  override name = 'DockerfileError';
}

// --- The stores, per family -------------------------------------------------------------------

// Each RUN family's anchor directory, update tool (found with `command -v`: its directory is on
// the image's PATH, /usr/sbin included) and the bundle Go reads, appended to when the tool is not
// installed: the family's row in platform/linux-families.ts.
interface FamilyStore {
  anchorDir: string;
  /** The tool as the RUN calls it, with its arguments. */
  tool: string;
  bundle: string;
}

function storeOf(family: LinuxFamily): FamilyStore {
  const f = LINUX_FAMILIES[family];
  return { anchorDir: f.anchorDir, tool: shellToolCommand(f), bundle: f.goBundle };
}

/** The file Go reads first on Linux, and the one distroless and Chainguard images ship. */
export const SHELLLESS_BUNDLE = GO_CERT_FILES[0]!;

const OPEN = '>>> ollama-tls:';
const CLOSE = '<<< ollama-tls';
const OUR_FILE = /^ollama-tls-(?:(?:bundle-)?[0-9a-f]{16}\.(?:crt|pem)|roots\.pem)$/;
/** Where the block COPYs the roots file for its RUN, which removes it again. */
const ROOTS_IN_IMAGE = `/tmp/${ROOTS_FILE}`;

// --- The block ----------------------------------------------------------------------------------

export interface SnippetOptions {
  cas: Certificate[];
  family: BaseFamily;
  /** The user in effect before the block; a RUN family then switches to root and back. */
  user?: string;
  /** For the remove hint in the opening marker. Default 'Dockerfile'. */
  dockerfileName?: string;
  /** Line ending. Default '\n'. */
  eol?: string;
  /** The Dockerfile's escape character (`# escape=`), for continuation lines. Default '\\'. */
  escapeChar?: string;
  /** Write the RUN in exec form with /bin/sh -c (the stage inherits a SHELL that may not be sh). */
  execForm?: boolean;
}

/** CAs once each, in fingerprint order: the same set gives the same block whatever the --ca order. */
function canonicalCas(cas: Certificate[]): Certificate[] {
  const seen = new Map<string, Certificate>();
  for (const c of cas) seen.set(c.sha256, c);
  return [...seen.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
}

const caFileName = (c: Certificate): string => `${fileStem(c.sha256)}.crt`;

function bundleId(cas: Certificate[]): string {
  if (cas.length === 1) return cas[0]!.sha256.slice(0, 16);
  return createHash('sha256').update(cas.map((c) => c.sha256).join('\n')).digest('hex').slice(0, 16);
}

const bundleFileName = (cas: Certificate[]): string => `ollama-tls-bundle-${bundleId(cas)}.pem`;

const safeLabel = (c: Certificate): string => caLabel(c).replace(/[\r\n"]/g, ' ');

function runScript(store: FamilyStore, anchors: string[]): string[] {
  const list = anchors.join(' ');
  return [
    `chmod 0644 ${list}`,
    `&& if command -v ${store.tool.split(' ')[0]} >/dev/null 2>&1; then ${store.tool};`,
    `else mkdir -p ${path.posix.dirname(store.bundle)} && ${seedShellTest(store.bundle, ROOTS_IN_IMAGE)} && cat ${list} >> ${store.bundle}; fi`,
    `&& rm -f ${ROOTS_IN_IMAGE}`,
  ];
}

function blockLines(opts: SnippetOptions): string[] {
  const cas = canonicalCas(opts.cas);
  if (cas.length === 0) throw new DockerfileError('no CA to trust');
  const esc = opts.escapeChar ?? '\\';
  const name = opts.dockerfileName ?? 'Dockerfile';
  const lines = [`# ${OPEN} trust ${cas.map((c) => `"${safeLabel(c)}" sha256:${c.sha256}`).join(', ')} (remove: ollama-tls untrust --dockerfile ${name})`];
  if (opts.family === 'shellless') {
    lines.push(`COPY --chmod=0644 ${bundleFileName(cas)} ${SHELLLESS_BUNDLE}`);
  } else {
    const store = storeOf(opts.family);
    const anchors = cas.map((c) => `${store.anchorDir}/${caFileName(c)}`);
    const wrap = !isRootUser(opts.user);
    if (wrap) lines.push('USER root');
    for (const c of cas) lines.push(`COPY ${caFileName(c)} ${store.anchorDir}/${caFileName(c)}`);
    lines.push(`COPY ${ROOTS_FILE} ${ROOTS_IN_IMAGE}`);
    const script = runScript(store, anchors);
    if (opts.execForm) lines.push(`RUN ${JSON.stringify(['/bin/sh', '-c', script.join(' ')]).replace(/","/g, '", "')}`);
    else lines.push(`RUN ${script[0]} ${esc}`, ` ${script[1]} ${esc}`, `    ${script[2]} ${esc}`, ` ${script[3]}`);
    if (wrap) lines.push(`USER ${opts.user}`);
  }
  lines.push(`# ${CLOSE}`);
  return lines;
}

/** The block alone (for `--print`), each line ended with `eol`. */
export function dockerfileSnippet(opts: SnippetOptions): string {
  const eol = opts.eol ?? '\n';
  return blockLines(opts).map((l) => l + eol).join('');
}

/**
 * The files the block COPYs, plus the CA files (kept in the context so what is trusted can be
 * reviewed). RUN families also get ROOTS_FILE, Mozilla's roots for seeding a missing bundle.
 */
export function dockerfileContextFiles(opts: { cas: Certificate[]; family: BaseFamily; contextDir: string; roots?: Certificate[] }): ContextFile[] {
  const cas = canonicalCas(opts.cas);
  const files: ContextFile[] = cas.map((c) => ({
    path: path.join(opts.contextDir, caFileName(c)), name: caFileName(c), content: c.toPem(), mode: 0o644,
    why: opts.family === 'shellless'
      ? `the CA "${caLabel(c)}" (kept beside the bundle that carries it, so it can be reviewed and the bundle rebuilt)`
      : `the CA "${caLabel(c)}", COPYed as an anchor (.crt is required)`,
  }));
  if (opts.family !== 'shellless') {
    files.push({ path: path.join(opts.contextDir, ROOTS_FILE), name: ROOTS_FILE, content: seedRootsPem(opts.roots), mode: 0o644,
      why: 'Mozilla\'s roots (as bundled with Node.js), which the RUN puts in the bundle only when the image has none, before the CA' });
  }
  if (opts.family === 'shellless') {
    const roots = opts.roots ?? bundledRoots().certificates;
    const inRoots = new Set(roots.map((r) => r.sha256));
    let text = `# ollama-tls: Mozilla's roots (${roots.length} certificates, as bundled with Node.js) followed by the CAs to trust.\n` +
      `# COPYed over ${SHELLLESS_BUNDLE} in an image without a shell: it replaces the image's own roots.\n`;
    text += roots.map((r) => r.toPem()).join('');
    for (const c of cas) if (!inRoots.has(c.sha256)) text = appendBlock(text, c.sha256, c.toPem(), caLabel(c));
    files.push({ path: path.join(opts.contextDir, bundleFileName(cas)), name: bundleFileName(cas), content: text, mode: 0o644, why: `the bundle for ${SHELLLESS_BUNDLE}: Mozilla's roots plus the CA` });
  }
  return files;
}

/** A word for a POSIX shell command line, quoted only when it needs to be. */
const shellWord = (w: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

// --- The build-secret variant ------------------------------------------------------------------

/**
 * For a CA needed only while building: a RUN that mounts it as a BuildKit secret and points the
 * usual tools at a bundle on a tmpfs, so neither the CA nor the bundle lands in a layer.
 */
export function buildSecretSnippet(opts: { family: BaseFamily; caFile?: string; id?: string; eol?: string }): string {
  const id = opts.id ?? 'corp-ca';
  const caFile = opts.caFile ?? 'corp-ca.pem';
  const eol = opts.eol ?? '\n';
  const secret = `/run/secrets/${id}.pem`;
  const bundle = '/run/ollama-tls/ca.pem';
  const system = storeOf(opts.family === 'shellless' ? 'debian' : opts.family).bundle;
  const lines = [
    '# syntax=docker/dockerfile:1',
    '# (the syntax line above must be the first line of the Dockerfile)',
    '# The CA is needed only while building: BuildKit mounts it for this one RUN, and the bundle made',
    '# from it lives on a tmpfs that goes away with the RUN, so neither ends up in a layer.',
  ];
  if (opts.family === 'shellless') {
    lines.push('# The final image has no shell: use this RUN in the stage that downloads (a builder with a shell)',
      '# and COPY --from that stage what it built.');
  }
  lines.push('# Replace your-command-here with the command that downloads.');
  if (opts.family === 'debian' || opts.family === 'shellless') {
    lines.push(`# apt reads no variable for its CA: add -o Acquire::https::CAInfo=${bundle} to apt-get.`);
  }
  lines.push(
    `RUN --mount=type=secret,id=${id},target=${secret} \\`,
    '    --mount=type=tmpfs,target=/run/ollama-tls \\',
    `    { cat ${system} 2>/dev/null; cat ${secret}; } > ${bundle} \\`,
    ` && export SSL_CERT_FILE=${bundle} CURL_CA_BUNDLE=${bundle} REQUESTS_CA_BUNDLE=${bundle} \\`,
    `      PIP_CERT=${bundle} GIT_SSL_CAINFO=${bundle} NODE_EXTRA_CA_CERTS=${secret} \\`,
    ' && your-command-here',
    '# Build with:',
    `#   docker build --secret ${shellWord(`id=${id},src=${caFile}`)} .`,
  );
  return lines.map((l) => l + eol).join('');
}

// --- Reading the Dockerfile ---------------------------------------------------------------------

/** Offsets where each line starts, with the same line breaks as the parser's positions (\r\n, \r, \n). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (ch === 10) starts.push(i + 1);
  }
  return starts;
}

/** The terminator of line `line` ('' for the last line without one). */
function terminator(text: string, starts: number[], line: number): string {
  const next = starts[line + 1];
  if (next === undefined) return '';
  const end = text.charCodeAt(next - 2) === 13 && text.charCodeAt(next - 1) === 10 ? next - 2 : next - 1;
  return text.slice(end, next);
}

function fileEol(text: string, starts: number[], preferLine: number): string {
  const own = terminator(text, starts, preferLine);
  if (own) return own;
  for (let l = 0; l < starts.length - 1; l++) {
    const t = terminator(text, starts, l);
    if (t) return t;
  }
  return '\n';
}

interface Stage {
  index: number;
  from: From;
  name?: string;
  image: string;
  /** First and last line of the FROM instruction. */
  fromStart: number;
  fromEnd: number;
  /** The stage's instructions after its FROM. */
  body: Instruction[];
}

function stagesOf(df: Dockerfile): Stage[] {
  const froms = df.getFROMs();
  const all = df.getInstructions();
  return froms.map((from, index) => {
    const start = from.getRange().start.line;
    const nextStart = froms[index + 1]?.getRange().start.line ?? Infinity;
    const name = from.getBuildStage() ?? undefined;
    return {
      index, from, image: from.getImage() ?? '',
      ...(name ? { name } : {}),
      fromStart: start, fromEnd: from.getRange().end.line,
      body: all.filter((i) => i.getRange().start.line > start && i.getRange().start.line < nextStart && i !== from),
    };
  });
}

type Vars = Map<string, string | null>;

const PLATFORM_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'];

/** The ARGs declared before the first FROM, each default expanded with the ones above it. */
function globalArgs(df: Dockerfile): Vars {
  // BuildKit's automatic platform arguments exist in FROM without being declared; their value
  // depends on the build, so what uses them is not known here.
  const vars: Vars = new Map(PLATFORM_ARGS.map((a) => [a, null]));
  for (const arg of df.getInitialARGs()) {
    for (const p of arg.getProperties()) {
      const v = p.getValue();
      vars.set(p.getName(), v === null ? null : expand(v, vars, df.getEscapeCharacter()).value ?? null);
    }
  }
  return vars;
}

interface Expanded {
  /** undefined: it depends on a build argument that has no default. */
  value?: string;
  used: string[];
  missing?: string;
}

/**
 * The shell-style expansion Docker applies to FROM: $NAME, ${NAME}, ${NAME:-word}, ${NAME-word},
 * ${NAME:+word}, ${NAME+word}. An ARG declared without a default has no value until --build-arg
 * gives one, so what depends on it cannot be known here. An undeclared name is empty, as Docker has it.
 */
function expand(word: string, vars: Vars, esc: string): Expanded {
  const used: string[] = [];
  let out = '';
  let missing: string | undefined;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (ch === esc && word[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (ch !== '$') {
      out += ch;
      continue;
    }
    let name: string;
    let op = '';
    let alt = '';
    if (word[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < word.length && depth > 0; j++) {
        if (word[j] === '{') depth++;
        else if (word[j] === '}') depth--;
      }
      if (depth !== 0) return { used, missing: word };
      const inner = word.slice(i + 2, j - 1);
      i = j - 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(inner);
      if (!m) return { used, missing: `\${${inner}}` };
      name = m[1]!;
      op = m[2] ?? '';
      alt = m[3] ?? '';
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1));
      if (!m) {
        out += ch;
        continue;
      }
      name = m[0];
      i += name.length;
    }
    used.push(name);
    const declared = vars.has(name);
    const v = vars.get(name);
    const sub = (w: string): string | undefined => {
      const e = expand(w, vars, esc);
      used.push(...e.used);
      if (e.value === undefined) missing ??= e.missing;
      return e.value;
    };
    let piece: string | undefined;
    if (op === '') {
      if (v === null) missing ??= name;
      piece = v ?? '';
    } else if (op === ':-') piece = v ? v : sub(alt);
    else if (op === '-') piece = declared && v !== null ? v! : sub(alt);
    else if (op === ':+') piece = v ? sub(alt) : '';
    else piece = declared && v !== null ? sub(alt) : '';
    if (piece === undefined || missing) return { used, missing: missing ?? name };
    out += piece;
  }
  return { value: out, used };
}

interface Resolved {
  final: Stage;
  chain: Stage[];
  base?: string;
  unresolved?: string;
  argsUsed: string[];
}

function resolveFinal(df: Dockerfile, stages: Stage[]): Resolved {
  const vars = globalArgs(df);
  const esc = df.getEscapeCharacter();
  const final = stages[stages.length - 1]!;
  const chain = [final];
  const argsUsed: string[] = [];
  let cur = final;
  for (;;) {
    if (cur.image === '') throw new DockerfileError(`line ${cur.fromStart + 1}: FROM without an image`);
    const e = expand(cur.image, vars, esc);
    argsUsed.push(...e.used);
    if (e.value === undefined || e.value === '') {
      return { final, chain, argsUsed, unresolved: e.missing ?? cur.image };
    }
    const image = e.value;
    const parent = stages.slice(0, cur.index).reverse().find((s) => s.name?.toLowerCase() === image.toLowerCase());
    if (!parent) return { final, chain, base: image, argsUsed };
    chain.unshift(parent);
    cur = parent;
  }
}

interface Block {
  openLine: number;
  closeLine: number;
  /** [start, end) offsets to cut to restore the text. */
  start: number;
  end: number;
  files: string[];
  /** The CAs its opening marker names. */
  fingerprints: string[];
}

function findBlocks(df: Dockerfile, text: string, starts: number[]): Block[] {
  const instructions = df.getInstructions();
  // A comment inside an instruction's continuation lines belongs to that instruction.
  const inside = (line: number): boolean => instructions.some((i) => i.getRange().start.line < line && i.getRange().end.line > line);
  const marks = df.getComments()
    .filter((c) => !inside(c.getRange().start.line))
    .map((c) => ({ line: c.getRange().start.line, content: c.getContent() }))
    .filter((c) => c.content.startsWith(OPEN) || c.content === CLOSE);
  const blocks: Block[] = [];
  for (let k = 0; k < marks.length; k++) {
    const open = marks[k]!;
    if (!open.content.startsWith(OPEN)) throw new DockerfileError(`line ${open.line + 1}: "# ${CLOSE}" without its opening "# ${OPEN}" line; fix the Dockerfile by hand`);
    const close = marks[k + 1];
    if (!close || close.content !== CLOSE) throw new DockerfileError(`line ${open.line + 1}: the ollama-tls block is not closed by "# ${CLOSE}"; fix the Dockerfile by hand`);
    k++;
    const files = new Set<string>();
    const fingerprints = [...open.content.matchAll(/sha256:([0-9a-f]{64})/g)].map((m) => m[1]!);
    for (const f of fingerprints) files.add(`${fileStem(f)}.crt`);
    for (const i of instructions) {
      const r = i.getRange();
      if (i.getKeyword() !== 'COPY' || r.start.line <= open.line || r.end.line >= close.line) continue;
      const args = i.getArguments().map((a) => a.getValue());
      for (const src of args.slice(0, -1)) if (OUR_FILE.test(src)) files.add(src);
    }
    let start = starts[open.line]!;
    let end: number;
    if (close.line + 1 < starts.length) end = starts[close.line + 1]!;
    else {
      // The block ends the file without a newline: it was joined to the text with one, which goes too.
      end = text.length;
      if (open.line > 0) start -= terminator(text, starts, open.line - 1).length;
    }
    blocks.push({ openLine: open.line, closeLine: close.line, start, end, files: [...files], fingerprints });
  }
  return blocks;
}

function removeBlocks(text: string, blocks: Block[]): string {
  let out = text;
  for (const b of [...blocks].sort((x, y) => y.start - x.start)) out = out.slice(0, b.start) + out.slice(b.end);
  return out;
}

function insertAfterLine(text: string, starts: number[], line: number, lines: string[], eol: string): string {
  const at = starts[line + 1];
  if (at !== undefined) return text.slice(0, at) + lines.map((l) => l + eol).join('') + text.slice(at);
  // The FROM is the last line and has no newline: join with one, and keep the file without a final newline.
  return text + eol + lines.join(eol);
}

function directives(df: Dockerfile): string {
  return JSON.stringify(df.getDirectives().map((d) => [d.getName(), d.getValue(), d.getRange().start.line]));
}

function userOf(i: Instruction): string {
  const expanded = i.getExpandedArguments().map((a) => a.getValue()).join(' ');
  return expanded || (i.getArgumentsContent() ?? '');
}

const stageName = (s: Stage): string => `#${s.index}${s.name ? ` "${s.name}"` : ''}`;

// --- Planning -----------------------------------------------------------------------------------

export function planDockerfileTrust(input: DockerfileInput): DockerfilePlan {
  const cas = canonicalCas(input.cas);
  if (cas.length === 0) throw new DockerfileError('no CA to trust');
  // Any block already there (for these CAs or others) comes out first; the plan is made on what remains.
  const df0 = DockerfileParser.parse(input.text);
  const old = findBlocks(df0, input.text, lineStarts(input.text));
  const text = removeBlocks(input.text, old);
  const df = old.length > 0 ? DockerfileParser.parse(text) : df0;
  const starts = lineStarts(text);
  const stages = stagesOf(df);
  if (stages.length === 0) throw new DockerfileError(`${input.path} has no FROM instruction`);
  const notes: string[] = [];
  const r = resolveFinal(df, stages);

  const globals = new Set(df.getInitialARGs().flatMap((a) => a.getProperties().map((p) => p.getName())));
  const args = [...new Set(r.argsUsed)].filter((a) => globals.has(a));

  let match: FamilyMatch | undefined;
  if (r.base !== undefined) match = lookupFamily(r.base);
  const family = input.family ?? match?.family ?? undefined;
  const base = r.base ?? r.chain[0]!.image;
  if (!family) {
    const reason = r.base === undefined
      ? `the base image ${base} depends on the build argument ${r.unresolved}, which has no default here`
      : match
        ? `${r.base}: ${match.why}`
        : `${r.base} is not an image ollama-tls knows`;
    return { kind: 'unknown-family', image: base, stageIndex: r.final.index, reason,
      notes: [`Say which family the base image is with --base-family (debian, alpine, rhel, suse, arch or shellless).`] };
  }

  // Who runs the block: the image's default user, then every USER of the stages it is built through.
  let user = match?.user;
  let userFrom = match?.user ? `the default user of ${r.base}` : '';
  for (const s of r.chain.slice(0, -1)) {
    for (const i of s.body) {
      if (i.getKeyword() !== 'USER') continue;
      user = userOf(i);
      userFrom = `USER in stage ${stageName(s)}, line ${i.getRange().start.line + 1}`;
    }
  }
  const shellFrom = r.chain.slice(0, -1).flatMap((s) => s.body.filter((i) => i.getKeyword() === 'SHELL').map(() => s));
  const execForm = family !== 'shellless' && shellFrom.length > 0;

  const stage: StageInfo = {
    index: r.final.index, ...(r.final.name ? { name: r.final.name } : {}), image: r.final.image, base,
    chain: r.chain.map((s) => s.index), family,
    familySource: input.family ? 'option' : match?.viaMirror ? 'mirror' : 'table',
    ...(!isRootUser(user) ? { user: user! } : {}),
  };

  // Where the block goes and what it is.
  const eol = fileEol(text, starts, r.final.fromEnd);
  const lines = blockLines({
    cas, family, ...(user !== undefined ? { user } : {}), dockerfileName: path.basename(input.path), eol,
    escapeChar: df.getEscapeCharacter(), execForm,
  });
  const patched = insertAfterLine(text, starts, r.final.fromEnd, lines, eol);
  check(text, patched, df, stages.length);
  const files = dockerfileContextFiles({ cas, family, contextDir: input.contextDir, ...(input.roots ? { roots: input.roots } : {}) });

  // Notes, in the order a reader needs them.
  const chainText = [...r.chain].reverse().map((s, k, all) => `${k === 0 ? '' : `${stageName(s)} `}FROM ${k === all.length - 1 ? base : all[k + 1]!.name}`).join(', ');
  notes.push(`The final stage ${stageName(r.final)} is built ${chainText}: the block goes right after its FROM line, before any RUN can download anything.`);
  if (r.base === undefined) {
    notes.push(`The base image ${base} depends on the build argument ${r.unresolved}, which has no default here: --base-family ${family} is taken for whatever image the build names.`);
  } else if (args.length > 0) {
    notes.push(`The base image comes from the build argument${args.length > 1 ? 's' : ''} ${args.join(', ')} (the default${args.length > 1 ? 's' : ''} declared before the first FROM); a --build-arg naming another image may need another family.`);
  }
  if (input.family) {
    if (match?.family && match.family !== input.family) notes.push(`--base-family ${input.family} overrides the table, which says ${match.family} for ${r.base} (${match.why}).`);
    else if (!match?.family && r.base !== undefined) notes.push(`--base-family ${input.family}: ${r.base} is not in ollama-tls's table.`);
  } else if (match) {
    notes.push(match.viaMirror
      ? `${r.base} is taken as a mirror of ${match.matchedAs}, which is ${family} (${match.why}); if that is wrong, pass --base-family.`
      : `${r.base} is ${family}: ${match.why}.`);
  }
  if (!match && family !== 'shellless' && !stage.user && userFrom === '') {
    notes.push(`ollama-tls does not know which user ${base} runs as: the block assumes root. If the image sets another user, put USER root above the block and that user back below it.`);
  }
  if (stage.user) notes.push(`The stage runs as ${stage.user} at that point (${userFrom})${family === 'shellless' ? '; COPY needs no root' : `, so the block switches to USER root for its RUN and back to USER ${stage.user}`}.`);
  if (stage.user?.includes('$') && family !== 'shellless') {
    notes.push(`The user ${stage.user} names a variable the final stage may not have: check that USER ${stage.user} at the end of the block still names that user, or put it there literally.`);
  }
  if (execForm) notes.push(`Stage ${shellFrom.map(stageName).join(', ')} sets SHELL, which the final stage inherits: the RUN uses the exec form with /bin/sh -c.`);
  if (family === 'shellless') {
    const roots = input.roots ? `the ${input.roots.length} roots given` : `Mozilla's roots as bundled with Node.js ${process.version} (${bundledRoots().certificates.length} certificates)`;
    notes.push(`The image has no shell, so nothing can RUN: ${SHELLLESS_BUNDLE} (the file Go reads first) is replaced by ${bundleFileName(cas)}, holding ${roots} plus the CA. The base image's own roots are not kept; distroless and Chainguard ship Mozilla's too.`);
    notes.push('COPY --chmod=0644 keeps the bundle readable for a non-root user whatever the file mode in the context; it needs BuildKit (the default builder since Docker Engine 23) or Buildah/Podman: the legacy builder stops with "the --chmod option requires BuildKit".');
  } else {
    const store = storeOf(family);
    notes.push(`The CA goes to ${store.anchorDir} with a .crt name (the tool skips any other name, a .pem silently), then ${store.tool} rebuilds the bundles.`);
    notes.push(`Without ${store.tool.split(' ')[0]} (no ca-certificates package${family === 'debian' ? ', as in ubuntu and debian:*-slim' : family === 'alpine' ? ', as in plain alpine' : ''}) the RUN appends the CA to ${store.bundle}; when that bundle is missing or empty it first fills it from ${ROOTS_FILE} (Mozilla's roots as bundled with Node.js), so public hosts stay trusted. The anchor stays, so installing ca-certificates later keeps the CA.`);
  }
  for (const s of r.chain) {
    for (const i of s.body) {
      if (i.getKeyword() !== 'ENV') continue;
      for (const p of (i as PropertyInstruction).getProperties()) {
        if (p.getName() === 'SSL_CERT_FILE' || p.getName() === 'SSL_CERT_DIR') {
          notes.push(`Stage ${stageName(s)} sets ${p.getName()}=${p.getValue() ?? ''} (line ${i.getRange().start.line + 1}): Go and OpenSSL then read that instead of the bundle this block updates.`);
        }
      }
    }
  }
  const others = stages.filter((s) => !r.chain.includes(s));
  const before = r.chain.slice(0, -1);
  if (before.length > 0 || others.length > 0) {
    notes.push(`Only the final stage trusts the CA: RUN steps in ${[...before, ...others].sort((a, b) => a.index - b.index).map(stageName).join(', ')} run without it (for downloads there, see the build-secret variant).`);
  }
  notes.push(`COPY reads ${files.filter((f) => lines.some((l) => l.includes(f.name))).map((f) => f.name).join(', ')} from the top of the build context (${input.contextDir}); a .dockerignore must not exclude it.`);

  if (patched === input.text) return { kind: 'unchanged', stage, files, notes: [`The block for these CAs is already in ${input.path}.`, ...notes] };
  const keep = new Set(files.map((f) => f.name));
  const remove = [...new Set(old.flatMap((b) => b.files))].filter((f) => !keep.has(f)).sort().map((f) => path.join(input.contextDir, f));
  if (old.length > 0) {
    const same = old.every((b) => b.fingerprints.join() === cas.map((c) => c.sha256).join());
    notes.unshift(`The ollama-tls block already in ${input.path} ${same ? 'is rewritten where it belongs now' : '(for other CAs) is replaced'}.`);
  }
  return { kind: 'patch', text: patched, files, remove, stage, notes };
}

/**
 * The patched text must parse to the same stages, the same final stage, the same directives, and
 * give the original back when the block is removed. Anything else is a bug here: refuse.
 */
function check(original: string, patched: string, df: Dockerfile, stageCount: number): void {
  const after = DockerfileParser.parse(patched);
  const fail = (why: string): never => {
    throw new Error(`internal error: the patched Dockerfile ${why}; nothing was written`);
  };
  const stages = stagesOf(after);
  if (stages.length !== stageCount) fail('has a different number of stages');
  const a = stages[stages.length - 1]!;
  const b = df.getFROMs()[stageCount - 1]!;
  if (a.image !== (b.getImage() ?? '') || (a.name ?? null) !== b.getBuildStage()) fail('has another final stage');
  if (directives(after) !== directives(df) || after.getEscapeCharacter() !== df.getEscapeCharacter()) fail('changed its parser directives');
  const blocks = findBlocks(after, patched, lineStarts(patched));
  if (blocks.length !== 1 || blocks[0]!.openLine <= a.fromEnd) fail('does not hold the block in the final stage');
  if (removeBlocks(patched, blocks) !== original) fail('does not give the original back without the block');
}

export function planDockerfileUntrust(input: { path: string; text: string; contextDir: string }): DockerfileUndo {
  const df = DockerfileParser.parse(input.text);
  const blocks = findBlocks(df, input.text, lineStarts(input.text));
  if (blocks.length === 0) return { kind: 'unchanged' };
  const text = removeBlocks(input.text, blocks);
  const remove = [...new Set(blocks.flatMap((b) => b.files))].sort().map((f) => path.join(input.contextDir, f));
  const notes = [`Removes the ollama-tls block${blocks.length > 1 ? 's' : ''} (line${blocks.length > 1 ? 's' : ''} ${blocks.map((b) => `${b.openLine + 1}-${b.closeLine + 1}`).join(', ')}) from ${input.path}, and the files it COPYs from the build context.`];
  return { kind: 'restore', text, remove, notes };
}
