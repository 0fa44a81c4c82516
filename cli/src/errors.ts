// Exit codes and the one error type the commands throw. Messages say what to do first.

export const EXIT = {
  /** Everything worked (and, for push/check, nothing regressed or no gate was asked for). */
  OK: 0,
  /** A regression, with --fail-on-regression (push) or always (check). */
  REGRESSION: 1,
  /** Bad usage, configuration or input: fix the command, the environment or the file. */
  CONFIG: 2,
  /** Supabase could not be reached or answered with an error. */
  REMOTE: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode) {
    super(message);
  }
}
