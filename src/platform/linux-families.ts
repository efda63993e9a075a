// The Linux families, one row each: what selects a family (os-release ID / ID_LIKE), where an
// administrator's CAs go and the tool that turns them into the bundles, and the files Go and
// OpenSSL read. Every consumer (the distribution targets, the native edits, the image layer, the
// Dockerfile block, the advice and the by-hand fixes) reads these rows; nothing else spells a
// family's paths. Sources are per fact (the anchors and tools cross-checked with mkcert's and
// smallstep/truststore's truststore_linux.go); where two earlier tables disagreed, the comment
// says what settled it.
//
// Go's bundle is the first file of Go's certFiles (crypto/x509/root_linux.go, the order Go 1.23
// tries them, copied in trust/store-paths.ts GO_CERT_FILES) that the family's CA package ships:
// Go stops at the first file that exists, so that is the one a CA must be in for Ollama.
// OpenSSL's defaults are OPENSSLDIR/cert.pem and OPENSSLDIR/certs as each distribution builds
// OpenSSL (`openssl version -d`), followed to where the distribution points them; curl, wget,
// git and Python's ssl read those.

/** A Linux family with its own trust store layout. */
export type LinuxFamily = 'debian' | 'alpine' | 'rhel' | 'suse' | 'arch';

/** An update tool as run on the system: an absolute path (sudo, cron and containers may lack /usr/sbin on PATH) and its arguments. */
export interface UpdateTool {
  path: string;
  args: string[];
}

export interface LinuxFamilyFacts {
  /** How the distribution target calls itself in a plan. */
  title: string;
  /** os-release ID or ID_LIKE values that select the family (ID is looked at before ID_LIKE). */
  ids: readonly string[];
  /** Where an administrator's CAs go: the update tool picks up the files in it. */
  anchorDir: string;
  /** The file name suffix ollama-tls gives an anchor (and the by-hand fix uses). */
  anchorSuffix: '.crt';
  /**
   * The update tools, first one present wins. On this system: `path args`. For a tree (`--root`,
   * an unpacked image): the tree's own tool, as `chroot TREE path args` (linux-distro.ts), never
   * this machine's copy over the tree; without a chroot, ca-into-tree.ts's edits instead.
   */
  tools: readonly UpdateTool[];
  /** The package that provides the tool (what a Dockerfile or a user installs). */
  package: string;
  /**
   * Where the tool itself makes a `<name>.pem` link per anchor (plus subject-hash links), when it
   * does (Debian's layout): undo removes what it leaves there.
   */
  toolLinkDir?: string;
  /** After a kill: what the tool leaves half-written (in-tree paths), and the arguments that rebuild everything. */
  interrupted?: { leftovers: readonly string[]; rebuildArgs: readonly string[] };
  /** The bundle Go (Ollama) reads on this family: the first of Go's certFiles the family ships. */
  goBundle: string;
  /** OpenSSL's compiled-in default bundle file and its hash-link directory (CApath). */
  openssl: { file: string; dir: string };
}

