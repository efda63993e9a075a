// Ollama's published security advisories, as data, and the version arithmetic to match them
// against what /api/version reports. Each row was checked against a CVE record, a GitHub or Go
// vulnerability database entry or the fixing change (see `source`); `confidence: 'partial'` says
// what could not be confirmed. Advisories with no version range at all (e.g. CVE-2024-39719,
// CVE-2025-63389 "missing authentication") are left out: they would flag every release, and the
// exposure they describe is what `ollama-exposed` reports.

export type AdvisorySeverity = 'critical' | 'high' | 'medium' | 'low';

export interface Advisory {
  id: string;
  aliases: string[];
  /** First affected release; undefined = every earlier release. */
  introduced?: string;
  /** First release with the fix. */
  fixed?: string;
  /** Last affected release, when no fixed release is named. */
  lastAffected?: string;
  severity: AdvisorySeverity;
  /** The flaw leads to writing files or running code on the server. */
  codeExecution: boolean;
  summary: string;
  source: string;
  confidence: 'confirmed' | 'partial';
  note?: string;
}

export const OLLAMA_ADVISORIES: readonly Advisory[] = [
  {
    id: 'CVE-2024-28224', aliases: ['GHSA-5jx5-hqx5-2vrj'], fixed: '0.1.29', severity: 'medium', codeExecution: false,
    summary: 'DNS rebinding: a web page could reach the local API (chat, delete models, exhaust resources)',
    source: 'https://nvd.nist.gov/vuln/detail/CVE-2024-28224', confidence: 'confirmed',
  },
  {
    id: 'CVE-2024-37032', aliases: ['GHSA-8hqg-whrw-pv92', 'GO-2024-2901', 'Probllama'], fixed: '0.1.34', severity: 'high', codeExecution: true,
    summary: 'unvalidated model digest: path traversal from /api/pull writes arbitrary files, leading to remote code execution',
    source: 'https://nvd.nist.gov/vuln/detail/CVE-2024-37032', confidence: 'confirmed',
  },
  {
    id: 'CVE-2024-39721', aliases: [], fixed: '0.1.34', severity: 'high', codeExecution: false,
    summary: '/api/create reads a user-given path to the end (/dev/random): a goroutine spins forever (denial of service)',
    source: 'https://nvd.nist.gov/vuln/detail/CVE-2024-39721', confidence: 'confirmed',
  },
  {
    id: 'CVE-2025-44779', aliases: ['GO-2025-3851'], fixed: '0.1.34', severity: 'medium', codeExecution: false,
    summary: 'a crafted /api/pull request deletes arbitrary files',
    source: 'https://pkg.go.dev/vuln/GO-2025-3851', confidence: 'confirmed',
  },
  {
    id: 'CVE-2024-39720', aliases: ['GO-2024-3245'], fixed: '0.1.46', severity: 'high', codeExecution: false,
    summary: 'a 4-byte malformed GGUF blob crashes the server through /api/create (denial of service)',
    source: 'https://nvd.nist.gov/vuln/detail/CVE-2024-39720', confidence: 'confirmed',
  },
  {
    id: 'CVE-2024-39722', aliases: [], fixed: '0.1.46', severity: 'high', codeExecution: false,
    summary: 'path traversal in /api/push reveals which files exist on the server',
    source: 'https://nvd.nist.gov/vuln/detail/CVE-2024-39722', confidence: 'confirmed',
  },
  {
    id: 'CVE-2024-45436', aliases: ['GHSA-846m-99qv-67mg', 'GO-2024-3104'], fixed: '0.1.47', severity: 'high', codeExecution: true,
    summary: 'ZIP model import extracts members outside its directory (ZipSlip): arbitrary file write, used for code execution',
    source: 'https://github.com/ollama/ollama/commit/123a722a6f541e300bc8e34297ac378ebe23f527', confidence: 'confirmed',
  },
  {
    id: 'CVE-2025-51471', aliases: ['GHSA-x9hg-5q6g-q3jr', 'GO-2025-3824'], fixed: '0.14.3', severity: 'medium', codeExecution: false,
    summary: "a registry's WWW-Authenticate realm could send Ollama's registry token to another host",
    source: 'https://github.com/ollama/ollama/commit/7601f0e93e53858f09136a7e4ccf674a9b4580bd', confidence: 'partial',
    note: 'the GitHub advisory names no fixed release; the same-host check (PR #13738) first shipped in v0.14.3',
  },
  {
    id: 'CVE-2026-7482', aliases: ['GO-2026-5748', 'Bleeding Llama'], fixed: '0.17.1', severity: 'critical', codeExecution: false,
    summary: 'GGUF heap over-read in /api/create leaks server memory (environment, API keys, prompts), exfiltrated through /api/push',
    source: 'https://www.cve.org/CVERecord?id=CVE-2026-7482', confidence: 'confirmed',
  },
  {
    id: 'CVE-2026-7020', aliases: ['VDB-359599'], introduced: '0.20.0', lastAffected: '0.20.2', severity: 'medium', codeExecution: false,
    summary: 'path traversal through the digest in the tensor model transfer handler (x/imagegen/transfer)',
    source: 'https://www.cve.org/CVERecord?id=CVE-2026-7020', confidence: 'partial',
    note: 'the record lists 0.20.0, 0.20.1 and 0.20.2 and names no fixed release (the vendor did not respond)',
  },
  {
    id: 'CVE-2026-85180', aliases: [], introduced: '0.30.0', lastAffected: '0.33.2', severity: 'high', codeExecution: false,
    summary: 'tensor-layer pulls follow cross-host blob redirects: server-side request forgery (e.g. cloud metadata)',
    source: 'https://www.cve.org/CVERecord?id=CVE-2026-85180', confidence: 'partial',
    note: 'the record gives 0.30.0 through 0.33.2 and names no fixed release',
  },
  {
    id: 'CVE-2026-103663', aliases: [], introduced: '0.34.2', fixed: '0.35.0', severity: 'critical', codeExecution: true,
    summary: 'layer digests in /api/pull are not validated: path traversal writes a binary that runs on the next restart (root in the Docker image)',
    source: 'https://cert.pl/en/posts/2026/10/CVE-2026-103663/', confidence: 'confirmed',
  },
];

