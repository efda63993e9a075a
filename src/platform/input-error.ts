// The one kind of error a user can fix: a bad flag value, a file that cannot be read, an answer
// that was needed and nobody could give. Every layer throws it (or a subclass that says what was
// wrong); the command line prints its message as one line and exits 2 (src/cli/exit.ts), never
// with a stack trace. Anything else that escapes is a bug (exit 3).
export class InputError extends Error {
  override name = 'InputError';
}
