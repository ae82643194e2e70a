/**
 * Errors that cross module boundaries. The CLI's single error handler (analyzer/cli/run.ts) maps each
 * class to a one-line message and an exit status; nothing else in the code base prints or exits.
 */

/** Damaged or unreadable capture input: names the file, the byte offset and what was expected there. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly expected: string,
  ) {
    super(`${file}: at byte ${offset}: expected ${expected}`);
  }
}

/** Bad command-line usage (exit status 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure at run time that is not about input bytes: SQL errors, a missing database, I/O (exit status 1). */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
}
