// The environment systemd gives `ollama serve`, read from the unit files in a root tree. It is the
// server, not the CLI, that talks to the registry, so its HTTPS_PROXY and SSL_CERT_FILE are the
// ones that matter, and they live here rather than in anyone's shell.
//
// Rules (systemd.unit(5), systemd.exec(5), systemd.syntax(7)):
// - the unit file is the first one found along the search path (/etc masks /usr/lib);
// - drop-ins `ollama.service.d/*.conf` (and type-wide `service.d/*.conf`) come from every
//   directory; a same-named file in a higher-priority directory hides the lower one; the
//   survivors apply in file-name order whatever their directory;
// - `Environment=` holds several quoted assignments; an empty `Environment=` drops the ones so far;
// - `EnvironmentFile=` (`-` = may be missing) overrides every `Environment=`, later files win;
// - the manager's `DefaultEnvironment=` (system.conf) is underneath them all.
import path from 'node:path';
import { readTextIn, type RootFs } from '../platform/rootfs.js';

/** Highest priority first. */
export const UNIT_DIRS = [
  '/etc/systemd/system.control', '/run/systemd/system.control', '/run/systemd/transient',
  '/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system',
];

const MANAGER_CONF = '/etc/systemd/system.conf';
/** Where system.conf.d/ drop-ins live, highest priority first. */
const MANAGER_DIRS = ['/etc/systemd', '/run/systemd', '/usr/local/lib/systemd', '/usr/lib/systemd'];

export interface EnvAssignment {
  name: string;
  value: string;
  /** The file (inside the tree) that set it. */
  source: string;
  line: number;
  via: 'Environment' | 'EnvironmentFile' | 'DefaultEnvironment';
}

export interface EnvironmentFileRef {
  path: string;
  optional: boolean;
  status: 'loaded' | 'missing' | 'unreadable';
  /** The unit file or drop-in that named it. */
  from: string;
}

export interface SystemdService {
  name: string;
  /** The unit file in use (inside the tree). */
  unit: string;
  /** Masked: the unit file is a link to /dev/null, so the service cannot start. */
  masked: boolean;
  /** Drop-ins in the order systemd applies them. */
  dropIns: string[];
  environmentFiles: EnvironmentFileRef[];
  /** The effective environment, by variable name. */
  env: Record<string, EnvAssignment>;
  /** Every file that shaped the environment (for "changed after the server started"). */
  files: string[];
  notes: string[];
}

interface Setting {
  section: string;
  key: string;
  value: string;
  line: number;
}

/** Unit-file syntax: sections, `Key=Value`, `#`/`;` comments, a trailing backslash joins the next line with a space. */
export function parseUnitText(text: string): Setting[] {
  const out: Setting[] = [];
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      let next = lines[++i]!;
      while (/^\s*[#;]/.test(next) && i + 1 < lines.length) next = lines[++i]!; // comments inside a continuation are skipped
      line = `${line.slice(0, -1)} ${next.trim()}`;
    }
    if (line.endsWith('\\')) line = line.slice(0, -1);
    const header = line.match(/^\[([^\]]+)\]$/);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: start });
  }
  return out;
}

const C_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', s: ' ', '\\': '\\', '"': '"', "'": "'" };

/** One C-style escape at s[i] (just after the backslash): the text it stands for and its length. */
function cunescape(s: string, i: number): [string, number] {
  const c = s[i]!;
  if (c in C_ESCAPES) return [C_ESCAPES[c]!, 1];
  const hex = c === 'x' ? s.slice(i + 1, i + 3).match(/^[0-9a-fA-F]{2}$/) : null;
  if (hex) return [String.fromCharCode(parseInt(hex[0], 16)), 3];
  const uni = c === 'u' ? s.slice(i + 1, i + 5).match(/^[0-9a-fA-F]{4}$/) : null;
  if (uni) return [String.fromCharCode(parseInt(uni[0], 16)), 5];
  const oct = s.slice(i, i + 3).match(/^[0-7]{3}$/);
  if (oct) return [String.fromCharCode(parseInt(oct[0], 8)), 3];
  return [c, 1];
}

