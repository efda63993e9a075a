// Running `ollama serve` processes, from /proc (Linux). The process is the truth the unit files
// only predict: its environment is what it started with, and its start time says whether it has
// seen the trust store as it is now (Go reads its roots once per process). /proc belongs to the
// running kernel, never to a --root tree, so its location is a parameter for tests instead.
import { readdirSync, readFileSync } from 'node:fs';

export interface OllamaProcess {
  pid: number;
  argv: string[];
  /** ISO time, or null when /proc/PID/stat or /proc/stat could not be read. */
  startedAt: string | null;
  /** False when /proc/PID/environ is not ours to read (another user's process without root). */
  envReadable: boolean;
  /** The variables that matter here (see SERVER_ENV_NAMES), when readable. */
  env: Record<string, string>;
  /** The systemd unit whose cgroup holds the process, e.g. "ollama.service". */
  unit?: string;
  /** Inside a container (docker, podman, containerd, kubernetes): its files and network are its own. */
  container: boolean;
}

/** What the server's behaviour depends on for registry TLS, proxies and exposure. */
export const SERVER_ENV_NAMES = [
  'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'OLLAMA_HOST', 'OLLAMA_ORIGINS',
] as const;

/** sysconf(_SC_CLK_TCK): 100 on every Linux architecture Ollama ships for. */
export const CLK_TCK = 100;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** `ollama serve`, by argv: argv[0] named ollama, argv[1] "serve" (`ollama runner` children and CLI calls are not servers). */
export function isOllamaServe(argv: string[]): boolean {
  const exe = argv[0]?.split('/').pop() ?? '';
  return exe === 'ollama' && argv[1] === 'serve';
}

/** Boot time in seconds since the epoch, from the `btime` line of /proc/stat. */
export function bootTime(procDir: string): number | undefined {
  const m = read(`${procDir}/stat`)?.match(/^btime\s+(\d+)/m);
  return m ? Number(m[1]) : undefined;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks after boot). The command name (field 2) may hold spaces and parentheses, so count from the last ')'. */
export function startTicks(statText: string): number | undefined {
  const close = statText.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = statText.slice(close + 2).trim().split(/\s+/); // fields[0] is field 3 (state)
  const v = fields[22 - 3];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function cgroupFacts(text: string | undefined): { unit?: string; container: boolean } {
  if (!text) return { container: false };
  const container = /docker|containerd|libpod|kubepods|crio|lxc/.test(text);
  const unit = container ? undefined : text.match(/\/([^/\s]+\.service)(?:\/|\s*$)/m)?.[1];
  return unit ? { unit, container } : { container };
}

export function findOllamaServers(procDir = '/proc', clockTicks = CLK_TCK): OllamaProcess[] {
  let entries: string[];
  try {
    entries = readdirSync(procDir).filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const btime = bootTime(procDir);
  const out: OllamaProcess[] = [];
  for (const name of entries) {
    const dir = `${procDir}/${name}`;
    const argv = (read(`${dir}/cmdline`) ?? '').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    if (!isOllamaServe(argv)) continue;
    const ticks = startTicks(read(`${dir}/stat`) ?? '');
    const startedAt = btime !== undefined && ticks !== undefined ? new Date(btime * 1000 + (ticks * 1000) / clockTicks).toISOString() : null;
    const environ = read(`${dir}/environ`);
    const env: Record<string, string> = {};
    for (const kv of environ?.split('\0') ?? []) {
      const eq = kv.indexOf('=');
      const key = kv.slice(0, eq);
      if (eq > 0 && (SERVER_ENV_NAMES as readonly string[]).includes(key)) env[key] = kv.slice(eq + 1);
    }
    out.push({ pid: Number(name), argv, startedAt, envReadable: environ !== undefined, env, ...cgroupFacts(read(`${dir}/cgroup`)) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
