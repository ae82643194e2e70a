/**
 * Values a damaged capture can carry that a database column cannot hold. A flipped byte in a pcapng
 * timestamp easily lands in the year 2779 (TIMESTAMP_NS ends in 2262), an if_tsoffset can push stamps
 * before 1970, an ISB counter can exceed BIGINT. None of these may fail a load and lose what was read:
 * the column gets NULL, the raw value is named in a warning on the capture (captures.warnings, and one
 * stderr line from every command), and everything else is kept. tshark likewise shows such a packet
 * and reads on.
 */
import { RuntimeError } from '../../common/errors.js';

/**
 * Largest whole second TIMESTAMP_NS holds with any nanosecond part: 2^63 - 1 ns is 9223372036.854775807 s
 * (2262-04-11T23:47:16Z), and DuckDB reserves the top value for 'infinity'.
 */
export const TS_NS_MAX_SEC = 9_223_372_035;

/** True when (sec, nsec) fits a TIMESTAMP_NS as this writer stores it (from 1970 to 2262). */
export function tsNsInRange(sec: number): boolean {
  return sec >= 0 && sec <= TS_NS_MAX_SEC;
}

/** Exact signed 64-bit integers a JS number can carry to a BIGINT parameter. */
export function bigintOrNull(v: number | null): number | null {
  return v !== null && Number.isSafeInteger(v) ? v : null;
}

/** "25547802902.415274000 s since 1970 (year 2779)": the raw stamp, readable whatever its size. */
export function describeStamp(sec: number, nsec: number): string {
  const year = 1970 + Math.floor(sec / 31_556_952);
  return `${sec}.${String(nsec).padStart(9, '0')} s since 1970 (year ${year})`;
}

/** How many raw values each warning spells out; the rest are counted. */
const LISTED = 3;

/**
 * Packet timestamps of one capture that TIMESTAMP_NS cannot hold. The packets keep every other column;
 * their ts is NULL. The warning names the first few by frame, byte offset and raw value.
 */
export class OutOfRangeStamps {
  count = 0;
  private readonly listed: string[] = [];

  note(frame: number, fileOffset: number, sec: number, nsec: number): void {
    if (++this.count <= LISTED) this.listed.push(`frame ${frame} (at byte ${fileOffset}): ${describeStamp(sec, nsec)}`);
  }

  /** One line for captures.warnings, or null when every stamp fitted. */
  warning(): string | null {
    if (this.count === 0) return null;
    const more = this.count > LISTED ? `, and ${this.count - LISTED} more` : '';
    return `${this.count} packet timestamp(s) outside what the database holds (1970 to 2262), ts NULL in its tables: ` +
      `${this.listed.join('; ')}${more}`;
  }
}

/**
 * The loader's guard on packet timestamps: notes each one out of range, and remembers the last one in
 * range, which connection tracking uses instead (Zeek's timers would otherwise see centuries pass on one
 * flipped byte and split the connection; -1 before any good stamp).
 */
export class StampGuard {
  readonly stamps = new OutOfRangeStamps();
  /**
   * The last good stamp (sec -1 before the first), in a Float64Array rather than two fields: a field that
   * starts as a small integer and then takes a timestamp (a double) makes V8 retire the object's shape, and
   * a capture set has one guard per file; with 1,000 files every packet paid for the retired shapes
   * (bench/NOTES.md, capture sets).
   */
  private readonly last = new Float64Array([-1, 0]);

  get sec(): number {
    return this.last[0]!;
  }

  get nsec(): number {
    return this.last[1]!;
  }

  /** True when the packet's stamp fits; otherwise it is noted for the warning. */
  check(frame: number, fileOffset: number, sec: number, nsec: number): boolean {
    if (tsNsInRange(sec)) {
      this.last[0] = sec;
      this.last[1] = nsec;
      return true;
    }
    this.stamps.note(frame, fileOffset, sec, nsec);
    return false;
  }
}

/** Every warning about a value stored as NULL for one capture. */
export function nulledValueWarnings(guard: StampGuard, interfaces: readonly { id: number; recv: number | null; drop: number | null }[]): string[] {
  const stamp = guard.stamps.warning();
  return [...(stamp === null ? [] : [stamp]), ...counterWarnings(interfaces)];
}

/**
 * Warnings for interface counters that do not fit BIGINT (an ISB's isb_ifrecv / isb_ifdrop past 2^53
 * cannot even be carried exactly); the interface row gets NULL there.
 */
export function counterWarnings(interfaces: readonly { id: number; recv: number | null; drop: number | null }[]): string[] {
  const out: string[] = [];
  for (const itf of interfaces) {
    if (itf.recv !== null && bigintOrNull(itf.recv) === null) out.push(`interface ${itf.id}: isb_ifrecv ${itf.recv} does not fit a BIGINT; recv stored as NULL`);
    if (itf.drop !== null && bigintOrNull(itf.drop) === null) out.push(`interface ${itf.id}: isb_ifdrop ${itf.drop} does not fit a BIGINT; drop stored as NULL`);
  }
  return out;
}

/**
 * A database failure while storing a capture is reported as what it is, naming the file, never as an
 * "internal error" (the values above are made safe first, so this is the last resort).
 */
export function storeError(file: string, err: unknown): unknown {
  if (!(err instanceof Error) || err.name === 'CaptureError' || err.name === 'RuntimeError' || err.name === 'UsageError') return err;
  if (err.name === 'AbortError') return err;
  return new RuntimeError(`${file}: could not store the capture in the database: ${err.message.split('\n')[0]}`);
}
