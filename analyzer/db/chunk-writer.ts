/**
 * Bulk writer for one DuckDB table: rows are written into plain typed arrays (one per column, one
 * DuckDB vector = 2048 rows long) and, when a vector is full, copied into a data chunk with ONE native
 * call per column and appended with one more. So the per-row path is a few typed-array stores: no
 * allocation, no JS<->native call (except VARCHAR columns, see below), and memory stays bounded to one
 * chunk whatever the number of rows.
 *
 * VARCHAR cells have no flat memory layout the C API lets us fill in bulk, so they are assigned one by
 * one at flush time. Tables on the per-packet path therefore keep text out of their rows (addresses go
 * through a dictionary, see address-dictionary.ts); VARCHAR is used where rows are rare (flags, flows).
 */
import { duckdb, DuckDBDataChunk, DuckDBTypeId, type DuckDBAppender } from './duckdb-modules.js';
import { tsNsInRange } from './value-range.js';
import type { ColumnKind, ColumnSink, ColumnSpec } from './column-spec.js';

const KIND_TYPE: Record<ColumnKind, DuckDBTypeId> = {
  enum8: DuckDBTypeId.ENUM,
  bool: DuckDBTypeId.BOOLEAN,
  i8: DuckDBTypeId.TINYINT,
  u8: DuckDBTypeId.UTINYINT,
  i16: DuckDBTypeId.SMALLINT,
  u16: DuckDBTypeId.USMALLINT,
  i32: DuckDBTypeId.INTEGER,
  u32: DuckDBTypeId.UINTEGER,
  i64: DuckDBTypeId.BIGINT,
  ts_ns: DuckDBTypeId.TIMESTAMP_NS,
  f64: DuckDBTypeId.DOUBLE,
  varchar: DuckDBTypeId.VARCHAR,
};

const KIND_BYTES: Record<ColumnKind, number> = {
  enum8: 1, bool: 1, i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, ts_ns: 8, f64: 8, varchar: 0,
};

export const VECTOR_SIZE = duckdb.vector_size();

const TWO_32 = 4294967296;
const NS_PER_SEC = 1_000_000_000;

interface ColumnBuffer {
  kind: ColumnKind;
  buffer: ArrayBuffer;
  bytes: Uint8Array;
  /** Views over `bytes`; only the one matching `kind` is used. */
  u8: Uint8Array;
  i8: Int8Array;
  u16: Uint16Array;
  i16: Int16Array;
  u32: Uint32Array;
  i32: Int32Array;
  f64: Float64Array;
  strings: (string | null)[];
  /** DuckDB validity mask: bit i set = row i valid (uint64 words, little-endian = bytes in order). */
  validity: Uint8Array;
  validityBuffer: ArrayBuffer;
  hasNull: boolean;
}

function newBuffer(kind: ColumnKind, rows: number): ColumnBuffer {
  const ab = new ArrayBuffer(Math.max(8, KIND_BYTES[kind] * rows));
  const bytes = new Uint8Array(ab);
  const validityBuffer = new ArrayBuffer(Math.ceil(rows / 64) * 8);
  const validity = new Uint8Array(validityBuffer).fill(0xff);
  return {
    kind, buffer: ab, bytes, validityBuffer,
    u8: bytes,
    i8: new Int8Array(ab),
    u16: new Uint16Array(ab),
    i16: new Int16Array(ab),
    u32: new Uint32Array(ab),
    i32: new Int32Array(ab),
    f64: new Float64Array(ab),
    strings: kind === 'varchar' ? new Array<string | null>(rows).fill(null) : [],
    validity,
    hasNull: false,
  };
}

export class ChunkWriter implements ColumnSink {
  private readonly buffers: ColumnBuffer[];
  private readonly chunk: DuckDBDataChunk;
  /** Row being written (0-based within the current chunk). */
  private row = 0;
  /** Rows appended in total. */
  rowsWritten = 0;

  constructor(
    private readonly appender: DuckDBAppender,
    columns: readonly ColumnSpec[],
    private readonly capacity = VECTOR_SIZE,
  ) {
    if (appender.columnCount !== columns.length) {
      throw new Error(`table has ${appender.columnCount} columns, writer expects ${columns.length}`);
    }
    const types = columns.map((c, i) => {
      const type = appender.columnType(i);
      if (type.typeId !== KIND_TYPE[c.kind]) throw new Error(`column ${c.name}: table type ${type.toString()} does not store as ${c.kind}`);
      return type;
    });
    this.chunk = DuckDBDataChunk.create(types);
    this.buffers = columns.map((c) => newBuffer(c.kind, capacity));
  }

