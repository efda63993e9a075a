// Every command-line flag, declared once: its spelling, whether it takes a value or repeats, and
// what it does (per command where the words differ). This one table feeds commander (main.ts) and
// the typed flags each command receives (`FlagsOf<'trust'>`...), so a flag cannot be declared in
// one place and read under another name in the other.
//
// Lists of allowed values come from the code that checks them (`{only}` is the trust targets'
// ids, `{views}` the views verify can judge with, `{families}` the --base-family values); they are loaded only to render a command's
// help (`optionValues`), so the start-up of every other run stays as light as commander alone.

export const COMMAND_NAMES = ['doctor', 'explain', 'inspect', 'verify', 'trust', 'untrust'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** flag: on or off; value: one string; list: repeatable, every value kept; proxy: `--proxy URL` or `--no-proxy` (false). */
type Kind = 'flag' | 'value' | 'list' | 'proxy';

interface OptionSpec {
  /** commander's spelling: '--ca <file>', '-v, --verbose', '--no-proxy'. */
  flags: string;
  kind: Kind;
  /** What it does: one text, or per command where the meaning differs. `{name}` is a list of allowed values. */
  help: string | Partial<Record<CommandName, string>>;
  /** The value goes under another option's name (`--no-proxy` sets `proxy` to false). */
  negates?: string;
}

/** Keyed by the name commander gives the value (camelCase of the long flag). */
export const OPTIONS = {
  json: {
    flags: '--json', kind: 'flag', help: {
      doctor: 'print the report as JSON on stdout (schema 1), nothing else',
      explain: 'print the findings as JSON on stdout (schema 1), nothing else',
      inspect: 'print the certificates as JSON on stdout (schema 1), nothing else',
      verify: 'print the judgement as JSON on stdout (schema 1), nothing else',
      trust: 'print the plan and the result as JSON on stdout, nothing else (needs --yes or --dry-run)',
      untrust: 'print the plan and the result as JSON on stdout, nothing else (needs --yes or --dry-run)',
    },
  },
  // How to reach a host: the same flags, with the same meaning, for doctor and trust --from-host.
  timeout: { flags: '--timeout <ms>', kind: 'value', help: 'deadline per network step, in milliseconds (default 10000)' },
  resolve: { flags: '--resolve <host:port:addr>', kind: 'list', help: 'use ADDR for HOST:PORT, like curl --resolve (repeatable)' },
  servername: { flags: '--servername <name>', kind: 'value', help: 'SNI and certificate name to ask for, like openssl s_client -servername' },
  dnsServer: { flags: '--dns-server <addr>', kind: 'list', help: 'resolve with this DNS server instead of the system resolver, like curl --dns-servers (repeatable)' },
  proxy: { flags: '--proxy <url>', kind: 'proxy', help: 'go through this proxy (http://, https://, socks5://, socks5h://) instead of HTTPS_PROXY; NO_PROXY still applies, as in Go' },
  noProxy: { flags: '--no-proxy', kind: 'proxy', negates: 'proxy', help: 'connect directly, whatever HTTPS_PROXY says' },

  ca: {
    flags: '--ca <file>', kind: 'list', help: {
      doctor: 'also judge with these roots (PEM, DER, PKCS#7 or PKCS#12), the "extra" view (repeatable)',
      trust: 'CA certificate file: PEM (one or many), DER, PKCS#7 (.p7b) or PKCS#12 (.p12/.pfx) (repeatable)',
      untrust: 'the CA file given to trust (repeatable)',
    },
  },
  decide: { flags: '--decide <views>', kind: 'value', help: 'views that decide the result and exit code, comma-separated (default: go)' },
  saveChain: { flags: '--save-chain <file>', kind: 'value', help: 'write the certificates the server sent (PEM, in the order sent)' },
  saveCa: { flags: '--save-ca <file>', kind: 'value', help: 'when TLS is intercepted, write the interception CA to trust (confirm its SHA-256 with IT)' },
  compareDirect: { flags: '--compare-direct', kind: 'flag', help: 'when going through a proxy, also connect directly and compare the certificates' },
  root: {
    flags: '--root <dir>', kind: 'value', help: {
      doctor: 'read trust stores from this filesystem tree instead of / (and, with --fix, act on it)',
      verify: 'read trust stores from this filesystem tree instead of /',
      trust: 'act on this filesystem tree (a chroot, a mounted image) instead of /',
      untrust: 'act on this filesystem tree (a chroot, a mounted image) instead of /',
    },
  },
  model: { flags: '--model <name>', kind: 'value', help: 'walk the pull path of this model, [host/][namespace/]model[:tag] (default: all-minilm); only its manifest is read' },
  ai: { flags: '--ai', kind: 'flag', help: 'also check the common AI API hosts (OpenAI, Anthropic, Gemini, Mistral, Hugging Face and its CDNs)' },
  user: { flags: '--user <user:password>', kind: 'value', help: 'https:// targets: HTTP Basic credentials, like curl -u (sent only over a trusted connection, never printed)' },
  bearer: { flags: '--bearer <token>', kind: 'value', help: 'https:// targets: send "Authorization: Bearer TOKEN" (sent only over a trusted connection, never printed)' },
  bearerFile: { flags: '--bearer-file <file>', kind: 'value', help: 'like --bearer, reading the token from FILE (keeps it out of the shell history)' },
  cert: { flags: '--cert <file>', kind: 'value', help: 'client certificate (PEM, may hold the chain and the key) for servers that ask for one, like curl --cert' },
  key: { flags: '--key <file>', kind: 'value', help: 'private key of --cert (PEM: RSA, EC or Ed25519; encrypted: give --password)' },
  pkcs12: { flags: '--pkcs12 <file>', kind: 'value', help: 'client certificate and key as PKCS#12 (.p12/.pfx), instead of --cert/--key' },
  password: {
    flags: '--password <password>', kind: 'value', help: {
      doctor: 'password of the --pkcs12 file (or of an encrypted --key, or of a PKCS#12 --ca file)',
      inspect: 'password of a PKCS#12 file',
      verify: 'password of a PKCS#12 file',
      trust: 'password of a PKCS#12 file (asked on a terminal when missing)',
      untrust: 'password of a PKCS#12 file',
    },
  },
  verbose: {
    flags: '-v, --verbose', kind: 'flag', help: {
      doctor: 'also print each certificate as PEM, and timings',
      inspect: 'also print each certificate as PEM',
      verify: 'also print each certificate as PEM',
    },
  },
  fix: { flags: '--fix', kind: 'flag', help: 'after the report, offer the fixes ollama-tls can carry out (trust the CA a failing target needs) as one plan, apply it, and check again' },
  yes: {
    flags: '--yes', kind: 'flag', help: {
      doctor: '--fix: apply the plan without asking (needed without a terminal)',
      trust: 'apply the plan without asking (needed without a terminal)',
      untrust: 'apply the plan without asking (needed without a terminal)',
    },
  },
  dryRun: {
    flags: '--dry-run', kind: 'flag', help: {
      doctor: '--fix: print the plan and change nothing',
      trust: 'print the plan and change nothing',
      untrust: 'print the plan and change nothing',
    },
  },
  fingerprint: {
    flags: '--fingerprint <sha256>', kind: 'list', help: {
      doctor: '--fix: the SHA-256 a CA taken from the network must have (required with --yes for such a CA)',
      trust: 'the SHA-256 the CA must have (required with --from-host without a terminal)',
      untrust: 'the SHA-256 of a CA trust added (repeatable)',
    },
  },

  file: { flags: '--file <log>', kind: 'value', help: 'read a log file (any size; "-" for standard input)' },

  host: { flags: '--host <name>', kind: 'value', help: 'the name to verify (default: the leaf\'s first DNS or IP name)' },
  roots: { flags: '--roots <file>', kind: 'list', help: 'judge with only these roots, in every view (repeatable; default: each view\'s own stores)' },
  at: { flags: '--at <iso_time>', kind: 'value', help: 'judge at this time instead of now, e.g. 2027-01-31T12:00:00Z' },
  view: { flags: '--view <view>', kind: 'list', help: 'only these views, which then decide the result: {views} (repeatable)' },

  fromHost: { flags: '--from-host <host[:port]>', kind: 'value', help: 'trust the CA that this host presents (an inspection proxy\'s root); confirm its SHA-256' },
  force: { flags: '--force', kind: 'flag', help: "install even an expired or not yet valid CA, or one Go's parser rejects (a negative serial for a service with GODEBUG=x509negativeserial=1)" },
  print: { flags: '--print', kind: 'flag', help: 'with --dockerfile or --base-family: print the Dockerfile lines instead of writing anything' },
  buildSecret: { flags: '--build-secret', kind: 'flag', help: 'print the BuildKit secret-mount recipe, for a CA needed only while building' },
  scope: { flags: '--scope <scope>', kind: 'value', help: 'Windows and macOS: "user" (your own store) or "machine" (every user and services; needs admin)' },
  bundleOut: { flags: '--bundle-out <file>', kind: 'value', help: 'instead of the OS store, write one PEM file: the OS roots plus the CAs (for SSL_CERT_FILE)' },
  only: { flags: '--only <targets>', kind: 'value', help: 'only these stores, comma-separated: {only}' },
  compose: { flags: '--compose <file>', kind: 'value', help: 'instead of the OS store, write a Compose override beside FILE that mounts a CA bundle into services' },
  service: { flags: '--service <name>', kind: 'list', help: '--compose: the service to give the CA (repeatable; default: the Ollama ones)' },
  dockerfile: { flags: '--dockerfile <path>', kind: 'value', help: 'instead of the OS store, patch this Dockerfile\'s final stage (a marked block) and put the CA in the build context' },
  context: { flags: '--context <dir>', kind: 'value', help: '--dockerfile: the build context (default: the Dockerfile\'s directory)' },
  image: { flags: '--image <src>', kind: 'value', help: 'instead of the OS store, add (or remove) a layer with the CA in an image: a docker save tarball, an OCI layout directory or an OCI archive; no Docker daemon needed' },
  output: { flags: '--output <dst>', kind: 'value', help: '--image: where to write the result, same format (default: in place)' },
  baseFamily: { flags: '--base-family <family>', kind: 'value', help: '--dockerfile: the final base image\'s family when it is not known: {families}' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** How to reach a host (doctor; trust's --from-host, whose help says so). */
export const NETWORK_OPTIONS = ['timeout', 'resolve', 'servername', 'dnsServer', 'proxy', 'noProxy'] as const satisfies readonly OptionName[];
/** Where trust and untrust act. */
const STORE_OPTIONS = ['yes', 'dryRun', 'root', 'scope', 'bundleOut', 'only', 'compose', 'service', 'dockerfile', 'context', 'image', 'output', 'baseFamily', 'json'] as const satisfies readonly OptionName[];

/** Each command's options, in the order its help lists them. */
export const COMMAND_OPTIONS = {
  doctor: ['json', ...NETWORK_OPTIONS, 'ca', 'decide', 'saveChain', 'saveCa', 'compareDirect', 'root', 'model', 'ai', 'user', 'bearer', 'bearerFile',
    'cert', 'key', 'pkcs12', 'password', 'verbose', 'fix', 'yes', 'dryRun', 'fingerprint'],
  explain: ['file', 'json'],
  inspect: ['password', 'json', 'verbose'],
  verify: ['host', 'roots', 'at', 'view', 'root', 'password', 'json', 'verbose'],
  trust: ['ca', 'password', 'fromHost', 'fingerprint', 'force', 'print', 'buildSecret', ...STORE_OPTIONS, ...NETWORK_OPTIONS],
  untrust: ['ca', 'password', 'fingerprint', ...STORE_OPTIONS],
} as const satisfies Record<CommandName, readonly OptionName[]>;

/** Words put before an option's help in one command (trust's network flags are for --from-host). */
const HELP_PREFIX: Partial<Record<CommandName, Partial<Record<OptionName, string>>>> = {
  trust: Object.fromEntries(NETWORK_OPTIONS.map((o) => [o, '--from-host: '])),
};

type ValueOf<K extends Kind> = K extends 'flag' ? boolean : K extends 'value' ? string : K extends 'list' ? string[] : string | boolean;
type Spec<N extends OptionName> = (typeof OPTIONS)[N];

/** The flags a command's action receives from commander, typed from the table. */
export type FlagsOf<C extends CommandName> = {
  [N in (typeof COMMAND_OPTIONS)[C][number] as Spec<N> extends { negates: string } ? never : N]?: ValueOf<Spec<N>['kind']>;
};

/** Lists of allowed values, by the `{name}` the help texts use. */
export type OptionValues = Record<'only' | 'views' | 'families', readonly string[]>;

/** The code's own lists, loaded only when a command's help is printed. */
export async function optionValues(): Promise<OptionValues> {
  const [{ TARGET_IDS }, { VIEW_NAMES }, { BASE_FAMILIES }] = await Promise.all([import('../fix/targets.js'), import('../trust/views.js'), import('../fix/base-family.js')]);
  return {
    families: BASE_FAMILIES,
    only: TARGET_IDS.filter((t) => t !== 'bundle'),
    views: VIEW_NAMES.filter((v) => v !== 'extra'),
  };
}

/** The help text of one option in one command, with value lists filled in when known. */
export function optionHelp(command: CommandName, name: OptionName, values: OptionValues | undefined): string {
  const spec: OptionSpec = OPTIONS[name];
  const text = typeof spec.help === 'string' ? spec.help : spec.help[command]!;
  const filled = text.replace(/\{(\w+)\}/g, (whole, key: string) => (values && key in values ? values[key as keyof OptionValues].join(', ') : whole));
  return `${HELP_PREFIX[command]?.[name] ?? ''}${filled}`;
}

/** Whether a command's help lists values from the code (so `optionValues` must be loaded first). */
export function helpNeedsValues(command: string): boolean {
  if (!(COMMAND_NAMES as readonly string[]).includes(command)) return false;
  return COMMAND_OPTIONS[command as CommandName].some((name) => {
    const spec: OptionSpec = OPTIONS[name];
    return (typeof spec.help === 'string' ? spec.help : spec.help[command as CommandName] ?? '').includes('{');
  });
}

/** Whether an option repeats (commander collects every value). */
export const repeats = (name: OptionName): boolean => OPTIONS[name].kind === 'list';
