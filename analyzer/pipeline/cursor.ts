/**
 * A capture read one window at a time, on demand: the push reader (readCapture) turned into a pull, so
 * several captures can be merged packet by packet (capture-set.ts).
 *
 * The reader parses every whole record in its window, handing each to a callback that stores it here
 * (numbers in one typed array, the bytes as a view into the window: nothing is copied). Before the reader
 * refills its window, which overwrites those bytes, it awaits `beforeMove`; that wait ends only when the
 * consumer has taken every stored packet and asked for more. So a batch costs two promise hand-offs, not
 * one per packet, and packet bytes stay valid exactly as long as the consumer may look at them.
 *
 * Storing and loading a packet costs about 0.3 s per million (bench/NOTES.md, capture sets), so a fill() may
 * say up to which time its packets need no merging (`PassThrough`): those go straight from the reader to the
 * consumer, and only the first packet past that time, and the rest of its window, are stored. The reader
 * parses nothing before the first fill(): a cursor opened ahead of its turn has read its first window but
 * holds no packet, so the pass-through applies from its first packet on.
 */
import { readCapture, type RawPacket, type ReadOptions, type ReadResult } from '../readers/index.js';
import { newRawPacket } from '../readers/common.js';

/** Fewest packets a cursor makes room for when it first stores one (a stream's cursor, which gives no size). */
const MIN_BATCH = 64;

/**
 * A stored packet's fields, one row of a single Float64Array: one allocation per cursor (and per growth), not
 * one per field; a set of 1,000 files makes 1,000 cursors, and each ArrayBuffer costs the GC.
 */
const FRAME = 0;
const IFACE = 1;
const LINKTYPE = 2;
const TS_SEC = 3;
const TS_NSEC = 4;
const CAP_LEN = 5;
const WIRE_LEN = 6;
const FLAGS = 7;
const FILE_OFFSET = 8;
const HAS_TS = 9;
/**
 * Where the packet's bytes are: an offset into the batch's one ArrayBuffer (a batch never spans two, since
 * the window changes only after a hand-over). Offsets, not views: views kept for a whole batch would
 * survive young-generation GCs by the thousand.
 */
const DATA_OFFSET = 10;
const STRIDE = 11;

/**
 * Row arrays of cursors that are done, for the next cursor that stores: a set of 1,000 files would
 * otherwise leave an array per file for the GC (external memory, freed late: the peak RSS grew by tens of MB).
 */
const spareRows: Float64Array[] = [];
const SPARE_ROWS = 4;

function takeRows(length: number): Float64Array {
  const i = spareRows.findIndex((r) => r.length >= length);
  return i >= 0 ? spareRows.splice(i, 1)[0]! : new Float64Array(length);
}

function giveRows(rows: Float64Array): void {
  if (spareRows.length < SPARE_ROWS) spareRows.push(rows);
}

/** A stored whole number as the reader made it: a small integer while it fits in one (up to 2^30). */
function asInteger(v: number): number {
  return v < 0x40000000 ? v | 0 : v;
}

/** Ends a read the consumer no longer wants; readCapture reports it as a cancelled read. */
function stopped(): Error {
  return Object.assign(new Error('stopped by the reader of the capture set'), { name: 'AbortError' });
}

/**
 * For one fill(): packets earlier than (sec, nsec) go to `deliver` as the reader parses them, never stored,
 * as long as no packet of this fill has been stored (a file's own order is kept). The time is exclusive: a
 * packet at exactly that time is stored, and the merge decides its tie.
 */
export interface PassThrough {
  sec: number;
  nsec: number;
  deliver: (packet: RawPacket) => void;
}

/**
 * How the cursor's reader reads (readCapture's options; the hand-over and the start are the cursor's own).
 * A signal cancels the read at its next window: a pass-through fill can last a whole file.
 */
export type CursorOptions = Omit<ReadOptions, 'beforeMove' | 'start'>;

export class PacketCursor {
  /** The packet at the cursor, valid until the next step() or fill(). */
  readonly packet: RawPacket = newRawPacket();
  private count = 0;
  private pos = 0;
  /** The stored packets (STRIDE numbers each); allocated on the first store: a pass-through cursor never needs it. */
  private rows: Float64Array | null = null;
  /** Packets the first allocation makes room for: a window's worth of small (headers-only) records. */
  private readonly firstBatch: number;
  private batchBytes: Uint8Array | null = null;

  /** Resolves when the reader has stored a batch (or ended); replaced for each batch. */
  private batchReady: Promise<void>;
  private signalBatch!: () => void;
  /** Lets a reader blocked in beforeMove go on. */
  private resumeReader: (() => void) | null = null;
  private ended = false;
  private stopRequested = false;
  private readonly done: Promise<ReadResult>;
  /** What the reader threw that was not about the input (an exception of a pass-through consumer). */
  private failure: { error: unknown } | null = null;
  /** The current fill()'s pass-through, if any. */
  private through: PassThrough | null = null;
  /** Lets the reader parse its first window (the first fill()), or stops it before it does (close()). */
  private startReader!: () => void;
  private refuseStart!: () => void;

