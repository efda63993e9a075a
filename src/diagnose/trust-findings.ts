// From verdicts to diagnoses. A client's message is often vaguer than the truth ("unknown
// authority" covers a missing intermediate, a private root and a self-signed server alike), so
// each failing verdict is re-examined against the chain and every store we know.
import type { Certificate } from '../x509/certificate.js';
import { formatName } from '../x509/certificate.js';
import type { Env, StoreSource, TrustStore } from '../trust/stores.js';
import { goParseErrors, parseGoDebug, type GoDebug } from '../trust/go-verify.js';
import { VIEW_DESCRIPTIONS, type Judgement, type TrustViews, type ViewName } from '../trust/views.js';
import { verdictCode } from './verdict-codes.js';
import { CLIENT_TRUST } from './client-trust.js';
import { chainFacts, daysBetween, EXPIRING_SOON_DAYS, type ChainFacts } from './chain-facts.js';
import { INSECURE_FLAG_NOTE, NETWORK_FIX, SERVER_FIX, sslCertFileFix, trustCaFixes, CA_FILE_PLACEHOLDER, type ClientPlatform } from './fixes.js';
import type { Finding, FindingBasis, FindingCode, Fix, Severity } from './finding.js';
import { findHeldIssuer, judgeMissingIssuer, type HeldIssuer, type InterceptionHint, type MissingIssuer } from './missing-issuer.js';

export interface ChainDiagnosisInput {
  presented: Certificate[];
  judgements: Judgement[];
  deciding: ViewName[];
  views: TrustViews;
  /** The name verified (SNI or host) and the target as printed. */
  verifyName: string;
  label: string;
  now: Date;
  client: ClientPlatform;
  env: Env;
  /** Newest notBefore among the bundled roots: a clock before it is certainly wrong. */
  clockFloor: Date;
  /** What the interception analysis of the same chain concluded: an inspection CA signs leaves with its root. */
  interception?: InterceptionHint;
}

// Codes that mean "no path to a trusted root", where the chain itself says which gap it is.
const TRUST_GAP = new Set(['unknown-authority', 'missing-intermediate', 'untrusted-root', 'self-signed-leaf']);

export const certName = (c: Certificate): string =>
  c.decodeError !== undefined ? `undecodable certificate ${c.sha256.slice(0, 16)}` : c.commonName ?? (formatName(c.subject) || `serial ${c.serialHex}`);
const day = (d: Date) => d.toISOString().slice(0, 10);

interface Ctx {
  input: ChainDiagnosisInput;
  /** The code the client's own message implies, before the chain was examined. */
  judgementCode: string;
  facts: ChainFacts;
  judgement: Judgement;
  view: ViewName;
  leaf: Certificate;
  top: Certificate;
  /** The certificate the problem is about. */
  subject: Certificate;
  /** Other views that accept this chain, for "why curl or a browser may still work". */
  acceptedBy: ViewName[];
  /** For trust gaps: where else the missing issuer was found. */
  issuerElsewhere?: { view: ViewName; cert: Certificate; origin: string };
  /** For an issuer that was not sent: root or intermediate, and the evidence that decided. */
  missing?: MissingIssuer;
}

type Text = { title: string; detail: string; fixes: Fix[]; evidence?: string[] };

function storeSummary(store: TrustStore): string {
  const used = store.sources.filter((s) => s.status === 'loaded' || s.status === 'empty' || s.kind === 'env');
  const count = (n: number) => `${n} certificate${n === 1 ? '' : 's'}`;
  // A certificate that does not parse is skipped by Go and OpenSSL without a word: say so here.
  const damaged = (s: StoreSource) => (s.damaged ? `; ${s.damaged.count} that cannot be parsed skipped (${s.damaged.reason})` : '');
  return used.map((s) => `${s.path} (${s.status === 'loaded' ? count(s.certificates) : s.status}${damaged(s)})`).join(', ') || 'no readable source';
}

// How a view is named inside a sentence about who else accepts the chain.
const WHO: Record<ViewName, string> = {
  go: 'Ollama (Go)',
  node: 'Node.js',
  system: 'OS-store tools such as curl',
  mozilla: 'a client with only the public web roots',
  extra: 'Go with your --ca files',
};

function acceptedSentence(c: Ctx, why: string): string {
  if (c.acceptedBy.length === 0) return '';
  const names = c.acceptedBy.map((v) => WHO[v]);
  const who = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  return ` Meanwhile ${who} ${names.length > 1 ? 'accept' : 'accepts'} it${why ? `: ${why}` : ''}, which is why it can work elsewhere.`;
}

const sudo = (c: Ctx) => (c.input.client.platform === 'win32' ? '' : 'sudo ');

