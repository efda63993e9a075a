// Is a person there? A spinner for someone watching a real terminal; a prompt only when someone
// can answer it. Pipes, CI and `docker build` get neither (and a command that needs an answer
// says which flag gives it).

/**
 * A spinner only for a person at a real terminal. A pseudo-terminal that reports no width (some CI
 * runners, `docker run -t`, `script`) makes ora's line clearing run away, so it counts as no TTY.
 */
export function spinnerWanted(json: boolean | undefined): boolean {
  const err = process.stderr;
  return !json && Boolean(err.isTTY) && (err.columns ?? 0) > 0 && process.env.TERM !== 'dumb' && !process.env.CI;
}

/** Someone can answer a question: input and output are both a terminal. */
export function canPrompt(): boolean {
  // Output first: the CLI has made process.stdout already, while making process.stdin (~2 ms) is
  // not needed when the output is a pipe or a file.
  return Boolean(process.stdout.isTTY && process.stdin.isTTY) && !process.env.CI;
}

/** One question (inquirer's shape, without `name`). inquirer loads only when a question is asked: it is heavy, and most runs ask nothing. */
export async function ask<T>(question: Record<string, unknown>): Promise<T> {
  const { default: inquirer } = await import('inquirer');
  const answers = (await inquirer.prompt([{ ...question, name: 'answer' }] as never)) as { answer: T };
  return answers.answer;
}