  constructor(readonly path: string, opts: CursorOptions = {}) {
    const { chunkBytes } = opts;
    // A power of two, so that rows handed on (takeRows) fit the next file of about the same size.
    this.firstBatch = chunkBytes === undefined ? MIN_BATCH : 2 ** Math.ceil(Math.log2(Math.max(MIN_BATCH, Math.min(1 << 16, chunkBytes / 64))));
    this.batchReady = new Promise((resolve) => (this.signalBatch = resolve));
    let started = false;
    const start = new Promise<void>((resolve, reject) => {
      this.startReader = () => {
        started = true;
        resolve();
      };
      // Only a reader that never started is refused (an Error, with its stack, per close would be waste).
      this.refuseStart = () => {
        if (!started) reject(stopped());
      };
    });
    // A read that fails before its first record (a missing file) never waits for the start.
    start.catch(() => undefined);
    this.done = readCapture(path, (p) => this.take(p), {
      ...opts,
      beforeMove: () => this.handOver(),
      start,
    }).then((r) => {
      this.ended = true;
      this.signalBatch();
      return r;
    }, (error: unknown) => {
      this.failure = { error };
      this.ended = true;
      this.signalBatch();
      throw error;
    });
    // fill() rethrows the failure; close() and finished() hand it on. Not an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
  }

  /**
   * Makes the next packet current. Returns false when the stored batch is used up: then call fill().
   */
  step(): boolean {
    if (this.pos + 1 >= this.count) {
      this.pos = this.count;
      return false;
    }
    this.pos++;
    this.load();
    return true;
  }

  /**
   * Releases the used batch and waits for the next one; false at the end of the capture (or damage).
   * With `through`, the packets before its time go to its consumer meanwhile (PassThrough).
   */
  async fill(through: PassThrough | null = null): Promise<boolean> {
    this.through = through;
    try {
      for (;;) {
        if (this.pos < this.count) {
          this.load();
          return true;
        }
        if (this.failure) throw this.failure.error;
        if (this.ended) {
          this.releaseRows();
          return false;
        }
        this.count = 0;
        this.pos = 0;
        this.batchBytes = null;
        const ready = this.batchReady;
        this.startReader();
        this.resume();
        await ready;
      }
    } finally {
      this.through = null;
    }
  }

  /** Stops reading (the rest of the capture is not wanted) and returns what the reader reported. */
  async close(): Promise<ReadResult> {
    if (!this.ended) {
      this.stopRequested = true;
      this.refuseStart();
      this.resume();
    }
    this.releaseRows();
    return this.done;
  }

  /** Waits for the reader's end, reading everything (for the result after the last packet). */
  finished(): Promise<ReadResult> {
    return this.done;
  }

  /** Lets a reader waiting in handOver() go on (the stored batch has been given back). */
  private resume(): void {
    const resume = this.resumeReader;
    this.resumeReader = null;
    resume?.();
  }

  private handOver(): Promise<void> {
    if (this.stopRequested) return Promise.reject(stopped());
    // Nothing handed out yet (the file header, or a batch already released by fill()).
    if (this.count === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.resumeReader = () => {
        this.batchReady = new Promise((r) => (this.signalBatch = r));
        if (this.stopRequested) reject(stopped());
        else resolve();
      };
      this.signalBatch();
    });
  }

  /** The reader's callback: pass the packet through (PassThrough) or store it for the consumer. */
  private take(p: RawPacket): void {
    const t = this.through;
    if (t !== null && this.count === 0 && (p.tsSec < t.sec || (p.tsSec === t.sec && p.tsNsec < t.nsec))) t.deliver(p);
    else this.store(p);
  }

  private store(p: RawPacket): void {
    const i = this.count;
    let rows = this.rows;
    if (rows === null || (i + 1) * STRIDE > rows.length) rows = this.grow();
    const r = i * STRIDE;
    rows[r + FRAME] = p.frame;
    rows[r + IFACE] = p.interfaceId;
    rows[r + LINKTYPE] = p.linktype;
    rows[r + TS_SEC] = p.tsSec;
    rows[r + TS_NSEC] = p.tsNsec;
    rows[r + CAP_LEN] = p.capLen;
    rows[r + WIRE_LEN] = p.wireLen;
    rows[r + FLAGS] = p.flags;
    rows[r + FILE_OFFSET] = p.fileOffset;
    rows[r + HAS_TS] = p.hasTimestamp ? 1 : 0;
    rows[r + DATA_OFFSET] = p.offset;
    this.batchBytes = p.bytes;
    this.count = i + 1;
  }

  private grow(): Float64Array {
    const old = this.rows;
    const rows = takeRows(old === null ? this.firstBatch * STRIDE : old.length * 2);
    if (old !== null) {
      rows.set(old);
      giveRows(old);
    }
    this.rows = rows;
    return rows;
  }

  /** The reader has ended and every stored packet was taken: the rows can serve another cursor. */
  private releaseRows(): void {
    if (this.rows !== null) giveRows(this.rows);
    this.rows = null;
    this.count = 0;
    this.pos = 0;
  }

  private load(): void {
    const rows = this.rows!;
    const r = this.pos * STRIDE;
    const p = this.packet;
    // Integers as integers (`>>> 0`, asInteger): a Float64Array element is a double, and a double stored
    // once into a field V8 holds as a small integer turns that field into a double field in every RawPacket,
    // the readers' own included (deoptimizations, then slower code downstream).
    p.frame = asInteger(rows[r + FRAME]!);
    p.interfaceId = rows[r + IFACE]! >>> 0;
    p.linktype = rows[r + LINKTYPE]! >>> 0;
    p.tsSec = rows[r + TS_SEC]!;
    p.tsNsec = rows[r + TS_NSEC]! >>> 0;
    p.capLen = rows[r + CAP_LEN]! >>> 0;
    p.wireLen = rows[r + WIRE_LEN]! >>> 0;
    p.flags = rows[r + FLAGS]! >>> 0;
    p.fileOffset = asInteger(rows[r + FILE_OFFSET]!);
    p.hasTimestamp = rows[r + HAS_TS] === 1;
    p.bytes = this.batchBytes!;
    p.offset = rows[r + DATA_OFFSET]! >>> 0;
  }
}