/** Neither a root nor an intermediate can be named: say both, and how to find out. */
function undecided(c: Ctx): Text {
  const issuer = formatName(c.top.issuer);
  const aia = c.top.aia.caIssuers[0];
  return {
    title: `${c.input.label}: cannot tell whether "${attributeOr(c.top.issuer, issuer)}" (not sent) is a private root or a missing intermediate`,
    detail:
      `The server sent only its own certificate, issued by "${issuer}", which it did not send and which no --ca file or store here holds. ` +
      `Go (and so Ollama) reports "certificate signed by unknown authority" either way. If "${attributeOr(c.top.issuer, issuer)}" is a root (a private ` +
      `or corporate CA that signs server certificates directly), trust it here; if it is an intermediate, the server must send it. Nothing in the ` +
      `certificate settles which. To find out, get the issuer's certificate (from whoever runs the server or your IT team${aia ? `, or from the certificate's AIA address ${aia}` : ''}) ` +
      `and run the doctor again with --ca: it checks the signature and says which.` + acceptedSentence(c, ''),
    fixes: [
      { title: 'Get the issuer certificate and check it against this server (the doctor then names a root or an intermediate)', command: `ollama-tls doctor ${c.input.label} --ca issuer.pem`, side: 'client' },
      { title: 'If it is a root: trust it where Ollama runs', command: `${sudo(c)}ollama-tls trust --ca issuer.pem`, side: 'client' },
      { ...SERVER_FIX.fullChain, title: `If it is an intermediate: ${SERVER_FIX.fullChain.title.replace(/^On the server, s/, 'on the server, s')}` },
    ],
  };
}

const saveChain = (c: Ctx): Fix => ({
  title: 'Save the certificates the server sends, to hand to your IT team or to trust the right one',
  command: `ollama-tls doctor ${c.input.label} --save-chain ${c.input.verifyName}-chain.pem`,
  side: 'client',
});

