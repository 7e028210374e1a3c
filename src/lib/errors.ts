/** Errors that carry their exit code: 2 for a user's mistake, 1 for a failed run. */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class GpuhealthError extends Error {
  readonly exitCode: number = EXIT_FAILURE;
  readonly suggestions: readonly string[];
  constructor(message: string, suggestions: readonly string[] = []) {
    super(message);
    this.name = new.target.name;
    this.suggestions = suggestions;
  }
}

/** Bad flag, malformed or non-telemetry input, missing lake: the user can fix it. */
export class InputError extends GpuhealthError {
  override readonly exitCode: number = EXIT_USAGE;
}
