// Which trust-store family a container base image belongs to, from its reference alone
// (registry/namespace/name:tag@digest): the image is not pulled, so this is a table of what the
// well-known images are built from. Each row says why. An image no row knows is 'unknown': the
// caller asks the user or takes --base-family; nothing is guessed silently.

import { LINUX_FAMILY_NAMES, type LinuxFamily } from '../platform/linux-families.js';

/** A Linux family (linux-families.ts), or an image without a shell (distroless, Chainguard static): no RUN. */
export type BaseFamily = LinuxFamily | 'shellless';

export const BASE_FAMILIES: readonly BaseFamily[] = [...LINUX_FAMILY_NAMES, 'shellless'];

export const isBaseFamily = (s: string): s is BaseFamily => (BASE_FAMILIES as readonly string[]).includes(s);

/** An image reference taken apart the way Docker reads it. */
export interface ImageRef {
  /** As written (after ARG expansion). */
  ref: string;
  /** 'docker.io' when none is given. */
  registry: string;
  /** The repository path inside the registry, e.g. 'library/ubuntu', 'distroless/static-debian12'. */
  path: string;
  /** '' when the reference has none (Docker then pulls 'latest', or the digest alone). */
  tag: string;
  digest?: string;
  /**
   * The name the table is keyed on: Docker Hub images without 'docker.io/' and 'library/'
   * ('ubuntu', 'ollama/ollama'), other registries with their host ('gcr.io/distroless/static').
   */
  name: string;
}

// Docker Hub under its other host names, and the pull-through mirrors that keep its paths.
const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', 'mirror.gcr.io'];
const DOCKER_HUB_PREFIXES = ['public.ecr.aws/docker/'];

/** Docker's rule: the first component is a registry when it has a dot or a colon, or is localhost. */
const isRegistry = (component: string): boolean => component.includes('.') || component.includes(':') || component === 'localhost';

/** Split a reference; undefined when it is empty or holds something Docker would not accept. */
export function parseImageRef(ref: string): ImageRef | undefined {
  if (ref === '' || /\s|\$/.test(ref)) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && isRegistry(parts[0]!)) registry = parts.shift()!.toLowerCase();
  let path = parts.join('/');
  if (path === '' || parts.some((p) => p === '')) return undefined;
  for (const prefix of DOCKER_HUB_PREFIXES) {
    const [host, ...sub] = prefix.split('/');
    const subPath = sub.join('/');
    if (registry === host && path.startsWith(subPath)) {
      registry = 'docker.io';
      path = path.slice(subPath.length);
    }
  }
  if (DOCKER_HUB.includes(registry)) {
    registry = 'docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  const name = registry === 'docker.io' ? path.replace(/^library\//, '') : `${registry}/${path}`;
  return { ref, registry, path, tag, ...(digest ? { digest } : {}), name };
}

export interface FamilyRow {
  /** Table names ('*' matches any run of characters, '/' included). */
  image: string | string[];
  /** Tag patterns; the row applies when one matches. Absent: any tag (or none). */
  tag?: string | string[];
  /** null: known, and not something this tool can patch (Windows, or unclear): ask the user. */
  family: BaseFamily | null;
  /** The user the image runs as when it is not root (its config's User). */
  user?: string;
  why: string;
}