const TEXTS: Partial<Record<FindingCode, (c: Ctx) => Text>> = {
  'missing-intermediate': (c) => {
    const aia = c.top.aia.caIssuers[0];
    const held = c.missing?.held;
    return {
      title: `${c.input.label} sends an incomplete chain: the intermediate that issued its certificate is missing`,
      detail:
        `The server sent ${c.facts.presented.length} certificate${c.facts.presented.length > 1 ? 's' : ''}, and "${certName(c.top)}" was issued by ` +
        `"${formatName(c.top.issuer)}", which it did not send. Go (and so Ollama) never downloads missing intermediates, so it cannot ` +
        `link the certificate to a trusted root and reports "certificate signed by unknown authority". Browsers often still work because they ` +
        `cache intermediates or fetch them from the address in the certificate${aia ? ` (${aia})` : ''}. This is a server configuration mistake.` +
        acceptedSentence(c, ''),
      fixes: [
        SERVER_FIX.fullChain,
        ...(held?.fromCaFile
          ? [{ title: `Until the server is fixed, the intermediate in ${held.origin} (SHA-256 ${held.cert.sha256}) can be trusted here (Go accepts an intermediate as an anchor)`, command: `${sudo(c)}ollama-tls trust --ca ${held.origin}`, side: 'client' as const }]
          : aia ? [{ title: 'Until the server is fixed, the intermediate can be downloaded from the certificate\'s AIA address and trusted here (Go accepts an intermediate as an anchor)', command: `curl -fsSL ${aia} -o intermediate.der && openssl x509 -inform DER -in intermediate.der -out intermediate.pem`, side: 'client' as const }] : []),
      ],
    };
  },

  'untrusted-root': (c) => {
    const sent = c.facts.topSelfSigned && c.top !== c.leaf;
    const rootName = sent ? certName(c.top) : formatName(c.top.issuer);
    const where = sent
      ? `The chain is complete and ends at the self-signed root "${rootName}", which the server sent along, but that root is not among the roots ${VIEW_DESCRIPTIONS[c.view]} trusts.`
      : `The chain ends at "${certName(c.top)}", issued by "${rootName}", which was not sent and is not among the roots ${VIEW_DESCRIPTIONS[c.view]} trusts.`;
    const held = !sent && c.missing?.held?.root ? c.missing.held : undefined;
    const fingerprint = sent ? c.top.sha256 : held?.cert.sha256;
    // The file to trust: the user's own --ca file when it holds the root, else one to get from IT.
    const file = held?.fromCaFile ? held.origin : CA_FILE_PLACEHOLDER;
    return {
      title: `${VIEW_DESCRIPTIONS[c.view]} does not trust the root CA "${sent ? certName(c.top) : attributeOr(c.top.issuer, rootName)}"${sent ? '' : ' (not sent)'}`,
      ...(sent ? { evidence: [`root certificate sent by the server: "${certName(c.top)}", SHA-256 ${fingerprint}`] } : {}),
      detail:
        `${where} This is what a private CA, or a TLS-inspecting proxy (Zscaler, Netskope, Palo Alto, ...), looks like: the certificate is signed by an ` +
        `authority your organisation runs, and Go programs such as Ollama reject it until that authority's root certificate is in the store Go reads ` +
        `(${storeSummary(c.judgement.store)}).` + acceptedSentence(c, 'the root is in the store they read'),
      fixes: [
        sent
          ? { title: `Check with your IT team that "${rootName}" with SHA-256 ${fingerprint} is theirs before trusting it (it is the last certificate in the saved chain)`, side: 'client' as const }
          : held
            ? { title: `Check with your IT team that "${certName(held.cert)}" with SHA-256 ${held.cert.sha256} (in ${held.origin}) is theirs before trusting it`, side: 'client' as const }
            : { title: `Get the root certificate "${rootName}" from your IT team (often on an internal wiki, or in the browser's certificate viewer), then check it: ollama-tls doctor ${c.input.label} --ca corp-root.pem`, side: 'client' as const },
        ...(held?.fromCaFile ? [] : [saveChain(c)]),
        ...trustCaFixes(c.input.client, file),
        ...(c.input.client.platform === 'linux' ? [sslCertFileFix('/etc/ollama/ca-bundle.pem')] : []),
        INSECURE_FLAG_NOTE,
      ],
    };
  },

  'self-signed-leaf': (c) => ({
    title: `${c.input.label} presents a self-signed certificate`,
    detail:
      `The server's certificate "${certName(c.leaf)}" is signed by itself, so no CA vouches for it. Go accepts such a certificate only if that exact ` +
      `certificate is among its roots. This is typical of a freshly installed reverse proxy, NAS or appliance that generated its own certificate.` +
      acceptedSentence(c, 'that certificate is in the store they read'),
    fixes: [
      SERVER_FIX.realCertificate,
      saveChain(c),
      ...trustCaFixes(c.input.client, `${c.input.verifyName}-chain.pem`),
    ],
  }),

  'trusted-by-system-not-go': (c) => {
    const other = c.issuerElsewhere;
    const env = c.input.env;
    const origin = other?.origin ?? '';
    let reason: string;
    if (env.SSL_CERT_FILE || env.SSL_CERT_DIR) {
      const vars = [env.SSL_CERT_FILE && `SSL_CERT_FILE=${env.SSL_CERT_FILE}`, env.SSL_CERT_DIR && `SSL_CERT_DIR=${env.SSL_CERT_DIR}`].filter(Boolean).join(' and ');
      reason = `${vars} replace${env.SSL_CERT_FILE && env.SSL_CERT_DIR ? '' : 's'} where Go looks, and the CA is not there`;
    } else if (other && !c.judgement.store.sources.some((s) => s.path === origin && s.status === 'loaded')) {
      const skipped = c.judgement.store.sources.find((s) => s.path === origin && s.status === 'skipped');
      reason = skipped
        ? `Go reads only the first bundle file it finds (${c.judgement.store.sources.find((s) => s.status === 'loaded' && s.kind !== 'dir')?.path ?? 'another file'}), and the CA is in ${origin}`
        : `in ${origin} it is stored in a form Go ignores (a "TRUSTED CERTIFICATE" PEM block, a PEM block with headers, or a certificate Go's parser rejects)`;
    } else {
      reason = `Go reads ${storeSummary(c.judgement.store)}`;
    }
    return {
      title: `The OS store trusts ${c.input.label}, but Ollama's Go runtime reads different roots`,
      detail:
        `curl, Python and other OpenSSL tools accept this chain because ${other ? `"${certName(other.cert)}" is in the system store (${origin})` : 'the system store holds its root'}. ` +
        `Go does not see it: ${reason}.`,
      fixes: [
        ...(env.SSL_CERT_FILE ? [{ title: 'Unset SSL_CERT_FILE where Ollama runs, or point it at a bundle that also holds your CA', command: 'unset SSL_CERT_FILE', side: 'client' as const }] : []),
        ...(env.SSL_CERT_DIR ? [{ title: 'Unset SSL_CERT_DIR where Ollama runs, or add the CA to one of its directories', command: 'unset SSL_CERT_DIR', side: 'client' as const }] : []),
        ...trustCaFixes(c.input.client, other ? `"${origin}"` : CA_FILE_PLACEHOLDER),
      ],
    };
  },

  'unknown-authority': (c) => (c.missing?.basis === 'undecided' ? undecided(c) : {
    title: `${VIEW_DESCRIPTIONS[c.view]} cannot build a trusted chain for ${c.input.label}`,
    detail:
      `No path from the server's certificate to a trusted root passes every check: ${c.judgement.verdict.message}. ` +
      `Usually a certificate's signature does not verify against its supposed issuer (a corrupted or mismatched chain).` + acceptedSentence(c, ''),
    fixes: [saveChain(c), { title: 'On the server, re-install the certificate together with the chain your CA issued with it', side: 'server' }],
  }),

  expired: (c) => {
    const ago = daysBetween(c.subject.notAfter, c.input.now);
    return {
      title: `The certificate for ${c.input.verifyName} expired ${ago} day${ago === 1 ? '' : 's'} ago (${day(c.subject.notAfter)})`,
      detail:
        `"${certName(c.subject)}" was valid until ${c.subject.notAfter.toISOString()}. Every client refuses an expired certificate, so this is not something to ` +
        `fix on your side${c.input.now < c.input.clockFloor ? ' (unless your clock is wrong: see the clock finding)' : ''}.`,
      fixes: [SERVER_FIX.renew],
    };
  },

  'expired-intermediate': (c) => ({
    title: `The intermediate CA "${certName(c.subject)}" in the chain expired on ${day(c.subject.notAfter)}`,
    detail:
      `The server still sends an intermediate certificate that is past its end date, typically after its CA rolled over to a new intermediate. ` +
      `Go fails on it even when a valid alternative exists elsewhere, because Go only builds paths from what the server sends and its roots.` + acceptedSentence(c, ''),
    fixes: [SERVER_FIX.currentIntermediate],
  }),

  'not-yet-valid': (c) => {
    const skew = c.input.now < c.input.clockFloor;
    return {
      title: `The certificate for ${c.input.verifyName} is not valid until ${c.subject.notBefore.toISOString()}`,
      detail:
        `"${certName(c.subject)}" only becomes valid in ${daysBetween(c.input.now, c.subject.notBefore)} day(s). ` +
        (skew
          ? 'This machine\'s clock is behind (see the clock finding): that, not the certificate, is the likely cause.'
          : 'Either the server uses a certificate issued with a future start date, or this machine\'s clock is behind.'),
      fixes: [
        NETWORK_FIX.clockSync,
        { title: 'On the server, install a certificate whose validity has started', side: 'server' },
      ],
    };
  },

  'hostname-mismatch': (c) => {
    const names = [...(c.leaf.san?.dns ?? []), ...(c.leaf.san?.ip ?? [])];
    return {
      title: `The certificate is for ${names.length ? names.slice(0, 4).join(', ') + (names.length > 4 ? ', ...' : '') : `"${certName(c.leaf)}"`}, not ${c.input.verifyName}`,
      detail:
        `The server answered with a certificate for other names. Either this address serves another site (check DNS, the hosts file and --resolve), ` +
        `a proxy or load balancer presents its default certificate, or the certificate lacks this name.`,
      fixes: [
        SERVER_FIX.nameOnCertificate,
        { title: 'Check which address the name resolves to here', command: `getent hosts ${c.input.verifyName}`, side: 'client' },
      ],
    };
  },

  'cn-only': (c) => ({
    title: `The certificate names ${c.input.verifyName} only in its Common Name; Go requires a Subject Alternative Name`,
    detail:
      `"${certName(c.leaf)}" has no subjectAltName extension. Go stopped falling back to the Common Name in Go 1.15 and removed the ` +
      `GODEBUG=x509ignoreCN=0 escape hatch in Go 1.17, so Ollama rejects it with "x509: certificate relies on legacy Common Name field".` +
      acceptedSentence(c, 'OpenSSL-based clients still fall back to the Common Name'),
    fixes: [SERVER_FIX.reissueWithSan(c.input.verifyName)],
  }),

  'ip-san-missing': (c) => ({
    title: `You connect by IP address (${c.input.verifyName}), and the certificate has no IP address SAN for it`,
    detail:
      `To verify an IP address, Go and Node look only at IP-address entries in the subjectAltName; DNS names and the Common Name do not count. ` +
      `The certificate lists ${(c.leaf.san?.ip.length ? c.leaf.san.ip.join(', ') : 'no IP addresses')}${c.leaf.san?.dns.length ? ` and the names ${c.leaf.san.dns.join(', ')}` : ''}.`,
    fixes: [
      { title: 'Connect by a host name the certificate lists (OLLAMA_HOST=https://name:port)', side: 'client' },
      SERVER_FIX.reissueWithIpSan(c.input.verifyName),
    ],
  }),

  'weak-signature': (c) => ({
    title: `"${certName(c.subject)}" is signed with ${c.subject.signature.name}, which Go refuses`,
    detail:
      `Go has rejected SHA-1 signatures on certificates since Go 1.18, and Go 1.24 removed the GODEBUG=x509sha1=1 override, so no setting brings ` +
      `them back for Ollama. OpenSSL 3 refuses them at its default security level too.` + acceptedSentence(c, ''),
    fixes: [SERVER_FIX.sha256],
  }),

  'weak-key': (c) => ({
    title: `"${certName(c.subject)}" has a ${c.subject.publicKey.bits}-bit ${c.subject.publicKey.type} key`,
    detail:
      `OpenSSL 3.2 and later (Node 22+, current Linux distributions) refuse RSA keys under 2048 bits at their default security level; Go still accepts ` +
      `1024 bits but refuses anything smaller. Keys this size are considered breakable.`,
    fixes: [SERVER_FIX.strongKey],
  }),

  'wrong-eku': (c) => ({
    title: `"${certName(c.subject)}" is not valid for TLS servers`,
    detail:
      `Its extended key usage allows ${(c.subject.extKeyUsage ?? []).map((o) => EKU_LABEL[o] ?? o).join(', ') || 'something else'}, not serverAuth. ` +
      `Go and OpenSSL both refuse a server certificate that lacks serverAuth when the extension is present (a client certificate installed on the server is the usual cause).`,
    fixes: [SERVER_FIX.serverAuth],
  }),

  'invalid-ca': (c) => ({
    title: `"${certName(c.subject)}" is not allowed to issue the certificate below it`,
    detail:
      `${invalidCaReason(c.subject, c.facts)} Go and OpenSSL refuse to build a chain through it.` + acceptedSentence(c, ''),
    fixes: [SERVER_FIX.properCa],
  }),

  'malformed-certificate': (c) => ({
    title: `Go cannot parse a certificate that ${c.input.label} sends`,
    detail: `Go's certificate parser is stricter than OpenSSL's: ${c.judgement.verdict.message}. Ollama fails before it even checks trust.`,
    fixes: goParseFixes(c.subject, 'server'),
  }),

  'unhandled-critical-extension': (c) => ({
    title: `"${certName(c.subject)}" has a critical extension the client does not understand`,
    detail: `A certificate may mark an extension critical, and clients must then refuse it if they do not implement it: ${c.judgement.verdict.message}.`,
    fixes: [{ title: 'Reissue the certificate without that critical extension (or mark it non-critical)', side: 'server' }],
  }),
};

