/**
 * What the analyzer commands (seq, analyze, query, export) share: opening their CAPTURE...|DB inputs
 * with a progress line on stderr when a person is watching, and turning capture damage into one stderr
 * line each plus exit status 1 (after the results, which cover every packet before the damage).
 */
import type { Command } from 'commander';
import path from 'node:path';
import { openInputs, type Lens } from '../index.js';
import { EXIT_OK, EXIT_RUNTIME, reportError } from '../../common/cli-run.js';
import type { LoadProgress, LoadTables } from '../db/loader.js';

function progressPrinter(): ((p: LoadProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 250) return;
    last = now;
    const pct = p.size > 0 ? ` ${Math.min(100, (100 * p.offset) / p.size).toFixed(0)}%` : '';
    process.stderr.write(`\rloading ${path.basename(p.path)} (${p.index + 1}/${p.count}): ${p.packets} packets${pct}\x1b[K`);
  };
}

/** How a command's captures are read: the options every capture-reading command takes. */
export interface InputOptions {
  db?: string;
  perFile?: boolean;
}

/** Adds --db and --per-file to a command that reads captures. */
export function withInputOptions(command: Command, dbHelp = 'keep the loaded captures in this DuckDB file'): Command {
  return command
    .option('--db <file>', dbHelp)
    .option('--per-file', 'analyze each capture alone (captures of the same traffic from different places); by default all captures are one recording merged by timestamp, as mergecap merges them');
}

/**
 * Opens the inputs. When not one capture could be read at all there is nothing to show: the damage is
 * thrown (each other unreadable file gets its own line first) so stdout stays empty.
 */
export async function openForCommand(
  inputs: readonly string[], opts: InputOptions & { tables?: LoadTables; verifyChecksums?: boolean; figures?: boolean } = {},
): Promise<Lens> {
  const onProgress = progressPrinter();
  let lens: Lens;
  try {
    lens = await openInputs(inputs, {
      db: opts.db ?? null, perFile: opts.perFile === true,
      ...(onProgress ? { onProgress } : {}), ...(opts.tables ? { tables: opts.tables } : {}),
      ...(opts.verifyChecksums ? { verifyChecksums: true } : {}), ...(opts.figures ? { figures: true } : {}),
    });
  } finally {
    if (onProgress) process.stderr.write('\r\x1b[K');
  }
  if (lens.captures.length > 0 && lens.captures.every((c) => c.captureId === null)) {
    const errors = lens.errors;
    await lens.close();
    for (const err of errors.slice(1)) reportError(err);
    throw errors[0]!;
  }
  return lens;
}

/** Prints one line per damaged capture; EXIT_RUNTIME when there was any. */
export function captureErrorsStatus(lens: Lens): number {
  // Values stored as NULL (a timestamp in the year 2779, ...): named once each, results complete, status 0.
  for (const c of lens.captures) for (const w of c.nulled) process.stderr.write(`tcplens: warning: ${c.path}: ${w}\n`);
  let status = EXIT_OK;
  for (const err of lens.errors) {
    reportError(err);
    status = EXIT_RUNTIME;
  }
  return status;
}
