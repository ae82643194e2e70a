/**
 * `tcplens export CAPTURE...|DB.duckdb --parquet DIR | --csv DIR [--db FILE] [--format ...]`: writes the
 * tables (captures, interfaces, packets, flows, tcp_analysis) one file each, by DuckDB's own COPY (Parquet
 * files any Parquet reader, DuckDB included, reads back). Files are 0600, a new DIR 0700. Prints what was
 * written: file and row count.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { RuntimeError, UsageError } from '../../common/errors.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import { USER_TABLES } from '../db/schema.js';
import type { Lens } from '../index.js';
import { action } from '../../common/cli-run.js';
import { parseFormat, renderRows, type Row } from './output.js';

/** Stable row order in every file, so two exports of the same captures are identical. */
const ORDER: Record<(typeof USER_TABLES)[number], string> = {
  captures: 'capture_id',
  interfaces: 'capture_id, if_id',
  packets: 'capture_id, frame',
  flows: 'flow_id',
  tcp_analysis: 'capture_id, frame, flag',
};

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export async function exportTables(lens: Lens, dir: string, kind: 'parquet' | 'csv'): Promise<Row[]> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new RuntimeError(`${dir}: cannot create the export directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const written: Row[] = [];
  for (const table of USER_TABLES) {
    const file = path.join(dir, `${table}.${kind}`);
    const options = kind === 'parquet' ? 'FORMAT parquet' : 'FORMAT csv, HEADER true';
    await lens.db.run(`COPY (SELECT * FROM ${table} ORDER BY ${ORDER[table]}) TO ${sqlString(file)} (${options})`)
      .catch((err: unknown) => {
        throw new RuntimeError(`${file}: cannot write: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
      });
    chmodSync(file, 0o600);
    const n = await lens.query(`SELECT count(*) AS n FROM ${table}`);
    written.push({ table, file, rows: n.rows[0]!['n'] });
  }
  return written;
}

export function registerExport(program: Command): void {
  withInputOptions(program.command('export'))
    .description('write captures, interfaces, packets, flows and tcp_analysis as Parquet or CSV files')
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--parquet <dir>', 'write DIR/<table>.parquet')
    .option('--csv <dir>', 'write DIR/<table>.csv')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (inputs: string[], opts: { parquet?: string; csv?: string; db?: string; perFile?: boolean; format: string }) => {
      const format = parseFormat(opts.format);
      if ((opts.parquet === undefined) === (opts.csv === undefined)) throw new UsageError('export needs exactly one of --parquet DIR or --csv DIR');
      const lens = await openForCommand(inputs, opts);
      try {
        const rows = opts.parquet !== undefined ? await exportTables(lens, opts.parquet, 'parquet') : await exportTables(lens, opts.csv!, 'csv');
        process.stdout.write(renderRows(rows, ['table', 'file', 'rows'], format));
        return captureErrorsStatus(lens);
      } finally {
        await lens.close();
      }
    }));
}