/**
 * A trust gap seen only by a view that does not decide: the advice is for that client, not for
 * Ollama, which already accepts the chain.
 */
const GAP_IN_OTHER_VIEW: Partial<Record<ViewName, (c: Ctx, code: FindingCode) => Text>> = {
  node: (c) => ({
    title: `Node.js does not trust ${c.input.label} (${GAP_SHORT[c.judgementCode] ?? 'no trusted path'})`,
    detail:
      `Node.js checks chains against its own bundled Mozilla roots plus the file named by NODE_EXTRA_CA_CERTS, not the OS store, so Node-based ` +
      `tools on this machine (npm, Open WebUI, LangChain.js, editor extensions) fail where Ollama works. Node says: ${c.judgement.verdict.message}.`,
    fixes: CLIENT_TRUST.node.fixes(c.input.client),
  }),
  system: (c) => ({
    title: `Tools that use the OS store (curl, Python, git) do not trust ${c.input.label}`,
    detail:
      `Ollama accepts the chain because Go reads ${storeSummary(c.input.judgements.find((j) => j.verdict.view === 'go')?.store ?? c.judgement.store)}, ` +
      `but the OS store itself lacks the CA: ${c.judgement.verdict.message}.`,
    fixes: trustCaFixes(c.input.client, CA_FILE_PLACEHOLDER).slice(0, 1),
  }),
  mozilla: (c) => {
    // The root a view that accepts the chain anchored it in names it best (the chain sent may stop at an intermediate).
    // (Go anchors at any certificate in its pool, an intermediate too: a self-signed end is preferred.)
    const anchors = c.input.judgements.filter((j) => j.verdict.ok && j.path.length).map((j) => j.path[j.path.length - 1]!);
    const anchor = anchors.find((a) => a.selfSigned) ?? anchors[0];
    const root = anchor ? certName(anchor) : c.facts.topSelfSigned ? certName(c.top) : attributeOr(c.top.issuer, formatName(c.top.issuer));
    return {
      title: `${c.input.label} is not trusted by the public web PKI (its root is "${root}")`,
      detail:
        `That root is not among the public roots that browsers, Node.js and stock container images ship. This is expected for a private CA, ` +
        `but every client without your CA installed (a new container image, a CI runner, another laptop) will refuse ${c.input.label}.`,
      fixes: [{ title: 'Install the CA on every machine and in every image that talks to this server', side: 'client' }],
    };
  },
};

