// The command line. Only commander loads up front; each command imports its own modules when it
// runs, so `ollama-tls --help` and `--version` stay as fast as Node itself.
import { Command, CommanderError } from 'commander';
import { EXIT, reportBug, UserError } from './exit.js';
import { toolVersion } from './version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function buildProgram(setExit: (code: number) => void): Command {
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

  program
    .command('doctor')
    .summary('check TLS to a host the way Ollama would, and explain what fails')
    .description(
      'Check TLS to each TARGET: resolve, connect, handshake, dump the chain, judge it, explain failures. ' +
        'No TARGET checks the Ollama pull path (registry.ollama.ai and its blob host). ' +
        'TARGET is host, host:port, [v6]:port, or https://host[:port][/path].',
    )
    .argument('[target...]', 'what to check (default: the Ollama registry and blob host)')
    .option('--json', 'print the report as JSON on stdout (schema 1), nothing else')
    .option('--timeout <ms>', 'deadline per network step, in milliseconds (default 10000)')
    .option('--resolve <host:port:addr>', 'use ADDR for HOST:PORT, like curl --resolve (repeatable)', collect)
    .option('--servername <name>', 'SNI and certificate name to ask for, like openssl s_client -servername')
    .option('--dns-server <addr>', 'resolve with this DNS server instead of the system resolver, like curl --dns-servers (repeatable)', collect)
    .option('--proxy <url>', 'go through this proxy (http://, https://, socks5://, socks5h://) instead of HTTPS_PROXY; NO_PROXY still applies, as in Go')
    .option('--no-proxy', 'connect directly, whatever HTTPS_PROXY says')
    .option('--ca <file>', 'also judge with these roots (PEM or DER), the "extra" view (repeatable)', collect)
    .option('--decide <views>', 'views that decide the result and exit code, comma-separated (default: go)')
    .option('--save-chain <file>', 'write the certificates the server sent (PEM, in the order sent)')
    .option('--save-ca <file>', 'when TLS is intercepted, write the interception CA to trust (confirm its SHA-256 with IT)')
    .option('--compare-direct', 'when going through a proxy, also connect directly and compare the certificates')
    .option('--root <dir>', 'read trust stores from this filesystem tree instead of /')
    .option('-v, --verbose', 'also print each certificate as PEM, and timings')
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
  ollama-tls doctor ollama.example.com:8443 --ca corp-root.pem
  ollama-tls doctor https://ollama.internal/api/tags --json
  ollama-tls doctor registry.ollama.ai --resolve registry.ollama.ai:443:10.0.0.5 --save-chain chain.pem`)
    .action(async (targets: string[], flags) => {
      const { doctorCommand } = await import('./doctor-command.js');
      setExit(await doctorCommand(targets, flags));
    });

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
  });
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