// First matching row wins, so specific rows (tags, runtime variants) come before general ones.
export const FAMILY_TABLE: readonly FamilyRow[] = [
  // --- Not Linux, or not knowable from the name ---------------------------------------------
  { image: '*', tag: ['*windowsservercore*', '*nanoserver*', '*ltsc20*'], family: null,
    why: 'a Windows tag of a multi-platform image: no Linux trust store (use certutil in the image)' },
  { image: 'mcr.microsoft.com/windows*', family: null, why: 'a Windows base image: no Linux trust store' },
  { image: ['registry.access.redhat.com/ubi*/ubi-micro', 'registry.redhat.io/ubi*/ubi-micro', 'redhat/ubi*-micro'], family: null,
    why: 'UBI micro has no package manager and no update-ca-trust; whether a RUN can work depends on what was added: say rhel or shellless' },

  // --- No shell, or no CA tooling: the bundle is replaced by COPY -----------------------------
  { image: 'scratch', family: 'shellless', why: 'the empty image: no shell, no files, no roots at all' },
  // busybox has a shell (sh, cat, mkdir) but no ca-certificates package, no update tool and no
  // roots. Appending the CA in a RUN would create a bundle holding the CA alone, so a Go binary
  // added later could reach nothing else; COPYing Mozilla's roots plus the CA gives a complete
  // bundle, loses nothing (there were no roots to keep) and does not depend on the shell.
  { image: 'busybox', family: 'shellless', why: 'busybox: a shell but no CA package, no update tool and no roots, so a complete bundle is copied in' },
  { image: 'gcr.io/distroless/*', tag: '*nonroot*', family: 'shellless', user: '65532',
    why: 'distroless :nonroot tags: no shell, and the image runs as 65532 (nonroot)' },
  { image: 'gcr.io/distroless/*', family: 'shellless',
    why: 'distroless: no shell (:debug adds busybox, still no CA tool); roots are Debian\'s bundle at /etc/ssl/certs/ca-certificates.crt' },
  { image: ['cgr.dev/chainguard/static', 'chainguard/static'], family: 'shellless', user: '65532',
    why: 'Chainguard static: no shell, Wolfi\'s bundle at /etc/ssl/certs/ca-certificates.crt, runs as 65532 (nonroot)' },
  { image: ['cgr.dev/chainguard/wolfi-base', 'chainguard/wolfi-base'], family: 'alpine',
    why: 'Wolfi base: busybox sh and apk with Alpine\'s layout (/usr/local/share/ca-certificates, /etc/ssl/certs/ca-certificates.crt), runs as root' },
  { image: ['cgr.dev/chainguard/*', 'chainguard/*'], tag: ['*-dev', 'dev'], family: 'alpine', user: '65532',
    why: 'Chainguard -dev variants: Wolfi with a shell and apk (Alpine layout), running as 65532 (nonroot)' },
  { image: ['cgr.dev/chainguard/*', 'chainguard/*'], family: 'shellless', user: '65532',
    why: 'Chainguard runtime images are distroless (no shell) and run as 65532 (nonroot)' },

  // --- Alpine -------------------------------------------------------------------------------
  { image: 'alpine', family: 'alpine', why: 'Alpine: ca-certificates-bundle only; update-ca-certificates comes with the ca-certificates package' },
  { image: '*', tag: ['alpine', 'alpine3*', '*-alpine', '*-alpine3*', '*-alpine-*'], family: 'alpine',
    why: 'the official images\' alpine variants (node:22-alpine, python:3.12-alpine3.20, golang:1.23-alpine) are built FROM alpine' },

  // --- Images whose tags name their distribution --------------------------------------------
  { image: ['nvidia/cuda', 'nvcr.io/nvidia/cuda'], tag: '*ubuntu*', family: 'debian', why: 'CUDA images tagged -ubuntuXX.YY are built FROM ubuntu' },
  { image: ['nvidia/cuda', 'nvcr.io/nvidia/cuda'], tag: ['*ubi*', '*rockylinux*', '*centos*', '*oraclelinux*'], family: 'rhel',
    why: 'CUDA images tagged -ubi/-rockylinux/-centos/-oraclelinux are Red Hat family' },
  { image: 'eclipse-temurin', tag: '*ubi*', family: 'rhel', why: 'eclipse-temurin -ubi tags are built FROM UBI minimal' },
  { image: 'mcr.microsoft.com/dotnet/*', tag: ['*azurelinux*', '*cbl-mariner*'], family: 'rhel',
    why: '.NET images on Azure Linux / CBL-Mariner: ca-certificates with /etc/pki/ca-trust/source/anchors and update-ca-trust' },
  { image: '*', tag: ['*bookworm*', '*bullseye*', '*buster*', '*trixie*', '*jammy*', '*noble*', '*focal*'], family: 'debian',
    why: 'the tag names a Debian or Ubuntu release (bookworm, trixie, jammy, noble...)' },

  // --- Debian and Ubuntu ----------------------------------------------------------------------
  { image: 'ollama/ollama', family: 'debian', why: 'Ollama\'s image is built FROM ubuntu with ca-certificates installed, and runs as root' },
  { image: ['ubuntu', 'debian', 'buildpack-deps', 'bitnami/minideb'], family: 'debian', why: 'Debian or Ubuntu itself (ca-certificates not installed in ubuntu and debian:*-slim)' },
  { image: 'bitnami/*', family: 'debian', user: '1001', why: 'Bitnami application images are built on minideb (Debian) and set USER 1001' },
  { image: ['python', 'node', 'golang', 'rust', 'ruby', 'php', 'perl', 'gcc', 'julia', 'r-base', 'haskell', 'eclipse-temurin'], family: 'debian',
    why: 'official language images: the default and -slim variants are Debian (eclipse-temurin: Ubuntu)' },
  { image: ['nginx', 'httpd', 'postgres', 'redis', 'mongo', 'rabbitmq', 'ghcr.io/open-webui/open-webui'], family: 'debian',
    why: 'official service images whose default variant is Debian or Ubuntu' },
  { image: ['pytorch/pytorch', 'tensorflow/tensorflow', 'continuumio/miniconda3', 'vllm/vllm-openai'], family: 'debian',
    why: 'ML images built FROM ubuntu or debian' },
  { image: 'mcr.microsoft.com/dotnet/*', family: 'debian', why: '.NET images: the default tags are Debian (-jammy/-noble are Ubuntu)' },
  { image: 'mcr.microsoft.com/devcontainers/*', family: 'debian', why: 'dev container images are Debian or Ubuntu' },

  // --- Red Hat family -----------------------------------------------------------------------
  { image: ['registry.access.redhat.com/ubi*/python-*', 'registry.access.redhat.com/ubi*/nodejs-*', 'registry.access.redhat.com/ubi*/ruby-*',
    'registry.access.redhat.com/ubi*/php-*', 'registry.access.redhat.com/ubi*/perl-*', 'registry.access.redhat.com/ubi*/go-toolset'], family: 'rhel', user: '1001',
    why: 'UBI language (s2i) images: ca-trust, and they set USER 1001' },
  { image: ['redhat/ubi*', 'registry.access.redhat.com/ubi*', 'registry.redhat.io/ubi*', 'registry.redhat.io/rhel*'], family: 'rhel',
    why: 'Red Hat UBI / RHEL: ca-certificates (p11-kit) with update-ca-trust; ubi-minimal included' },
  { image: ['fedora', 'fedora/*', 'quay.io/fedora/*'], family: 'rhel', why: 'Fedora: ca-trust anchors and update-ca-trust' },
  { image: ['rockylinux', 'rockylinux/*', 'quay.io/rockylinux/*'], family: 'rhel', why: 'Rocky Linux: a RHEL rebuild' },
  { image: ['almalinux', 'almalinux/*', 'quay.io/almalinuxorg/*'], family: 'rhel', why: 'AlmaLinux: a RHEL rebuild' },
  { image: ['centos', 'quay.io/centos/*'], family: 'rhel', why: 'CentOS / CentOS Stream: ca-trust' },
  { image: ['amazonlinux', 'public.ecr.aws/amazonlinux/amazonlinux'], family: 'rhel', why: 'Amazon Linux 2 and 2023: ca-trust and update-ca-trust, as Fedora' },
  { image: ['oraclelinux', 'container-registry.oracle.com/os/oraclelinux'], family: 'rhel', why: 'Oracle Linux: a RHEL rebuild' },
  { image: ['mcr.microsoft.com/azurelinux/*', 'mcr.microsoft.com/cbl-mariner/*'], family: 'rhel',
    why: 'Azure Linux / CBL-Mariner: /etc/pki/ca-trust/source/anchors and update-ca-trust' },

  // --- SUSE ---------------------------------------------------------------------------------
  { image: ['opensuse/*', 'registry.opensuse.org/opensuse/*'], family: 'suse', why: 'openSUSE Leap and Tumbleweed: /etc/pki/trust/anchors and update-ca-certificates' },
  { image: ['registry.suse.com/bci/*', 'registry.suse.com/suse/*', 'suse/*'], family: 'suse', why: 'SUSE BCI / SLES: the SUSE trust layout' },

  // --- Arch -----------------------------------------------------------------------------------
  { image: ['archlinux', 'archlinux/archlinux', 'manjarolinux/*'], family: 'arch', why: 'Arch Linux: p11-kit trust anchors and update-ca-trust' },
];

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