// How the evidence line that decided a missing issuer begins.
const DECIDED: Record<MissingIssuer['kind'], string> = {
  root: 'a root that was not sent, not a missing intermediate, because',
  intermediate: 'a missing intermediate, not a root, because',
  unknown: 'neither a root nor an intermediate can be named, because',
};

const GAP_SHORT: Partial<Record<string, string>> = {
  'missing-intermediate': 'the server sends an incomplete chain',
  'untrusted-root': 'its root is not in Node\'s list',
  'self-signed-leaf': 'a self-signed certificate',
  'unknown-authority': 'no trusted path',
};

// Who rejects, at the head of a warning's title.
const WHO_REJECTS: Record<ViewName, string> = {
  go: 'Ollama (Go) would reject this',
  node: 'Node.js would reject this',
  system: 'curl and the OS store would reject this',
  mozilla: 'The public web PKI would reject this',
  extra: 'Go with your --ca files would reject this',
};

const EKU_LABEL: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning', '2.5.29.37.0': 'anyExtendedKeyUsage',
};

function attributeOr(name: Certificate['issuer'], fallback: string): string {
  return name.rdns.flat().find((a) => a.type === 'CN')?.value ?? fallback;
}

function invalidCaReason(ca: Certificate, facts: ChainFacts): string {
  if (!ca.basicConstraints) return 'It has no basicConstraints extension, so it is not a CA certificate.';
  if (!ca.basicConstraints.ca) return 'Its basicConstraints say CA:FALSE: it is an end-entity certificate, not a CA.';
  if (ca.keyUsage && !ca.keyUsage.has('keyCertSign')) return `Its keyUsage (${[...ca.keyUsage].join(', ')}) does not include keyCertSign.`;
  const at = facts.linked.indexOf(ca);
  if (ca.basicConstraints.pathLen !== null && at > 0) {
    return `Its path length constraint (pathLen ${ca.basicConstraints.pathLen}) allows ${ca.basicConstraints.pathLen} intermediate(s) below it, but the chain has ${at - 1}.`;
  }
  return 'Its constraints do not allow this chain.';
}