export const LINUX_FAMILIES: Readonly<Record<LinuxFamily, LinuxFamilyFacts>> = {
  debian: {
    title: 'Debian/Ubuntu system store',
    // os-release(5) of each: Ubuntu, Mint, Pop!_OS, Raspbian, Kali set ID_LIKE=debian or ubuntu.
    ids: ['debian', 'ubuntu', 'linuxmint', 'pop', 'raspbian', 'kali'],
    // update-ca-certificates(8): "Certificates must have a .crt extension" in /usr/local/share/ca-certificates.
    anchorDir: '/usr/local/share/ca-certificates', anchorSuffix: '.crt',
    tools: [{ path: '/usr/sbin/update-ca-certificates', args: [] }],
    package: 'ca-certificates', // dpkg -S /usr/sbin/update-ca-certificates on this machine
    // The script links /etc/ssl/certs/<name>.pem to each anchor and runs `openssl rehash` there.
    toolLinkDir: '/etc/ssl/certs',
    // The script builds ca-certificates.crt.new with >> and renames it at the end; its links and
    // `openssl rehash` run only when it sees a new link, so a re-run after a kill needs --fresh.
    interrupted: { leftovers: ['/etc/ssl/certs/ca-certificates.crt.new'], rebuildArgs: ['--fresh'] },
    goBundle: '/etc/ssl/certs/ca-certificates.crt',
    // OPENSSLDIR is /usr/lib/ssl; cert.pem and certs there are links to these (checked on this Debian).
    openssl: { file: '/etc/ssl/certs/ca-certificates.crt', dir: '/etc/ssl/certs' },
  },
  alpine: {
    title: 'Alpine system store',
    ids: ['alpine'],
    // Alpine's update-ca-certificates (aports main/ca-certificates) reads the same directory as Debian's, .crt names.
    anchorDir: '/usr/local/share/ca-certificates', anchorSuffix: '.crt',
    tools: [{ path: '/usr/sbin/update-ca-certificates', args: [] }],
    package: 'ca-certificates',
    toolLinkDir: '/etc/ssl/certs',
    // Settled (advice said certs/ca-certificates.crt, the OpenSSL table cert.pem): both are right
    // for different readers. The tool writes /etc/ssl/certs/ca-certificates.crt and Alpine ships
    // /etc/ssl/cert.pem as a link to it; Go reads ca-certificates.crt (it comes first in
    // certFiles; cert.pem is Go's entry for Alpine only when nothing earlier exists), while
    // OpenSSL, built with OPENSSLDIR=/etc/ssl, opens cert.pem.
    goBundle: '/etc/ssl/certs/ca-certificates.crt',
    openssl: { file: '/etc/ssl/cert.pem', dir: '/etc/ssl/certs' },
  },
  rhel: {
    title: 'RHEL/Fedora/CentOS/Rocky/Alma/Amazon Linux system store (ca-trust)',
    ids: ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'amzn', 'ol'],
    // update-ca-trust(8), SOURCE CONFIGURATION: any file in source/anchors (PEM, DER or p11-kit),
    // whatever its name. Settled (the by-hand fix said corp-ca.pem, the targets .crt): both work;
    // .crt is what ollama-tls writes, so the fix it prints names the file the same way.
    anchorDir: '/etc/pki/ca-trust/source/anchors', anchorSuffix: '.crt',
    // `extract` is the documented form on RHEL 7-9; /bin is /usr/bin on merged-/usr systems.
    tools: [{ path: '/usr/bin/update-ca-trust', args: ['extract'] }, { path: '/bin/update-ca-trust', args: ['extract'] }],
    package: 'ca-certificates',
    // /etc/pki/tls/certs/ca-bundle.crt links to extracted/pem/tls-ca-bundle.pem; Go tries it second.
    goBundle: '/etc/pki/tls/certs/ca-bundle.crt',
    openssl: { file: '/etc/pki/tls/certs/ca-bundle.crt', dir: '/etc/pki/tls/certs' },
  },
  suse: {
    title: 'SUSE system store',
    ids: ['suse', 'opensuse', 'opensuse-leap', 'opensuse-tumbleweed', 'sles', 'sled'],
    // SUSE's update-ca-certificates(8): CAs in /etc/pki/trust/anchors, read through p11-kit (any
    // name). Settled as for RHEL: .crt, the name ollama-tls writes.
    anchorDir: '/etc/pki/trust/anchors', anchorSuffix: '.crt',
    tools: [{ path: '/usr/sbin/update-ca-certificates', args: [] }],
    package: 'ca-certificates',
    goBundle: '/etc/ssl/ca-bundle.pem', // Go's "OpenSUSE" entry
    openssl: { file: '/etc/ssl/ca-bundle.pem', dir: '/etc/ssl/certs' },
  },
  arch: {
    title: 'Arch Linux system store (p11-kit trust)',
    ids: ['arch', 'manjaro', 'endeavouros'],
    // update-ca-trust(8) on Arch (man.archlinux.org): sources in /etc/ca-certificates/trust-source,
    // output in /etc/ca-certificates/extracted, run without arguments. Settled (the by-hand fix
    // said `trust anchor --store`): p11-kit's command stores a .p11-kit file of its own naming
    // that untrust would not find; the anchor file plus update-ca-trust is the same rule as every
    // other family and what the target does.
    anchorDir: '/etc/ca-certificates/trust-source/anchors', anchorSuffix: '.crt',
    tools: [{ path: '/usr/bin/update-ca-trust', args: [] }, { path: '/usr/bin/trust', args: ['extract-compat'] }],
    package: 'ca-certificates-utils',
    // Settled as for Alpine: /etc/ssl/certs/ca-certificates.crt (a link into extracted/) is what
    // Go finds first; /etc/ssl/cert.pem (OPENSSLDIR=/etc/ssl) links to it for OpenSSL.
    goBundle: '/etc/ssl/certs/ca-certificates.crt',
    openssl: { file: '/etc/ssl/cert.pem', dir: '/etc/ssl/certs' },
  },
};

/** The families in the order they are tried (and listed to users). */
export const LINUX_FAMILY_NAMES: readonly LinuxFamily[] = Object.keys(LINUX_FAMILIES) as LinuxFamily[];

export const isLinuxFamily = (s: string): s is LinuxFamily => (LINUX_FAMILY_NAMES as readonly string[]).includes(s);

const FAMILY_BY_ID = new Map<string, LinuxFamily>(LINUX_FAMILY_NAMES.flatMap((f) => LINUX_FAMILIES[f].ids.map((id) => [id, f] as const)));

/** The family of an os-release ID and ID_LIKE list (ID first), or undefined when none is known. */
export function familyOfIds(id: string, idLike: readonly string[]): LinuxFamily | undefined {
  return [id, ...idLike].map((x) => FAMILY_BY_ID.get(x)).find(Boolean);
}

/** The tool as a shell command finds it on PATH (a Dockerfile's RUN): its name and arguments. */
export const shellToolCommand = (f: LinuxFamilyFacts): string => {
  const t = f.tools[0]!;
  return [t.path.slice(t.path.lastIndexOf('/') + 1), ...t.args].join(' ');
};

/** The by-hand commands that trust `pem` on this family (sudo, as an administrator types them). */
export function addCaByHand(f: LinuxFamilyFacts, pem: string, name = 'corp-ca'): string {
  return `sudo cp ${pem} ${f.anchorDir}/${name}${f.anchorSuffix} && sudo ${shellToolCommand(f)}`;
}

/** The row of a family name as trees report it ('unknown', an image's 'none', undefined: no row). */
export const familyFacts = (family: string | undefined): LinuxFamilyFacts | undefined =>
  family !== undefined && isLinuxFamily(family) ? LINUX_FAMILIES[family] : undefined;