const COMPILED = FAMILY_TABLE.map((row) => ({
  row,
  image: (Array.isArray(row.image) ? row.image : [row.image]).map(glob),
  tag: row.tag === undefined ? undefined : (Array.isArray(row.tag) ? row.tag : [row.tag]).map(glob),
}));

export interface FamilyMatch {
  family: BaseFamily | null;
  user?: string;
  why: string;
  /** The name the row matched: the image's own, or the Docker Hub name a mirror path ends with. */
  matchedAs: string;
  /** Set when the image came from an unknown registry and matched by its trailing path (a mirror). */
  viaMirror: boolean;
  ref: ImageRef;
}

function matchName(name: string, tag: string): FamilyRow | undefined {
  return COMPILED.find((c) => c.image.some((r) => r.test(name)) && (!c.tag || c.tag.some((r) => r.test(tag))))?.row;
}

/**
 * The family of an image reference, or undefined when no row knows it. An image on another
 * registry (Artifactory, Harbor, Nexus...) is looked up by the end of its path as a mirror of the
 * image it names (`harbor.corp/dockerhub/library/python:3.12` as `python`), and says so.
 */
export function lookupFamily(reference: string): FamilyMatch | undefined {
  const ref = parseImageRef(reference);
  if (!ref) return undefined;
  const found = (row: FamilyRow, matchedAs: string, viaMirror: boolean): FamilyMatch => ({
    family: row.family, ...(row.user ? { user: row.user } : {}), why: row.why, matchedAs, viaMirror, ref,
  });
  const direct = matchName(ref.name, ref.tag);
  if (direct) return found(direct, ref.name, false);
  if (ref.registry === 'docker.io') return undefined;
  // A mirror: try the trailing parts of the path as a reference of their own (longest first), so
  // `mirror.corp/gcr.io/distroless/static` is distroless and `artifactory.corp/docker-remote/ubuntu` is ubuntu.
  const parts = ref.path.split('/');
  for (let i = 0; i < parts.length; i++) {
    const inner = parseImageRef(parts.slice(i).join('/') + (ref.tag ? `:${ref.tag}` : ''));
    if (!inner) continue;
    const row = matchName(inner.name, inner.tag);
    // A bare '*' row (matched on the tag alone) says nothing about a mirror path.
    if (row && row.image !== '*') return found(row, inner.name, true);
  }
  // The tag alone can still name the distribution (`-alpine`, `-bookworm`).
  const byTag = COMPILED.find((c) => c.tag && c.row.image === '*' && c.tag.some((r) => r.test(ref.tag)))?.row;
  return byTag ? found(byTag, ref.name, false) : undefined;
}

/** Whether a USER value means root (`root`, `0`, with or without a group). */
export function isRootUser(user: string | undefined): boolean {
  if (user === undefined || user === '') return true;
  const name = user.split(':')[0]!;
  return name === 'root' || name === '0';
}