/** The finding code a failing verdict's message means. */
const codeOf = (j: Judgement): FindingCode => verdictCode(j) ?? 'unknown-authority';

/** Which certificate a failing verdict is about. */
function subjectOf(j: Judgement, leaf: Certificate): Certificate {
  if (j.go?.error) {
    const e = j.go.error;
    if (e.kind === 'unknown-authority') {
      if (e.hint?.error.kind === 'insecure-algorithm') return e.cert; // the weakly signed child
      if (e.hint) return e.hint.cert; // the CA that could not sign
      return e.cert;
    }
    if ('cert' in e) return e.cert;
  }
  if (j.openssl?.error) return j.openssl.error.cert;
  return leaf;
}

function isSignatureFailure(j: Judgement): boolean {
  if (j.go?.error?.kind === 'unknown-authority' && j.go.error.hint?.error.kind === 'bad-signature') return true;
  if (j.go?.error?.kind === 'bad-signature') return true;
  return j.openssl?.error?.name === 'CERT_SIGNATURE_FAILURE';
}

/**
 * Where, among the stores the other views read (and the --ca files), the top certificate's issuer
 * lives: anywhere (--ca files first), and in the OS store in particular.
 */
async function findIssuerElsewhere(input: ChainDiagnosisInput, top: Certificate, except: ViewName): Promise<{ held?: HeldIssuer; inSystem?: HeldIssuer }> {
  const stores = await Promise.all(input.views.views.filter((v) => v !== except).map(async (view) => ({ view, store: await input.views.store(view) })));
  const held = findHeldIssuer(top, stores, input.views.ctx.extraCaFiles);
  const inSystem = held?.view === 'system' ? held : findHeldIssuer(top, stores.filter((s) => s.view === 'system'), []);
  return { ...(held ? { held } : {}), ...(inSystem ? { inSystem } : {}) };
}

interface Classified {
  code: FindingCode;
  basis?: FindingBasis;
  issuerElsewhere?: Ctx['issuerElsewhere'];
  missing?: MissingIssuer;
}

const MISSING_CODE: Record<MissingIssuer['kind'], FindingCode> = { root: 'untrusted-root', intermediate: 'missing-intermediate', unknown: 'unknown-authority' };

async function classify(input: ChainDiagnosisInput, facts: ChainFacts, j: Judgement): Promise<Classified> {
  const code = codeOf(j);
  if (!TRUST_GAP.has(code) || isSignatureFailure(j)) return { code };
  if (facts.leafSelfSigned) return { code: 'self-signed-leaf', basis: 'leaf-self-signed' };
  const top = facts.linked[facts.linked.length - 1]!;
  if (facts.topSelfSigned) return { code: 'untrusted-root', basis: 'root-sent' };
  const { held, inSystem } = await findIssuerElsewhere(input, top, j.verdict.view);
  if (inSystem && j.verdict.view === 'go' && !input.views.goUsesPlatformVerifier) {
    return { code: 'trusted-by-system-not-go', issuerElsewhere: inSystem };
  }
  const missing = judgeMissingIssuer({ top, leaf: facts.presented[0]!, ...(held ? { held } : {}), ...(input.interception ? { interception: input.interception } : {}) });
  return { code: MISSING_CODE[missing.kind], basis: missing.basis, missing, ...(held ? { issuerElsewhere: held } : {}) };
}

/**
 * A finding's words. A trust gap is about where one client reads its roots, so Node, the OS store
 * and the public PKI get their own advice (Go's, for the go and extra views, is the default). Any
 * other problem is a property of the certificate; as a warning it says which client rejects it.
 */
