/**
 * A capture read one window at a time, on demand: the push reader (readCapture) turned into a pull, so
 * several captures can be merged packet by packet (capture-set.ts).
 *
 * The reader parses every whole record in its 4 MiB window, handing each to a callback that stores it
 * here (numbers in typed arrays, the bytes as a view into the window: nothing is copied). Before the reader
 * refills its window, which overwrites those bytes, it awaits `beforeMove`; that wait ends only when the
 * consumer has taken every stored packet and asked for more. So a batch costs two promise hand-offs, not
 * one per packet, and packet bytes stay valid exactly as long as the consumer may look at them.
 */
import { readCapture, type RawPacket, type ReadResult } from '../readers/index.js';
import { newRawPacket } from '../readers/common.js';

/**
 * Packets a new cursor has room for before its arrays double: small, because a set of 1,000 files makes
 * 2,000 cursors (a peek and a read each) and a peek stores only one window of 4 KiB.
 */
const INITIAL_BATCH = 64;

/** Ends a read the consumer no longer wants; readCapture reports it as a cancelled read. */
function stopped(): Error {
  return Object.assign(new Error('stopped by the reader of the capture set'), { name: 'AbortError' });
}

export class PacketCursor {
  /** The packet at the cursor, valid until the next step() or fill(). */
  readonly packet: RawPacket = newRawPacket();
  private count = 0;
  private pos = 0;
  private frame: Float64Array = new Float64Array(INITIAL_BATCH);
  private iface: Uint32Array = new Uint32Array(INITIAL_BATCH);
  private linktype: Uint32Array = new Uint32Array(INITIAL_BATCH);
  private tsSec: Float64Array = new Float64Array(INITIAL_BATCH);
  private tsNsec: Uint32Array = new Uint32Array(INITIAL_BATCH);
  private capLen: Uint32Array = new Uint32Array(INITIAL_BATCH);
  private wireLen: Uint32Array = new Uint32Array(INITIAL_BATCH);
  private flags: Uint32Array = new Uint32Array(INITIAL_BATCH);
  private fileOffset: Float64Array = new Float64Array(INITIAL_BATCH);
  private hasTs: Uint8Array = new Uint8Array(INITIAL_BATCH);
  /**
   * Where each packet's bytes are: an offset into the batch's one ArrayBuffer (a batch never spans two,
   * since the window changes only after a hand-over). Offsets, not views: views kept for a whole batch
   * would survive young-generation GCs by the thousand.
   */
  private dataOffset: Float64Array = new Float64Array(INITIAL_BATCH);
  private batchBytes: ArrayBufferLike | null = null;

  /** Resolves when the reader has stored a batch (or ended); replaced for each batch. */
  private batchReady: Promise<void>;
  private signalBatch!: () => void;
  /** Lets a reader blocked in beforeMove go on. */
  private resumeReader: (() => void) | null = null;
  private ended = false;
  private stopRequested = false;
  private readonly done: Promise<ReadResult>;

  /** `buffer`: the window to read into (a pool's; free again once the cursor is drained or closed). */
  constructor(readonly path: string, chunkBytes?: number, buffer?: Buffer) {
    // Room for a window's worth of small (headers-only) records, so a batch rarely grows the arrays.
    if (chunkBytes !== undefined) this.reserve(Math.min(1 << 16, Math.ceil(chunkBytes / 64)));
    this.batchReady = new Promise((resolve) => (this.signalBatch = resolve));
    this.done = readCapture(path, (p) => this.store(p), {
      beforeMove: () => this.handOver(),
      ...(chunkBytes ? { chunkBytes } : {}),
      ...(buffer ? { buffer } : {}),
    }).then((r) => {
      this.ended = true;
      this.signalBatch();
      return r;
    });
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

  /** Releases the used batch and waits for the next one; false at the end of the capture (or damage). */
  async fill(): Promise<boolean> {
    for (;;) {
      if (this.pos < this.count) {
        this.load();
        return true;
      }
      if (this.ended) return false;
      this.count = 0;
      this.pos = 0;
      this.batchBytes = null;
      const ready = this.batchReady;
      this.resume();
      await ready;
    }
  }

  /** Stops reading (the rest of the capture is not wanted) and returns what the reader reported. */
  async close(): Promise<ReadResult> {
    if (!this.ended) {
      this.stopRequested = true;
      this.count = 0;
      this.pos = 0;
      this.resume();
    }
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

  private store(p: RawPacket): void {
    const i = this.count;
    if (i === this.frame.length) this.grow();
    this.frame[i] = p.frame;
    this.iface[i] = p.interfaceId;
    this.linktype[i] = p.linktype;
    this.tsSec[i] = p.tsSec;
    this.tsNsec[i] = p.tsNsec;
    this.capLen[i] = p.capLen;
    this.wireLen[i] = p.wireLen;
    this.flags[i] = p.flags;
    this.fileOffset[i] = p.fileOffset;
    this.hasTs[i] = p.hasTimestamp ? 1 : 0;
    this.batchBytes = p.data.buffer;
    this.dataOffset[i] = p.data.byteOffset;
    this.count = i + 1;
  }

  private grow(): void {
    this.reserve(this.frame.length * 2);
  }

  private reserve(n: number): void {
    if (n <= this.frame.length) return;
    const f64 = (a: Float64Array): Float64Array => { const b = new Float64Array(n); b.set(a); return b; };
    const u32 = (a: Uint32Array): Uint32Array => { const b = new Uint32Array(n); b.set(a); return b; };
    this.frame = f64(this.frame);
    this.iface = u32(this.iface);
    this.linktype = u32(this.linktype);
    this.tsSec = f64(this.tsSec);
    this.tsNsec = u32(this.tsNsec);
    this.capLen = u32(this.capLen);
    this.wireLen = u32(this.wireLen);
    this.flags = u32(this.flags);
    this.fileOffset = f64(this.fileOffset);
    this.dataOffset = f64(this.dataOffset);
    const h = new Uint8Array(n);
    h.set(this.hasTs);
    this.hasTs = h;
  }

  private load(): void {
    const i = this.pos;
    const p = this.packet;
    p.frame = this.frame[i]!;
    p.interfaceId = this.iface[i]!;
    p.linktype = this.linktype[i]!;
    p.tsSec = this.tsSec[i]!;
    p.tsNsec = this.tsNsec[i]!;
    p.capLen = this.capLen[i]!;
    p.wireLen = this.wireLen[i]!;
    p.flags = this.flags[i]!;
    p.fileOffset = this.fileOffset[i]!;
    p.hasTimestamp = this.hasTs[i] === 1;
    p.data = new Uint8Array(this.batchBytes!, this.dataOffset[i]!, this.capLen[i]!);
  }
}