/** systemd's word splitting for Environment=: whitespace-separated, quotes anywhere in a word, C escapes. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let word = '';
    let quote: string | null = null;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\' && i + 1 < s.length) {
        const [text, n] = cunescape(s, i + 1);
        word += text;
        i += n;
      } else if (quote) {
        if (c === quote) quote = null;
        else word += c;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (/\s/.test(c)) {
        break;
      } else {
        word += c;
      }
    }
    words.push(word);
  }
  return words;
}

/** The unit-name specifiers that make sense here; `%%` is a literal percent sign. */
function specifiers(value: string, unitName: string): string {
  const prefix = unitName.replace(/\.[^.]+$/, '');
  return value.replace(/%([%nNp])/g, (_m, c: string) => (c === '%' ? '%' : c === 'n' ? unitName : prefix));
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * An EnvironmentFile: `KEY=VALUE` lines, `#`/`;` comment lines, single quotes literal, double quotes
 * with backslash escapes, unquoted values with trailing spaces dropped, backslash-newline continues.
 */
export function parseEnvFile(text: string): { name: string; value: string; line: number }[] {
  const out: { name: string; value: string; line: number }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
    if (i >= n) break;
    if (text[i] === '\n') { i++; line++; continue; }
    const startLine = line;
    if (text[i] === '#' || text[i] === ';') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    let key = '';
    while (i < n && text[i] !== '=' && text[i] !== '\n') key += text[i++];
    if (text[i] !== '=') continue; // a line without '=' is ignored
    i++;
    // systemd's states: before a value (spaces skipped, a quote opens), inside quotes, or a bare
    // value (quotes are literal there, trailing spaces dropped).
    let value = '';
    let pendingSpace = '';
    let preValue = true;
    while (i < n && text[i] !== '\n') {
      const c = text[i]!;
      if (preValue && (c === ' ' || c === '\t' || c === '\r')) {
        i++;
      } else if (preValue && c === "'") {
        for (i++; i < n && text[i] !== "'"; i++) { if (text[i] === '\n') line++; value += text[i]; }
        i++;
      } else if (preValue && c === '"') {
        for (i++; i < n && text[i] !== '"'; i++) {
          if (text[i] === '\\' && i + 1 < n) {
            const e = text[++i]!;
            if (e === '\n') { line++; continue; }
            value += '"\\`$'.includes(e) ? e : `\\${e}`;
          } else {
            if (text[i] === '\n') line++;
            value += text[i];
          }
        }
        i++;
      } else if (c === '\\' && i + 1 < n) {
        const e = text[i + 1]!;
        i += 2;
        if (e === '\n') { line++; continue; }
        value += pendingSpace + e; pendingSpace = ''; preValue = false;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        pendingSpace += c; i++;
      } else {
        value += pendingSpace + c; pendingSpace = ''; preValue = false; i++;
      }
    }
    const name = key.trim();
    if (ENV_NAME.test(name)) out.push({ name, value, line: startLine });
  }
  return out;
}

const errCode = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? 'error';

/** A link straight to /dev/null: systemd's "masked". */
function isDevNull(fs: RootFs, p: string): boolean {
  try {
    return fs.readlink(p) === '/dev/null';
  } catch {
    return false;
  }
}

