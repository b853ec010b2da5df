/** A subcommand of the `zcsp` executable. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Runs the command; resolves to the process exit code. Long-running roles resolve on shutdown. */
  run(args: readonly string[]): Promise<number>;
}

/** A usage mistake: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
