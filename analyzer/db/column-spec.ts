/**
 * How a table's columns are described (name, SQL type, how a value is stored) and the one interface
 * through which a row is written: ChunkWriter (chunk-writer.ts) writes it into DuckDB, ValueRow
 * (value-row.ts) keeps it as the plain values a query would return, for the commands that answer without
 * a database. No DuckDB here: modules on that path import this one.
 */

export type ColumnKind = 'enum8' | 'bool' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'ts_ns' | 'f64' | 'varchar';

export interface ColumnSpec {
  name: string;
  /** SQL type in CREATE TABLE; must store exactly like `kind`. */
  sql: string;
  kind: ColumnKind;
}

/** `CREATE TABLE` column list for a spec. */
export function columnsSql(columns: readonly ColumnSpec[]): string {
  return columns.map((c) => `${c.name} ${c.sql}`).join(', ');
}

/** Column indexes by name, so call sites read `w.u32(P.seq, v)` instead of magic numbers. */
export function columnIndex<const T extends readonly ColumnSpec[]>(columns: T): { [K in T[number]['name']]: number } {
  const out: Record<string, number> = {};
  columns.forEach((c, i) => (out[c.name] = i));
  return out as { [K in T[number]['name']]: number };
}

/** Writes one row, column by column, then `endRow`. */
export interface ColumnSink {
  bool(col: number, v: boolean): void;
  /** An ENUM with at most 256 members: the member's index. */
  enum8(col: number, index: number): void;
  u8(col: number, v: number): void;
  i8(col: number, v: number): void;
  u16(col: number, v: number): void;
  i16(col: number, v: number): void;
  u32(col: number, v: number): void;
  i32(col: number, v: number): void;
  f64(col: number, v: number): void;
  /** A non-negative integer below 2^53. */
  i64(col: number, v: number): void;
  /** TIMESTAMP_NS from whole seconds and nanoseconds; NULL out of its range (value-range.ts). */
  tsNs(col: number, sec: number, nsec: number): void;
  varchar(col: number, v: string): void;
  null(col: number): void;
  endRow(): void;
}