/** Directories that are the same directory in the tree (/lib -> usr/lib on merged-/usr systems) count once. */
function distinctDirs(fs: RootFs, dirs: string[]): string[] {
  const seen = new Set<string>();
  return dirs.filter((d) => {
    let key: string;
    try {
      key = fs.resolve(d);
    } catch {
      key = d;
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function listConf(fs: RootFs, dir: string): string[] {
  try {
    return fs.readdir(dir).map((e) => e.name).filter((name) => name.endsWith('.conf'));
  } catch {
    return [];
  }
}

/** Drop-ins in application order: highest-priority directory wins per file name, then sorted by name. */
function collectDropIns(fs: RootFs, dirs: string[], subdirs: string[]): { path: string; masked: boolean }[] {
  const byName = new Map<string, { path: string; masked: boolean }>();
  for (const sub of subdirs) {
    for (const dir of dirs) {
      const d = `${dir}/${sub}`;
      for (const name of listConf(fs, d)) {
        if (byName.has(name)) continue;
        const p = `${d}/${name}`;
        byName.set(name, { path: p, masked: isDevNull(fs, p) });
      }
    }
  }
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** EnvironmentFile= may name a wildcard in its last component. */
function expandGlob(fs: RootFs, p: string): string[] {
  const base = path.posix.basename(p);
  if (!/[*?[]/.test(base)) return [p];
  const dir = path.posix.dirname(p);
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return fs.readdir(dir).map((e) => e.name).filter((n) => re.test(n)).sort().map((n) => `${dir}/${n}`);
  } catch {
    return [];
  }
}

/** The manager-wide DefaultEnvironment= from system.conf and its drop-ins: the bottom layer of every service. */
function managerEnvironment(fs: RootFs): EnvAssignment[] {
  const files = [
    MANAGER_CONF,
    ...collectDropIns(fs, distinctDirs(fs, MANAGER_DIRS), ['system.conf.d']).filter((d) => !d.masked).map((d) => d.path),
  ];
  let list: EnvAssignment[] = [];
  for (const file of files) {
    const text = readTextIn(fs, file);
    if (text === undefined) continue;
    for (const s of parseUnitText(text)) {
      if (s.section !== 'Manager' || s.key !== 'DefaultEnvironment') continue;
      if (!s.value) { list = []; continue; }
      for (const word of splitWords(s.value)) {
        const eq = word.indexOf('=');
        if (eq > 0 && ENV_NAME.test(word.slice(0, eq))) {
          list.push({ name: word.slice(0, eq), value: word.slice(eq + 1), source: file, line: s.line, via: 'DefaultEnvironment' });
        }
      }
    }
  }
  return list;
}

/** Find a system service's unit in the tree and work out the environment its process gets; undefined when there is no unit. */
export function readSystemdService(fs: RootFs, name = 'ollama.service'): SystemdService | undefined {
  const dirs = distinctDirs(fs, UNIT_DIRS);
  let unit: string | undefined;
  let masked = false;
  for (const dir of dirs) {
    const p = `${dir}/${name}`;
    if (isDevNull(fs, p)) { unit = p; masked = true; break; }
    if (fs.exists(p)) { unit = p; break; }
  }
  if (!unit) return undefined;

  const notes: string[] = [];
  const dropIns = collectDropIns(fs, dirs, [`${name}.d`, `${name.replace(/^.*\./, '')}.d`]);
  for (const d of dropIns.filter((x) => x.masked)) notes.push(`${d.path} is a link to /dev/null: it hides same-named drop-ins`);
  const files = [unit, ...dropIns.filter((d) => !d.masked).map((d) => d.path)];

  let assignments: EnvAssignment[] = [];
  let envFiles: { path: string; optional: boolean; from: string }[] = [];
  for (const file of masked ? [] : files) {
    const text = readTextIn(fs, file);
    if (text === undefined) { notes.push(`${file} cannot be read`); continue; }
    for (const s of parseUnitText(text)) {
      if (s.section !== 'Service') continue;
      if (s.key === 'Environment') {
        if (!s.value) { assignments = []; continue; }
        for (const word of splitWords(specifiers(s.value, name))) {
          const eq = word.indexOf('=');
          if (eq > 0 && ENV_NAME.test(word.slice(0, eq))) {
            assignments.push({ name: word.slice(0, eq), value: word.slice(eq + 1), source: file, line: s.line, via: 'Environment' });
          } else {
            notes.push(`${file}:${s.line}: "${word}" is not a valid assignment; systemd ignores it`);
          }
        }
      } else if (s.key === 'EnvironmentFile') {
        if (!s.value) { envFiles = []; continue; }
        const optional = s.value.startsWith('-');
        envFiles.push({ path: specifiers(optional ? s.value.slice(1) : s.value, name), optional, from: file });
      }
    }
  }

  const env: Record<string, EnvAssignment> = {};
  for (const a of [...managerEnvironment(fs), ...assignments]) env[a.name] = a;
  const environmentFiles: EnvironmentFileRef[] = [];
  for (const ref of envFiles) {
    const matches = expandGlob(fs, ref.path);
    if (matches.length === 0) {
      environmentFiles.push({ ...ref, status: 'missing' });
      if (!ref.optional) notes.push(`EnvironmentFile=${ref.path} (in ${ref.from}) matches no file: systemd will refuse to start the service`);
      continue;
    }
    for (const p of matches) {
      let text: string;
      try {
        text = fs.readFile(p).toString('utf8');
      } catch (e) {
        const code = errCode(e);
        environmentFiles.push({ ...ref, path: p, status: code === 'ENOENT' ? 'missing' : 'unreadable' });
        if (!ref.optional) {
          notes.push(code === 'ENOENT'
            ? `EnvironmentFile=${p} (in ${ref.from}) does not exist: systemd will refuse to start the service`
            : `EnvironmentFile=${p} cannot be read here (${code})`);
        }
        continue;
      }
      environmentFiles.push({ ...ref, path: p, status: 'loaded' });
      files.push(p);
      // Values from environment files override Environment=, whatever the order in the unit.
      for (const v of parseEnvFile(text)) env[v.name] = { ...v, source: p, via: 'EnvironmentFile' };
    }
  }
  return { name, unit, masked, dropIns: dropIns.filter((d) => !d.masked).map((d) => d.path), environmentFiles, env, files, notes };
}