function buildFinding(code: FindingCode, severity: Severity, ctx: Ctx, evidence: string[], basis?: FindingBasis): Finding {
  const gap = TRUST_GAP.has(code) || code === 'trusted-by-system-not-go';
  // The public-PKI words say "its root is not a public one": they fit when another view accepts the
  // chain (it is whole, only privately rooted), and then the code is the one for a root not
  // trusted. Otherwise (nobody accepts it) the chain's own problem is told in its own words.
  const publicRoot = ctx.view === 'mozilla' && ctx.acceptedBy.length > 0;
  const otherView = gap && (ctx.view !== 'mozilla' || publicRoot) ? GAP_IN_OTHER_VIEW[ctx.view] : undefined;
  if (publicRoot && otherView) code = 'untrusted-root';
  const text = otherView ? otherView(ctx, code) : (TEXTS[code] ?? TEXTS['unknown-authority']!)(ctx);
  const title = severity === 'warning' && !otherView && ctx.view !== 'go' ? `${WHO_REJECTS[ctx.view]}: ${text.title}` : text.title;
  return { code, severity, title, detail: text.detail, evidence: [...evidence, ...(text.evidence ?? [])], fixes: text.fixes, ...(basis ? { basis } : {}) };
}

function chainEvidence(facts: ChainFacts): string[] {
  const out = [`the server sent ${facts.presented.length} certificate${facts.presented.length > 1 ? 's' : ''}: ${facts.presented.map((c) => `"${certName(c)}"`).join(', ')}`];
  const top = facts.linked[facts.linked.length - 1]!;
  if (!facts.topSelfSigned) out.push(`"${certName(top)}" was issued by "${formatName(top.issuer)}", which the server did not send`);
  return out;
}

/** Store certificates that would anchor the chain but that Go's parser drops. */
function ignoredByGo(j: Judgement, top: Certificate, godebug: GoDebug): Certificate[] {
  return j.store.certificates.filter(
    // A store certificate with the issuer's name whose fields cannot be decoded cannot be
    // checked for the signature either: its name is the evidence.
    (c) => (c === top || c.subjectRaw.equals(top.issuerRaw)) && goParseErrors(c, godebug).length > 0
      && (c === top || c.decodeError !== undefined || top.signedBy(c)),
  );
}

function goParseFixes(c: Certificate, side: Fix['side']): Fix[] {
  const fixes: Fix[] = [
    { title: `Reissue "${certName(c)}" with a conforming encoding (a positive serial number, no duplicate extensions, ASCII DNS names)${side === 'client' ? ', then install the new one' : ''}`, side },
  ];
  if (c.serialNegative) {
    fixes.push({
      title: 'Until then, let Go accept negative serial numbers again (Go 1.23+ setting) in Ollama\'s environment, and restart it',
      command: 'sudo systemctl edit ollama   # add: [Service] Environment="GODEBUG=x509negativeserial=1"',
      side: 'client',
    });
  }
  return fixes;
}

