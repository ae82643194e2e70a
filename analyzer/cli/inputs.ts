/**
 * What the analyzer commands (seq, conns, analyze, scans, query, export, report) share: opening their
 * CAPTURE...|DB inputs, or passing them through the analysis without a database (seq and conns when no
 * SQL is asked for), with a progress line on stderr when a person is watching, and turning capture damage
 * into one stderr line each plus exit status 1 (after the results, which cover every packet before the
 * damage). The database modules are imported only by openForCommand: a command that answers without
 * SQL never loads DuckDB.
 */
import type { Command } from 'commander';
import path from 'node:path';
import type { Lens } from '../index.js';
import { passCaptures, type PassConsumer, type PassedCaptures } from '../direct.js';
import { inputsAreDatabase } from '../pipeline/capture-set.js';
import { EXIT_OK, EXIT_RUNTIME, reportError } from '../../common/cli-run.js';
import type { LoadedCapture, LoadProgress } from '../pipeline/set-pass.js';
import type { LoadTables } from '../db/loader.js';

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
  const { openInputs } = await import('../index.js');
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
  if (nothingRead(lens.captures)) {
    await lens.close();
    throwFirstError(lens.captures);
  }
  return lens;
}

/** True when SQL or a database is needed: --where, --db, or a kept database as the input. */
export function needsDatabase(inputs: readonly string[], opts: InputOptions & { where?: string }): boolean {
  return opts.db !== undefined || opts.where !== undefined || inputsAreDatabase(inputs, opts);
}

/**
 * The inputs through the analysis without a database (analyzer/direct.ts), for a command whose answer
 * needs no SQL; as openForCommand, nothing read at all is thrown.
 */
export async function passForCommand(
  inputs: readonly string[], opts: InputOptions & { verifyChecksums?: boolean; figures?: boolean }, consumer: PassConsumer,
): Promise<PassedCaptures> {
  const onProgress = progressPrinter();
  let passed: PassedCaptures;
  try {
    passed = await passCaptures(inputs, {
      perFile: opts.perFile === true, ...(onProgress ? { onProgress } : {}),
      ...(opts.verifyChecksums ? { verifyChecksums: true } : {}), ...(opts.figures ? { figures: true } : {}),
    }, consumer);
  } finally {
    if (onProgress) process.stderr.write('\r\x1b[K');
  }
  if (nothingRead(passed.captures)) throwFirstError(passed.captures);
  return passed;
}

/** Not one capture could be read at all: there is nothing to show. */
function nothingRead(captures: readonly LoadedCapture[]): boolean {
  return captures.length > 0 && captures.every((c) => c.captureId === null);
}

/** Each unreadable file gets its own line, the first is thrown (so stdout stays empty). */
function throwFirstError(captures: readonly LoadedCapture[]): never {
  const errors = errorsOf(captures);
  for (const err of errors.slice(1)) reportError(err);
  throw errors[0]!;
}

function errorsOf(captures: readonly LoadedCapture[]): Error[] {
  return captures.flatMap((c) => (c.error ? [c.error] : []));
}

/** Prints one line per damaged capture; EXIT_RUNTIME when there was any. */
export function captureErrorsStatus(loaded: { captures: readonly LoadedCapture[] }): number {
  // Values stored as NULL (a timestamp in the year 2779, ...): named once each, results complete, status 0.
  for (const c of loaded.captures) for (const w of c.nulled) process.stderr.write(`tcplens: warning: ${c.path}: ${w}\n`);
  let status = EXIT_OK;
  for (const err of errorsOf(loaded.captures)) {
    reportError(err);
    status = EXIT_RUNTIME;
  }
  return status;
}
