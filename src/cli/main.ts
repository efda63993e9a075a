// The command line. Only commander loads up front; each command imports its own modules when it
// runs, so `ollama-tls --help` and `--version` stay as fast as Node itself.
import { Command, CommanderError } from 'commander';
import { EXIT, reportBug, UserError } from './exit.js';
import { toolVersion } from './version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** How to reach a host: the same flags, with the same meaning, for doctor and trust --from-host. */
function networkOptions(cmd: Command, prefix: string): Command {
  return cmd
    .option('--timeout <ms>', `${prefix}deadline per network step, in milliseconds (default 10000)`)
    .option('--resolve <host:port:addr>', `${prefix}use ADDR for HOST:PORT, like curl --resolve (repeatable)`, collect)
    .option('--servername <name>', `${prefix}SNI and certificate name to ask for, like openssl s_client -servername`)
    .option('--dns-server <addr>', `${prefix}resolve with this DNS server instead of the system resolver, like curl --dns-servers (repeatable)`, collect)
    .option('--proxy <url>', `${prefix}go through this proxy (http://, https://, socks5://, socks5h://) instead of HTTPS_PROXY; NO_PROXY still applies, as in Go`)
    .option('--no-proxy', `${prefix}connect directly, whatever HTTPS_PROXY says`);
}

/**
 * `only`: the command this run is for, when the rest cannot matter (`doctor` as the first
 * argument: commander dispatches to it without looking at the others, whose ~70 options cost a
 * doctor run ~5 ms to define). Every other run defines them all (top-level help, suggestions).
 */
