/** Progress goes to stderr only when a person is watching: a terminal, not quiet, not CI. */

export type ProgressFn = (message: string) => void;

export const NO_PROGRESS: ProgressFn = () => {};

export function shouldShowProgress(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !quiet && !process.env.CI;
}

/** A progress line that rewrites itself, throttled to ~10 updates a second. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressFn & { done(): void } {
  let last = 0;
  let shown = false;
  const fn = ((message: string) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    shown = true;
    stream.write(`\r\x1b[2K${message}`);
  }) as ProgressFn & { done(): void };
  fn.done = () => {
    if (shown) stream.write('\r\x1b[2K');
  };
  return fn;
}