/** Every finding about the presented chain, for one target. */
export async function diagnoseChain(input: ChainDiagnosisInput): Promise<Finding[]> {
  const facts = chainFacts(input.presented);
  const leaf = input.presented[0]!;
  const top = facts.linked[facts.linked.length - 1]!;
  const findings: Finding[] = [];
  const byCode = new Map<FindingCode, Finding>();
  const decidingFailed = input.judgements.filter((j) => input.deciding.includes(j.verdict.view) && !j.verdict.ok);
  const accepting = input.judgements.filter((j) => j.verdict.ok).map((j) => j.verdict.view);

  const add = (f: Finding) => {
    const same = byCode.get(f.code);
    if (same) {
      same.evidence.push(...f.evidence.filter((e) => !same.evidence.includes(e)));
      return;
    }
    byCode.set(f.code, f);
    findings.push(f);
  };

  const explain = async (j: Judgement, severity: Severity) => {
    const { code, issuerElsewhere, missing, basis } = await classify(input, facts, j);
    let finalCode = code;
    const subject = subjectOf(j, leaf);
    if (code === 'expired' && subject !== leaf) finalCode = 'expired-intermediate';
    const ctx: Ctx = {
      input, judgementCode: codeOf(j), facts, judgement: j, view: j.verdict.view, leaf, top, subject,
      acceptedBy: accepting.filter((v) => v !== j.verdict.view), ...(issuerElsewhere ? { issuerElsewhere } : {}), ...(missing ? { missing } : {}),
    };
    const evidence = [`${j.verdict.view}: ${j.verdict.message}`, ...(TRUST_GAP.has(finalCode) ? chainEvidence(facts) : [])];
    if (TRUST_GAP.has(finalCode) || finalCode === 'trusted-by-system-not-go') {
      evidence.push(`${j.verdict.view} roots: ${storeSummary(j.store)}`);
    }
    if (missing) evidence.push(`${DECIDED[missing.kind]}: ${missing.because}`);
    add(buildFinding(finalCode, severity, ctx, evidence, basis));
  };

  for (const j of decidingFailed) await explain(j, 'error');
  if (decidingFailed.length === 0) {
    for (const j of input.judgements.filter((x) => !x.verdict.ok)) {
      await explain(j, 'warning');
    }
  }

  // Go's AppendCertsFromPEM skips, without a word, what its parser rejects: a CA can be installed
  // and still be absent for Ollama (Go 1.23+ and negative serial numbers, typically).
  for (const j of input.judgements) {
    if (j.rules !== 'go' || j.verdict.ok || !TRUST_GAP.has(codeOf(j))) continue;
    for (const c of ignoredByGo(j, top, parseGoDebug(input.env.GODEBUG))) {
      add({
        code: 'malformed-certificate',
        severity: input.deciding.includes(j.verdict.view) ? 'error' : 'warning',
        title: `Go ignores "${certName(c)}" in its store: ${goParseErrors(c, parseGoDebug(input.env.GODEBUG))[0]}`,
        detail:
          `The certificate that issued this chain is in the store Go reads (${j.store.origin.get(c) ?? 'the store'}), but Go's parser rejects it, and Go skips ` +
          'such certificates without a word while loading its roots. For Ollama the CA is simply not there, so it reports "certificate signed by unknown ' +
          'authority" although the CA is installed. OpenSSL, and so curl, accepts it, which makes this look like an Ollama bug.',
        evidence: [`"${certName(c)}" (SHA-256 ${c.sha256}): ${c.goParseErrors.join('; ')}`],
        fixes: goParseFixes(c, 'client'),
      });
    }
  }

  // Lints that hold whatever the stores say.
  if (!facts.inOrder && !byCode.has('chain-order')) {
    const strays = facts.strays.map((c) => `"${certName(c)}"`);
    add({
      code: 'chain-order', severity: 'warning',
      title: strays.length ? `${input.label} sends certificates that are not part of its chain` : `${input.label} sends its chain out of order`,
      detail:
        'TLS expects the server certificate first, then each certificate followed by the one that issued it. Go and OpenSSL re-sort what they get, ' +
        'so they cope, but stricter clients (older Java, some embedded TLS stacks) fail, and stray certificates waste bytes in every handshake.',
      evidence: [
        `sent: ${input.presented.map((c) => `"${certName(c)}"`).join(' -> ')}`,
        `expected: ${facts.linked.map((c) => `"${certName(c)}"`).join(' -> ')}`,
        ...(strays.length ? [`not part of the chain: ${strays.join(', ')}`] : []),
      ],
      fixes: [{ title: 'Rebuild the server\'s chain file in order: certificate, intermediate(s); the root may be left out', command: 'cat server.crt intermediate.crt > fullchain.pem', side: 'server' }],
    });
  }
  for (const c of facts.linked) {
    const left = daysBetween(input.now, c.notAfter);
    if (c.notAfter > input.now && left < EXPIRING_SOON_DAYS && !byCode.has('expiring-soon')) {
      add({
        code: 'expiring-soon', severity: 'warning',
        title: `"${certName(c)}" expires in ${left} day${left === 1 ? '' : 's'} (${day(c.notAfter)})`,
        detail: `When it expires every client, Ollama included, will refuse ${input.label}. Automated renewal usually renews 30 days ahead; if it has not, it is probably failing.`,
        evidence: [`notAfter ${c.notAfter.toISOString()}`],
        fixes: [{ title: 'Renew the certificate now and check the renewal job', command: 'sudo certbot renew --dry-run', side: 'server' }],
      });
    }
    if ((c.publicKey.type === 'RSA' || c.publicKey.type === 'RSA-PSS') && c.publicKey.bits < 2048 && !byCode.has('weak-key')) {
      add(buildFinding('weak-key', 'warning', { input, judgementCode: 'weak-key', facts, judgement: input.judgements[0]!, view: 'go', leaf, top, subject: c, acceptedBy: [] }, [`${certName(c)}: ${c.publicKey.bits}-bit RSA`]));
    }
  }
  if (input.now < input.clockFloor) {
    add({
      code: 'clock-skew', severity: decidingFailed.some((j) => codeOf(j) === 'not-yet-valid') ? 'error' : 'warning',
      title: `This machine's clock looks wrong: it says ${input.now.toISOString()}`,
      detail:
        `The root certificates bundled with this Node.js were issued as late as ${input.clockFloor.toISOString().slice(0, 10)}, so the current date cannot be ` +
        'earlier than that. A wrong clock makes valid certificates look expired or not yet valid (common after a VM or WSL resumes from sleep).',
      evidence: [`local time ${input.now.toISOString()}`],
      fixes: [NETWORK_FIX.clockSync, NETWORK_FIX.wslClock],
    });
  }
  return findings;
}