  bool(col: number, v: boolean): void {
    this.buffers[col]!.u8[this.row] = v ? 1 : 0;
  }
  /** An ENUM with at most 256 members: the member's index. */
  enum8(col: number, index: number): void {
    this.buffers[col]!.u8[this.row] = index;
  }
  u8(col: number, v: number): void {
    this.buffers[col]!.u8[this.row] = v;
  }
  i8(col: number, v: number): void {
    this.buffers[col]!.i8[this.row] = v;
  }
  u16(col: number, v: number): void {
    this.buffers[col]!.u16[this.row] = v;
  }
  i16(col: number, v: number): void {
    this.buffers[col]!.i16[this.row] = v;
  }
  u32(col: number, v: number): void {
    this.buffers[col]!.u32[this.row] = v;
  }
  i32(col: number, v: number): void {
    this.buffers[col]!.i32[this.row] = v;
  }
  f64(col: number, v: number): void {
    this.buffers[col]!.f64[this.row] = v;
  }
  /** A non-negative integer below 2^53, stored as BIGINT without making a BigInt. */
  i64(col: number, v: number): void {
    const u32 = this.buffers[col]!.u32;
    u32[this.row * 2] = v % TWO_32;
    u32[this.row * 2 + 1] = Math.floor(v / TWO_32);
  }
  /**
   * TIMESTAMP_NS from whole seconds and nanoseconds, computed in 32-bit halves: sec * 1e9 overflows
   * the 53 exact bits of a double, and a BigInt would be an allocation per packet. Out of TIMESTAMP_NS's
   * range (value-range.ts): NULL.
   */
  tsNs(col: number, sec: number, nsec: number): void {
    // A stamp TIMESTAMP_NS cannot hold (a damaged capture) is NULL, never a wrapped-around value.
    if (tsNsInRange(sec)) writeNanos(this.buffers[col]!.u32, this.row * 2, sec, nsec);
    else this.null(col);
  }
  varchar(col: number, v: string): void {
    this.buffers[col]!.strings[this.row] = v;
  }
  null(col: number): void {
    const b = this.buffers[col]!;
    b.validity[this.row >> 3]! &= ~(1 << (this.row & 7));
    b.hasNull = true;
    if (b.kind === 'varchar') b.strings[this.row] = null;
  }

  endRow(): void {
    this.row++;
    this.rowsWritten++;
    if (this.row === this.capacity) this.flush();
  }

  /** Hands the buffered rows to DuckDB (call before reading the table or committing). */
  flush(): void {
    const rows = this.row;
    if (rows === 0) return;
    const raw = this.chunk.chunk;
    for (let col = 0; col < this.buffers.length; col++) {
      const b = this.buffers[col]!;
      const vector = duckdb.data_chunk_get_vector(raw, col);
      if (b.kind === 'varchar') {
        for (let r = 0; r < rows; r++) {
          const s = b.strings[r];
          if (s != null) duckdb.vector_assign_string_element(vector, r, s);
        }
      } else {
        duckdb.copy_data_to_vector(vector, 0, b.buffer, 0, KIND_BYTES[b.kind] * rows);
      }
      if (b.hasNull) {
        duckdb.vector_ensure_validity_writable(vector);
        duckdb.copy_data_to_vector_validity(vector, 0, b.validityBuffer, 0, Math.ceil(rows / 64) * 8);
        b.validity.fill(0xff);
        b.hasNull = false;
      }
    }
    this.chunk.rowCount = rows;
    this.appender.appendDataChunk(this.chunk);
    this.chunk.reset();
    this.row = 0;
  }

  /** Flushes and closes the appender (its rows become visible to queries on the connection). */
  close(): void {
    this.flush();
    this.appender.closeSync();
  }
}

/** Writes sec * 1e9 + nsec as a little-endian int64 into u32[at], u32[at + 1]. Needs 0 <= sec < 2^32. */
export function writeNanos(u32: Uint32Array, at: number, sec: number, nsec: number): void {
  if (sec < 0) {
    sec = 0;
    nsec = 0;
  }
  // sec = hi16 * 2^16 + lo16; each partial product below stays under 2^47, exact in a double.
  const hi16 = Math.floor(sec / 65536);
  const lo16 = sec % 65536;
  const a = hi16 * NS_PER_SEC; // times 2^16
  const aHigh = Math.floor(a / 65536);
  const c = (a % 65536) * 65536 + lo16 * NS_PER_SEC + nsec;
  u32[at] = c % TWO_32;
  u32[at + 1] = aHigh + Math.floor(c / TWO_32);
}
