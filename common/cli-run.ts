import { CaptureError, RuntimeError, UsageError } from './errors.js';

/** Exit statuses of the CLI contract (DESIGN.md): 0 ok, 1 runtime error or partial input, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
/** `scans`/`seq`/`analyze --fail-on FINDING` found such a finding. */
export const EXIT_FINDING = 4;
/** The reader of stdout went away (`| head`): 128 + SIGPIPE, the status tcpdump and tshark end with there. */
export const EXIT_BROKEN_PIPE = 141;

function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}

/**
 * `tcplens ... | head`: once the reader of stdout is gone nothing more can be shown, so the run ends at
 * once and quietly, as SIGPIPE ends tcpdump and tshark (Node ignores SIGPIPE, so a write fails instead).
 */
export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (err) => {
    if (!isBrokenPipe(err)) throw err;
    process.exit(EXIT_BROKEN_PIPE);
  });
}

/**
 * The one place that turns an error into a message and an exit status. Known errors become one line on
 * stderr; anything else is a bug, still reported in one line (the stack only with TCPLENS_DEBUG=1).
 */
export function reportError(err: unknown): number {
  if (isBrokenPipe(err)) return EXIT_BROKEN_PIPE; // quietly: see exitQuietlyOnBrokenPipe
  if (err instanceof UsageError) {
    process.stderr.write(`tcplens: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof CaptureError || err instanceof RuntimeError) {
    process.stderr.write(`tcplens: ${err.message}\n`);
    return EXIT_RUNTIME;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`tcplens: internal error: ${message.split('\n')[0]}\n`);
  if (process.env['TCPLENS_DEBUG'] === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT_RUNTIME;
}

/**
 * Wraps a command action: the action returns its exit status (so partial results can still print and
 * then exit non-zero), errors go through reportError. process.exitCode rather than process.exit() so
 * stdout is flushed before the process ends.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
