// The command line. Only commander loads up front (and not even it for a plain doctor command line,
// plain-args.ts); each command imports its own modules when it runs, so `ollama-tls --help` and
// `--version` stay as fast as Node itself.
import type { Command } from 'commander';
import { InputError } from '../platform/input-error.js';
import { EXIT, reportBug } from './exit.js';
import { COMMAND_OPTIONS, helpNeedsValues, OPTIONS, optionHelp, optionValues, repeats, type CommandName, type FlagsOf, type OptionValues } from './options.js';
import { plainDoctorArgs } from './plain-args.js';
import { toolVersion } from './version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A command's options, from the one table (options.ts), in its order. */
export function withOptions(cmd: Command, command: CommandName, values: OptionValues | undefined): Command {
  for (const name of COMMAND_OPTIONS[command]) {
    const help = optionHelp(command, name, values);
    if (repeats(name)) cmd.option(OPTIONS[name].flags, help, collect);
    else cmd.option(OPTIONS[name].flags, help);
  }
  return cmd;
}

/**
 * `trust`/`untrust --image ARCHIVE --output DST --yes`: the archive's copy, most of the run's
 * time, starts before the command's own modules load; the command's write takes it over, and an
 * end without one removes it (fix/image/early-copy.ts).
 */
async function withEarlyImageCopy(flags: Record<string, unknown>, run: () => Promise<void>): Promise<void> {
  const { image, output } = flags;
  const early = typeof image === 'string' && typeof output === 'string' && flags.yes === true && !flags.dryRun && !flags.print && !flags.buildSecret
    ? await import('../fix/image/early-copy.js')
    : undefined;
  await early?.startEarlyCopy(image as string, output as string);
  try {
    await run();
  } finally {
    await early?.dropEarlyCopy();
  }
}

/**
 * `only`: the command this run is for, when the rest cannot matter (`doctor` as the first
 * argument: commander dispatches to it without looking at the others, whose ~70 options cost a
 * doctor run ~5 ms to define). Every other run defines them all (top-level help, suggestions).
 */
function buildProgram(commander: Commander, setExit: (code: number) => void, values: OptionValues | undefined, only?: 'doctor'): Command {
  const program = new commander.Command('ollama-tls')
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
    .argument('[target...]', 'what to check (default: the Ollama pull path)');
  withOptions(doctor, 'doctor', values);
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
    .action(async (targets: string[], flags: FlagsOf<'doctor'>) => setExit(await doctorAction(targets, flags)));
  if (only === 'doctor') return program;

  const explain = program
    .command('explain')
    .summary('classify a pasted TLS error or a whole log, and say how to fix it')
    .description(
      'Recognise TLS and network failures in TEXT, in standard input, or in a log file (journalctl -u ollama, docker build ' +
        'output, CI logs), as printed by Ollama/Go, Docker, Node.js/npm, curl, OpenSSL, Python/pip, Java or git. One finding ' +
        'per distinct problem, with the hosts involved and the fix for the client that printed it.',
    )
    .argument('[text...]', 'the error text (quote it); omit to read standard input');
  withOptions(explain, 'explain', values)
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

  const inspect = program
    .command('inspect')
    .summary('dump and lint the certificates in any certificate file')
    .description(
      'Print every certificate of each FILE (PEM, DER, PKCS#7 .p7b, PKCS#12 .p12/.pfx, a bundle, or - for standard input) ' +
        'as the doctor prints chain entries, plus key usage, extended key usage, basic constraints, name constraints, ' +
        'AIA/CRL URLs, SCTs, policies and key identifiers; lint each with the doctor\'s finding codes; show how a ' +
        'bundle\'s certificates relate (order, duplicates, who issued whom, roots). Keys are counted, never shown.',
    )
    .argument('<file...>', 'certificate files ("-" for standard input)');
  withOptions(inspect, 'inspect', values)
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

  const verify = program
    .command('verify')
    .summary('judge a chain file offline, as doctor would judge it if a server sent it')
    .description(
      'Judge the certificates of CHAIN_FILE (in file order, as if a server sent them) under every trust view, ' +
        'with the doctor\'s own code: the same verdicts, findings and exit status, without the network.',
    )
    .argument('<chain_file>', 'the chain, leaf first (PEM, DER, PKCS#7 or PKCS#12; "-" for standard input)');
  withOptions(verify, 'verify', values)
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

  const trust = program
    .command('trust')
    .summary('install a CA where Ollama (and curl, git, Python) will trust it; plan first, then apply')
    .description(
      'Put CA certificates in the trust store Ollama reads: the distribution store on Linux (update-ca-certificates, ' +
        'update-ca-trust; or the bundle files directly on minimal images), the keychain on macOS, the Root store on ' +
        'Windows, and from WSL the Windows store too. The plan is printed first; nothing changes until it is accepted.',
    );
  withOptions(trust, 'trust', values);
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
      await withEarlyImageCopy(flags, async () => {
        const { trustCommand } = await import('./trust-command.js');
        setExit(await trustCommand('trust', flags));
      });
    });

  withOptions(
    program
      .command('untrust')
      .summary('remove exactly what trust added, and rebuild the store')
      .description('Remove the CAs that `ollama-tls trust` added (found by their fingerprint) and run the store\'s update again, leaving it as it was.'),
    'untrust', values,
  )
    .addHelpText('after', `
Examples:
  ollama-tls untrust --ca corp-ca.pem --yes
  ollama-tls untrust --fingerprint 3f9a...e1 --dry-run`)
    .action(async (flags) => {
      await withEarlyImageCopy(flags, async () => {
        const { trustCommand } = await import('./trust-command.js');
        setExit(await trustCommand('untrust', flags));
      });
    });

  return program;
}

type Commander = typeof import('commander');

async function doctorAction(targets: string[], flags: FlagsOf<'doctor'>): Promise<number> {
  const { doctorCommand } = await import('./doctor-command.js');
  return doctorCommand(targets, flags);
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
  const args = argv.slice(2);
  let commander: Commander | undefined;
  try {
    // A doctor command line that leaves no question is read without commander (plain-args.ts).
    const plain = args[0] === 'doctor' ? plainDoctorArgs(args.slice(1)) : undefined;
    if (plain) {
      exitCode = await doctorAction(plain.operands, plain.flags as FlagsOf<'doctor'>);
    } else {
      commander = await import('commander');
      // A command's help lists allowed values from the code's own lists: loaded for that help only.
      const helpOf = args[0] === 'help' ? args[1] : args.some((a) => a === '--help' || a === '-h') ? args[0] : undefined;
      const program = buildProgram(commander, (code) => {
        exitCode = code;
      }, helpOf !== undefined && helpNeedsValues(helpOf) ? await optionValues() : undefined, args[0] === 'doctor' ? 'doctor' : undefined);
      await program.parseAsync(argv);
    }
  } catch (err) {
    if (commander && err instanceof commander.CommanderError) {
      // Help and version are successes; every other parse problem is a usage error.
      exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.OK : EXIT.USAGE;
    } else if (err instanceof InputError) {
      process.stderr.write(`ollama-tls: ${err.message}\n`);
      exitCode = EXIT.USAGE;
    } else {
      exitCode = reportBug(err);
    }
  }
  process.exitCode = exitCode;
  // Once nothing is left to do (every write flushed, every socket closed), end at once: Node's
  // teardown of a finished process (its handles and heap) is time nobody waits for.
  process.once('beforeExit', () => process.exit());
}
