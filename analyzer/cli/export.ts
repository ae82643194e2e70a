/**
 * `tcplens export CAPTURE...|DB.duckdb --parquet DIR | --csv DIR [--db FILE] [--format ...]`: writes the
 * tables (captures, interfaces, packets, flows, tcp_analysis) one file each, by DuckDB's own COPY (Parquet
 * files any Parquet reader, DuckDB included, reads back). Files are 0600, a new DIR 0700. Prints what was
 * written: file and row count.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { RuntimeError, UsageError } from '../../common/errors.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import { USER_TABLES } from '../db/schema.js';
import { isoNsSql } from '../db/iso-time.js';
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

/** CSV files carry tcplens' one timestamp text; Parquet keeps the native TIMESTAMP_NS type. */
async function isoColumns(lens: Lens, table: string): Promise<string> {
  const r = await lens.query(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '${table}' ORDER BY column_index`);
  if (r.rows.length === 0) return '*';
  return r.rows.map((row) => {
    const c = `"${String(row['column_name'])}"`;
    return String(row['data_type']).startsWith('TIMESTAMP') ? `${isoNsSql(c)} AS ${c}` : c;
  }).join(', ');
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * mkdir -p, one component at a time. Node's own `mkdirSync(dir, { recursive: true })` never returns for a
 * path under /proc (the kernel answers ENOENT for every try and Node keeps retrying), so `export --csv
 * /proc/nope` spun at full CPU forever; here each component is tried once, so the loop ends.
 */
function makeDirs(dir: string): void {
  const full = path.resolve(dir);
  const parts = full.split(path.sep).filter(Boolean);
  let current = path.parse(full).root;
  for (const part of parts) {
    current = path.join(current, part);
    if (existsSync(current)) {
      if (!statSync(current).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      continue;
    }
    mkdirSync(current, { mode: 0o700 });
  }
}

export async function exportTables(lens: Lens, dir: string, kind: 'parquet' | 'csv'): Promise<Row[]> {
  try {
    makeDirs(dir);
  } catch (err) {
    throw new RuntimeError(`${dir}: cannot create the export directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const written: Row[] = [];
  for (const table of USER_TABLES) {
    const file = path.join(dir, `${table}.${kind}`);
    const options = kind === 'parquet' ? 'FORMAT parquet' : 'FORMAT csv, HEADER true';
    const select = kind === 'csv' ? await isoColumns(lens, table) : '*';
    await lens.db.run(`COPY (SELECT ${select} FROM ${table} ORDER BY ${ORDER[table]}) TO ${sqlString(file)} (${options})`)
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
