/**
 * One row kept as the plain values a query over it would return (db/database.ts plainRows): integers
 * and doubles as numbers, text as strings, NULL as null; timestamps as nanoseconds since the epoch
 * (a bigint, what epoch_ns() gives). The commands that answer without a database (analyzer/direct.ts)
 * write their rows through the same ColumnSink code as the loader, so both give the same values.
 */
import type { ColumnSink, ColumnSpec } from './column-spec.js';
import { tsNsInRange } from './value-range.js';

export type PlainValue = number | string | boolean | bigint | null;

export class ValueRow implements ColumnSink {
  readonly values: PlainValue[];
  private readonly index: Map<string, number>;

  constructor(readonly columns: readonly ColumnSpec[]) {
    this.values = new Array<PlainValue>(columns.length).fill(null);
    this.index = new Map(columns.map((c, i) => [c.name, i]));
  }

  /** The value of a column by name. */
  get(name: string): PlainValue {
    return this.values[this.indexOf(name)]!;
  }

  /** A column's position in `values`. */
  indexOf(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`no column ${name}`);
    return i;
  }

  /** Every column by name, as a query's row object. */
  toObject(): Record<string, PlainValue> {
    const out: Record<string, PlainValue> = {};
    this.columns.forEach((c, i) => (out[c.name] = this.values[i]!));
    return out;
  }

  reset(): void {
    this.values.fill(null);
  }

  bool(col: number, v: boolean): void {
    this.values[col] = v;
  }
  enum8(col: number, index: number): void {
    this.values[col] = index;
  }
  u8(col: number, v: number): void {
    this.values[col] = v;
  }
  i8(col: number, v: number): void {
    this.values[col] = v;
  }
  u16(col: number, v: number): void {
    this.values[col] = v;
  }
  i16(col: number, v: number): void {
    this.values[col] = v;
  }
  u32(col: number, v: number): void {
    this.values[col] = v;
  }
  i32(col: number, v: number): void {
    this.values[col] = v;
  }
  f64(col: number, v: number): void {
    this.values[col] = v;
  }
  i64(col: number, v: number): void {
    this.values[col] = v;
  }
  tsNs(col: number, sec: number, nsec: number): void {
    this.values[col] = tsNsInRange(sec) ? BigInt(sec) * 1_000_000_000n + BigInt(nsec) : null;
  }
  varchar(col: number, v: string): void {
    this.values[col] = v;
  }
  null(col: number): void {
    this.values[col] = null;
  }
  endRow(): void {}
}
