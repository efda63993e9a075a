// Exit codes (contract): 0 all good, 1 a problem was found, 2 usage or input error (an InputError,
// src/platform/input-error.ts, mapped once in main.ts), 3 our bug.

export const EXIT = { OK: 0, PROBLEM: 1, USAGE: 2, BUG: 3 } as const;


export const BUG_REPORT_URL = 'https://github.com/ollama-tls/ollama-tls/issues';

export function reportBug(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `ollama-tls: internal error: ${message}\n` +
      `This is a bug in ollama-tls. Please report it at ${BUG_REPORT_URL} with the command you ran` +
      ' and the output of "ollama-tls --version"; set OLLAMA_TLS_DEBUG=1 to include a stack trace.\n',
  );
  if (process.env.OLLAMA_TLS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.BUG;
}