function buildProgram(setExit: (code: number) => void, only?: 'doctor'): Command {
  const program = new Command('ollama-tls')
    .description(
      'A doctor for TLS trust between your machine and the model you want. It connects the way Ollama does, ' +
        'shows the certificate chain the server really sends, and judges it as Go (Ollama), Node.js, ' +
        'your OS store and the public web PKI would.',
    )
    .version(toolVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError()
    .configureHelp({ sortOptions: false })
    // Settings are copied into subcommands when they are created, so set them first.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const doctor = program
    .command('doctor')
    .summary('check TLS to a host the way Ollama would, and explain what fails')
    .description(
      'Check TLS to each TARGET: resolve, connect, handshake, dump the chain, judge it, explain failures. ' +
        'No TARGET walks the Ollama pull path as `ollama pull` does (the registry, then every host its ' +
        'redirects lead to) and checks the local Ollama server (OLLAMA_HOST). ' +
        'TARGET is host, host:port, [v6]:port, or https://host[:port][/path]; an https:// URL also gets ' +
        'GET /api/version and /api/tags (or the path given), to check a self-hosted Ollama behind a proxy.',
    )
    .argument('[target...]', 'what to check (default: the Ollama pull path)')
    .option('--json', 'print the report as JSON on stdout (schema 1), nothing else');
  networkOptions(doctor, '')
    .option('--ca <file>', 'also judge with these roots (PEM, DER, PKCS#7 or PKCS#12), the "extra" view (repeatable)', collect)
    .option('--decide <views>', 'views that decide the result and exit code, comma-separated (default: go)')
    .option('--save-chain <file>', 'write the certificates the server sent (PEM, in the order sent)')
    .option('--save-ca <file>', 'when TLS is intercepted, write the interception CA to trust (confirm its SHA-256 with IT)')
    .option('--compare-direct', 'when going through a proxy, also connect directly and compare the certificates')
    .option('--root <dir>', 'read trust stores from this filesystem tree instead of / (and, with --fix, act on it)')
    .option('--model <name>', 'walk the pull path of this model, [host/][namespace/]model[:tag] (default: all-minilm); only its manifest is read')
    .option('--ai', 'also check the common AI API hosts (OpenAI, Anthropic, Gemini, Mistral, Hugging Face and its CDNs)')
    .option('--user <user:password>', 'https:// targets: HTTP Basic credentials, like curl -u (sent only over a trusted connection, never printed)')
    .option('--bearer <token>', 'https:// targets: send "Authorization: Bearer TOKEN" (sent only over a trusted connection, never printed)')
    .option('--bearer-file <file>', 'like --bearer, reading the token from FILE (keeps it out of the shell history)')
    .option('--cert <file>', 'client certificate (PEM, may hold the chain and the key) for servers that ask for one, like curl --cert')
    .option('--key <file>', 'private key of --cert (PEM: RSA, EC or Ed25519; encrypted: give --password)')
    .option('--pkcs12 <file>', 'client certificate and key as PKCS#12 (.p12/.pfx), instead of --cert/--key')
    .option('--password <password>', 'password of the --pkcs12 file (or of an encrypted --key, or of a PKCS#12 --ca file)')
    .option('-v, --verbose', 'also print each certificate as PEM, and timings')
    .option('--fix', 'after the report, offer the fixes ollama-tls can carry out (trust the CA a failing target needs) as one plan, apply it, and check again')
    .option('--yes', '--fix: apply the plan without asking (needed without a terminal)')
    .option('--dry-run', '--fix: print the plan and change nothing')
    .option('--fingerprint <sha256>', '--fix: the SHA-256 a CA taken from the network must have (required with --yes for such a CA)', collect);
  doctor
    .addHelpText('after', `
Views:
  go       what Ollama accepts: Go's crypto/x509 rules and the roots Go reads
           (Linux: SSL_CERT_FILE / SSL_CERT_DIR or Go's own bundle paths)
  node     Node.js: bundled roots + NODE_EXTRA_CA_CERTS, OpenSSL's rules
  system   the OS trust store as curl, Python and git see it
  mozilla  the public web PKI (Node's bundled Mozilla roots alone)
  extra    the OS store plus --ca files, judged by Go's rules

Exit status: 0 every target passes, 1 a problem was found, 2 usage error, 3 internal error.

Examples:
  ollama-tls doctor
  ollama-tls doctor ollama.example.com:8443 --ca corp-ca.pem
  ollama-tls doctor --model llama3.2:1b
  ollama-tls doctor https://ollama.internal/ --user alice:secret
  ollama-tls doctor https://ollama.internal/api/tags --bearer-file token.txt --json
  ollama-tls doctor --ai
  ollama-tls doctor --fix                      # then confirm; or --yes --fingerprint SHA256 in scripts
  ollama-tls doctor mtls.example.com:443 --cert client.pem --key client.key
  ollama-tls doctor registry.ollama.ai --resolve registry.ollama.ai:443:10.0.0.5 --save-chain chain.pem`)
    .action(async (targets: string[], flags) => {
      const { doctorCommand } = await import('./doctor-command.js');
      setExit(await doctorCommand(targets, flags));
    });
  if (only === 'doctor') return program;

  program
    .command('explain')
    .summary('classify a pasted TLS error or a whole log, and say how to fix it')
    .description(
      'Recognise TLS and network failures in TEXT, in standard input, or in a log file (journalctl -u ollama, docker build ' +
        'output, CI logs), as printed by Ollama/Go, Docker, Node.js/npm, curl, OpenSSL, Python/pip, Java or git. One finding ' +
        'per distinct problem, with the hosts involved and the fix for the client that printed it.',
    )
    .argument('[text...]', 'the error text (quote it); omit to read standard input')
    .option('--file <log>', 'read a log file (any size; "-" for standard input)')
    .option('--json', 'print the findings as JSON on stdout (schema 1), nothing else')
    .addHelpText('after', `
Exit status: 0 no TLS problem recognised, 1 problems recognised, 2 usage error.

Examples:
  ollama-tls explain 'Error: pull model manifest: Get "https://registry.ollama.ai/v2/library/llama3/manifests/latest": tls: failed to verify certificate: x509: certificate signed by unknown authority'
  journalctl -u ollama --since today | ollama-tls explain
  ollama-tls explain --file build.log --json`)
    .action(async (text: string[], flags) => {
      const { explainCommand } = await import('./explain-command.js');
      setExit(await explainCommand(text, flags));
    });

  program
    .command('inspect')
    .summary('dump and lint the certificates in any certificate file')
    .description(
      'Print every certificate of each FILE (PEM, DER, PKCS#7 .p7b, PKCS#12 .p12/.pfx, a bundle, or - for standard input) ' +
        'as the doctor prints chain entries, plus key usage, extended key usage, basic constraints, name constraints, ' +
        'AIA/CRL URLs, SCTs, policies and key identifiers; lint each with the doctor\'s finding codes; show how a ' +
        'bundle\'s certificates relate (order, duplicates, who issued whom, roots). Keys are counted, never shown.',
    )
    .argument('<file...>', 'certificate files ("-" for standard input)')
    .option('--password <password>', 'password of a PKCS#12 file')
    .option('--json', 'print the certificates as JSON on stdout (schema 1), nothing else')
    .option('-v, --verbose', 'also print each certificate as PEM')
    .addHelpText('after', `
Exit status: 0 no lint error, 1 a lint error was found, 2 a file cannot be read (or usage error).

Examples:
  ollama-tls inspect chain.pem
  ollama-tls inspect corp.p12 --password secret --json
  openssl s_client -connect host:443 -showcerts </dev/null | ollama-tls inspect -`)
    .action(async (files: string[], flags) => {
      const { inspectCommand } = await import('./inspect-command.js');
      setExit(await inspectCommand(files, flags));
    });

  program
    .command('verify')
    .summary('judge a chain file offline, as doctor would judge it if a server sent it')
    .description(
      'Judge the certificates of CHAIN_FILE (in file order, as if a server sent them) under every trust view, ' +
        'with the doctor\'s own code: the same verdicts, findings and exit status, without the network.',
    )
    .argument('<chain_file>', 'the chain, leaf first (PEM, DER, PKCS#7 or PKCS#12; "-" for standard input)')
    .option('--host <name>', 'the name to verify (default: the leaf\'s first DNS or IP name)')
    .option('--roots <file>', 'judge with only these roots, in every view (repeatable; default: each view\'s own stores)', collect)
    .option('--at <iso_time>', 'judge at this time instead of now, e.g. 2027-01-31T12:00:00Z')
    .option('--view <view>', 'only these views, which then decide the result: go, node, system, mozilla (repeatable)', collect)
    .option('--root <dir>', 'read trust stores from this filesystem tree instead of /')
    .option('--password <password>', 'password of a PKCS#12 file')
    .option('--json', 'print the judgement as JSON on stdout (schema 1), nothing else')
    .option('-v, --verbose', 'also print each certificate as PEM')
    .addHelpText('after', `
Exit status: 0 the deciding views accept and no error was found, 1 a problem was found, 2 usage or input error.

Examples:
  ollama-tls verify chain.pem --host ollama.example.com
  ollama-tls verify chain.pem --roots corp-root.pem --at 2027-06-01
  ollama-tls doctor host:443 --save-chain chain.pem && ollama-tls verify chain.pem --host host --view go --json`)
    .action(async (chainFile: string, flags) => {
      const { verifyCommand } = await import('./verify-command.js');
      setExit(await verifyCommand(chainFile, flags));
    });

  const storeOptions = (cmd: Command): Command =>
    cmd
      .option('--yes', 'apply the plan without asking (needed without a terminal)')
      .option('--dry-run', 'print the plan and change nothing')
      .option('--root <dir>', 'act on this filesystem tree (a chroot, a mounted image) instead of /')
      .option('--scope <scope>', 'Windows and macOS: "user" (your own store) or "machine" (every user and services; needs admin)')
      .option('--bundle-out <file>', 'instead of the OS store, write one PEM file: the OS roots plus the CAs (for SSL_CERT_FILE)')
      .option('--only <targets>', 'only these stores, comma-separated: debian, rhel, suse, arch, alpine, linux-native, macos, windows, wsl-windows')
      .option('--compose <file>', 'instead of the OS store, write a Compose override beside FILE that mounts a CA bundle into services')
      .option('--service <name>', '--compose: the service to give the CA (repeatable; default: the Ollama ones)', collect)
      .option('--dockerfile <path>', 'instead of the OS store, patch this Dockerfile\'s final stage (a marked block) and put the CA in the build context')
      .option('--context <dir>', '--dockerfile: the build context (default: the Dockerfile\'s directory)')
      .option('--image <src>', 'instead of the OS store, add (or remove) a layer with the CA in an image: a docker save tarball, an OCI layout directory or an OCI archive; no Docker daemon needed')
      .option('--output <dst>', '--image: where to write the result, same format (default: in place)')
      .option('--base-family <family>', '--dockerfile: the final base image\'s family when it is not known: debian, alpine, rhel, suse, arch, shellless')
      .option('--json', 'print the plan and the result as JSON on stdout, nothing else (needs --yes or --dry-run)');

  const trust = program
    .command('trust')
    .summary('install a CA where Ollama (and curl, git, Python) will trust it; plan first, then apply')
    .description(
      'Put CA certificates in the trust store Ollama reads: the distribution store on Linux (update-ca-certificates, ' +
        'update-ca-trust; or the bundle files directly on minimal images), the keychain on macOS, the Root store on ' +
        'Windows, and from WSL the Windows store too. The plan is printed first; nothing changes until it is accepted.',
    )
    .option('--ca <file>', 'CA certificate file: PEM (one or many), DER, PKCS#7 (.p7b) or PKCS#12 (.p12/.pfx) (repeatable)', collect)
    .option('--password <password>', 'password of a PKCS#12 file (asked on a terminal when missing)')
    .option('--from-host <host[:port]>', 'trust the CA that this host presents (an inspection proxy\'s root); confirm its SHA-256')
    .option('--fingerprint <sha256>', 'the SHA-256 the CA must have (required with --from-host without a terminal)', collect)
    .option('--force', "install even an expired or not yet valid CA, or one Go's parser rejects (a negative serial for a service with GODEBUG=x509negativeserial=1)")
    .option('--print', 'with --dockerfile or --base-family: print the Dockerfile lines instead of writing anything')
    .option('--build-secret', 'print the BuildKit secret-mount recipe, for a CA needed only while building');
  storeOptions(trust);
  networkOptions(trust, '--from-host: ');
  trust
    .addHelpText('after', `
Exit status: 0 applied (or nothing to do), 1 applying or checking failed (or the plan was declined),
2 usage or input error, or a yes / rights were needed and nobody could give them.

Examples:
  ollama-tls trust --ca corp-ca.pem --dry-run
  sudo ollama-tls trust --ca corp-ca.pem --yes            # e.g. in a Dockerfile RUN step
  ollama-tls trust --from-host registry.ollama.ai --fingerprint 3f9a...   # the inspection proxy's CA
  ollama-tls trust --ca corp.p12 --bundle-out ~/ca-bundle.pem
  ollama-tls trust --ca corp-ca.pem --root /mnt/image --yes`)
    .action(async (flags) => {
      const { trustCommand } = await import('./trust-command.js');
      setExit(await trustCommand('trust', flags));
    });

  storeOptions(
    program
      .command('untrust')
      .summary('remove exactly what trust added, and rebuild the store')
      .description('Remove the CAs that `ollama-tls trust` added (found by their fingerprint) and run the store\'s update again, leaving it as it was.')
      .option('--ca <file>', 'the CA file given to trust (repeatable)', collect)
      .option('--password <password>', 'password of a PKCS#12 file')
      .option('--fingerprint <sha256>', 'the SHA-256 of a CA trust added (repeatable)', collect),
  )
    .addHelpText('after', `
Examples:
  ollama-tls untrust --ca corp-ca.pem --yes
  ollama-tls untrust --fingerprint 3f9a...e1 --dry-run`)
    .action(async (flags) => {
      const { trustCommand } = await import('./trust-command.js');
      setExit(await trustCommand('untrust', flags));
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A closed pipe (`ollama-tls doctor | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  let exitCode: number = EXIT.OK;
  const program = buildProgram((code) => {
    exitCode = code;
  }, argv[2] === 'doctor' ? 'doctor' : undefined);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other parse problem is a usage error.
      exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.OK : EXIT.USAGE;
    } else if (err instanceof UserError) {
      process.stderr.write(`ollama-tls: ${err.message}\n`);
      exitCode = EXIT.USAGE;
    } else {
      exitCode = reportBug(err);
    }
  }
  process.exitCode = exitCode;
}