export interface OllamaVersion {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers ("rc1"): before the release itself. */
  pre: string[];
  /** A `git describe` build N commits after the tag ("0.5.7-3-gabc1234"): after the release. */
  post: boolean;
}

/** Parse what /api/version says; null for a development build ("0.0.0") or anything unreadable. */
export function parseOllamaVersion(text: string): OllamaVersion | null {
  const m = text.trim().match(/^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/);
  if (!m) return null;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  // Ollama's own default when built without a version (version.Version = "0.0.0").
  if (major === 0 && minor === 0 && patch === 0) return null;
  let suffix = m[4] ?? '';
  const dirty = suffix === 'dirty' || suffix.endsWith('-dirty');
  if (dirty) suffix = suffix.replace(/-?dirty$/, '');
  const post = /^\d+-g[0-9a-f]{4,}$/.test(suffix);
  return { major, minor, patch, pre: post || !suffix ? [] : suffix.split('.'), post };
}

// "rc2" < "rc10": compare letters and digit runs in turn (plain semver would order them as text).
function comparePreId(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const [pa, pb] = [split(a), split(b)];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i]!, pb[i]!];
    const [nx, ny] = [/^\d/.test(x), /^\d/.test(y)];
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1; // numeric identifiers sort first, as in semver
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function rank(v: OllamaVersion): number {
  return v.post ? 1 : v.pre.length ? -1 : 0;
}

export function compareParsed(a: OllamaVersion, b: OllamaVersion): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d) return Math.sign(d);
  const r = rank(a) - rank(b);
  if (r || a.pre.length === 0) return Math.sign(r);
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = comparePreId(a.pre[i]!, b.pre[i]!);
    if (c) return Math.sign(c);
  }
  return Math.sign(a.pre.length - b.pre.length);
}

/** -1, 0 or 1; null when either side is unknown (a dev build, or not a version). */
export function compareVersions(a: string, b: string): number | null {
  const [pa, pb] = [parseOllamaVersion(a), parseOllamaVersion(b)];
  return pa && pb ? compareParsed(pa, pb) : null;
}

export function isAffected(adv: Advisory, version: OllamaVersion): boolean {
  const at = (s: string) => compareParsed(version, parseOllamaVersion(s)!);
  if (adv.introduced && at(adv.introduced) < 0) return false;
  if (adv.fixed) return at(adv.fixed) < 0;
  if (adv.lastAffected) return at(adv.lastAffected) <= 0;
  return true;
}

/** The advisories that apply to a reported version; null when the version is unknown. */
export function advisoriesFor(version: string, table: readonly Advisory[] = OLLAMA_ADVISORIES): Advisory[] | null {
  const v = parseOllamaVersion(version);
  return v ? table.filter((a) => isAffected(a, v)) : null;
}

/** "fixed in 0.1.34", "0.20.0 to 0.20.2, no fixed release named". */
export function affectedRange(a: Advisory): string {
  if (a.fixed) return a.introduced ? `${a.introduced} up to ${a.fixed} (fixed in ${a.fixed})` : `fixed in ${a.fixed}`;
  const from = a.introduced ? `${a.introduced} to ` : 'up to ';
  return `${from}${a.lastAffected ?? 'every release'}, no fixed release named`;
}
