/**
 * One embedded DuckDB database: in memory by default, or a file (`--db FILE.duckdb`) that keeps the
 * loaded captures. Memory is bounded by DuckDB's memory_limit; beyond it DuckDB spills table data to a
 * private temporary directory (0700, removed at close), which is what keeps 10M-packet loads under 1 GiB.
 * Only built-in extensions are used (parquet, json, icu): nothing is downloaded.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBResult, type DuckDBResultReader } from './duckdb-modules.js';
import { RuntimeError } from '../../common/errors.js';
import { isDuckDbFile } from '../readers/common.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { isoFromDuckText } from './iso-time.js';

export interface OpenOptions {
  /** File to keep the database in; null or undefined = in memory. */
  path?: string | null;
  readOnly?: boolean;
  /** DuckDB memory_limit (default 512MB; TCPLENS_MEMORY_LIMIT overrides). */
  memoryLimit?: string;
}

export interface QueryResult {
  columns: string[];
  types: string[];
  rows: Record<string, unknown>[];
}

/** First line of a DuckDB error, so the CLI prints one line. */
export function duckMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.trim();
}

const BIG_INTEGER_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);
/** Timestamps leave as tcplens' one text (iso-time.ts), whichever precision the column has. */
const TIMESTAMP_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_NS, DuckDBTypeId.TIMESTAMP_MS, DuckDBTypeId.TIMESTAMP_S, DuckDBTypeId.TIMESTAMP_TZ]);

/**
 * Rows as plain values: timestamps as ISO 8601 UTC text with nanoseconds (2026-11-23T04:40:42.778994597Z), 64-bit integers become
 * numbers when exact (bigint otherwise), decimals numbers.
 */
export function plainRows(reader: DuckDBResultReader): QueryResult {
  const columns = reader.columnNames();
  const types = reader.columnTypes();
  const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
  const convert = columns.map((_, i) => {
    const id = types[i]!.typeId;
    if (BIG_INTEGER_TYPES.has(id)) return 'int';
    if (id === DuckDBTypeId.DECIMAL) return 'dec';
    if (TIMESTAMP_TYPES.has(id)) return 'ts';
    return null;
  });
  if (convert.some((c) => c !== null)) {
    for (const row of rows) {
      columns.forEach((name, i) => {
        const v = row[name];
        if (typeof v !== 'string') return;
        if (convert[i] === 'int') {
          const big = BigInt(v);
          row[name] = big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
        } else if (convert[i] === 'dec') {
          row[name] = Number(v);
        } else if (convert[i] === 'ts') {
          row[name] = isoFromDuckText(v);
        }
      });
    }
  }
  return { columns, types: types.map((t) => t.toString()), rows };
}

/**
 * DuckDB's memory_limit unless TCPLENS_MEMORY_LIMIT says otherwise. 256 MB was tried for issue 14: it took
 * 10M-packet `analyze` from 733 to 497-627 MiB peak, no slower, but `report` on the same capture then ran
 * out of memory ("failed to pin block", bench/NOTES.md). 512 MB runs every command on it.
 */
const DEFAULT_MEMORY_LIMIT = '512MB';

export class Database {
  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly file: string | null,
    private readonly tempDir: string,
    readonly readOnly: boolean,
  ) {}

  /**
   * True for a database this process created (in memory, or a new file) until the loader has put
   * captures in it: then there is no earlier set to reuse or replace, and the loader skips those queries.
   */
  empty = false;

  static async open(opts: OpenOptions = {}): Promise<Database> {
    const file = opts.path ? path.resolve(opts.path) : null;
    if (file && opts.readOnly && !existsSync(file)) throw new RuntimeError(`${opts.path}: no such database`);
    if (file && existsSync(file) && !isDuckDbFile(file)) {
      throw new RuntimeError(`${opts.path}: not a DuckDB database (expected the magic "DUCK" at byte 8)`);
    }
    const created = file !== null && !existsSync(file);
    const tempDir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-duckdb-'));
    const config: Record<string, string> = {
      memory_limit: opts.memoryLimit ?? process.env['TCPLENS_MEMORY_LIMIT'] ?? DEFAULT_MEMORY_LIMIT,
      temp_directory: tempDir,
      threads: String(Math.max(1, Math.min(4, os.availableParallelism()))),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'true',
    };
    if (opts.readOnly) config['access_mode'] = 'READ_ONLY';
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file ?? ':memory:', config);
    } catch (err) {
      rmSync(tempDir, { recursive: true, force: true });
      throw new RuntimeError(`${opts.path ?? ':memory:'}: cannot open database: ${duckMessage(err)}`);
    }
    if (created && file) chmodSync(file, 0o600);
    const db = new Database(instance, await instance.connect(), file, tempDir, opts.readOnly === true);
    db.empty = file === null || created;
    try {
      // An existing file must already be a tcplens database: never add our tables to someone else's.
      if (file !== null && !created) await db.checkSchema();
      if (!opts.readOnly) await db.createSchema();
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }

  private async createSchema(): Promise<void> {
    // One call for every statement: each call is a round trip through the thread pool (start-up, issue 14).
    // An existing file was checked before (open); a new one holds exactly this schema.
    await this.connection.run(SCHEMA_SQL.join(';\n'));
  }

  private async checkSchema(): Promise<void> {
    let version: unknown;
    try {
      const r = await this.connection.runAndReadAll(`SELECT value FROM tcplens_meta WHERE key = 'schema_version'`);
      version = r.getRows()[0]?.[0];
    } catch {
      throw new RuntimeError(`${this.file ?? ':memory:'}: not a tcplens database (no tcplens_meta table)`);
    }
    if (version !== String(SCHEMA_VERSION)) {
      throw new RuntimeError(`${this.file}: tcplens schema version ${String(version)}, this tcplens reads version ${SCHEMA_VERSION}`);
    }
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Runs SQL and returns plain rows; DuckDB errors become one-line RuntimeErrors. */
  async query(sql: string, values?: unknown[]): Promise<QueryResult> {
    try {
      const reader = values
        ? await this.connection.runAndReadAll(sql, values as never)
        : await this.connection.runAndReadAll(sql);
      return plainRows(reader);
    } catch (err) {
      throw new RuntimeError(`SQL error: ${duckMessage(err)}`);
    }
  }

  /** Streams a result for large outputs (export, --frames). */
  async stream(sql: string): Promise<DuckDBResult> {
    try {
      return await this.connection.stream(sql);
    } catch (err) {
      throw new RuntimeError(`SQL error: ${duckMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    try {
      if (this.file && !this.readOnly) await this.connection.run('CHECKPOINT').catch(() => undefined);
      this.connection.closeSync();
      this.instance.closeSync();
    } finally {
      rmSync(this.tempDir, { recursive: true, force: true });
      if (this.file && existsSync(`${this.file}.wal`)) chmodSync(`${this.file}.wal`, 0o600);
    }
  }
}
