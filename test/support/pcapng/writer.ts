/**
 * A TEST TOOL (the recorder does not run it: its EPBs are written by the addon's drain thread,
 * native/src/epb_file.cc). A pcapng file being written: blocks are encoded straight into large in-memory chunks, and full chunks are
 * written to disk in order, one write at a time, while the caller keeps encoding into the next chunk. So
 * the per-packet path is synchronous and allocation-free, and the disk sees few large writes. Only whole
 * blocks are ever written, so a file cut short by SIGKILL is readable up to its last whole block.
 *
 * Every input is validated before any byte of its block is buffered: a bad call throws TypeError or
 * RangeError and leaves the file as it was. A failed disk write is kept and thrown by the next call.
 */
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  DEFAULT_TSRESOL, encodeIdb, encodeIsb, encodeShb, nsToTicks, type IdbOptions, type IsbOptions, type ShbOptions,
} from '../../../recorder/pcapng/blocks.js';
import { encodeEpb, encodeEpbTicksInto, epbSize, type EpbOptions } from './epb.js';

export interface PcapngFileWriterOptions {
  /** Permission bits of the file, applied even when it already exists or the umask is permissive. */
  mode?: number;
  /** Size of the in-memory chunks that are written to disk whole (default 1 MiB). */
  chunkSize?: number;
  /** writePacket returns false once this many bytes wait for the disk (default 16 MiB): await flush(). */
  highWaterMark?: number;
}

const DEFAULT_CHUNK = 1 << 20;
const DEFAULT_HIGH_WATER = 16 << 20;
/** Chunks kept for reuse after their write completes, so a steady stream allocates nothing. */
const SPARE_CHUNKS = 2;

export class PcapngFileWriter {
  readonly path: string;
  #fh: FileHandle;
  #chunkSize: number;
  #highWaterMark: number;
  #chunk: Buffer;
  #used = 0;
  #spare: Buffer[] = [];
  /** Full chunks (views of their first `used` bytes) waiting for the disk, oldest first. */
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #inflight: Promise<void> | null = null;
  #filePosition = 0;
  #failure: Error | null = null;
  #closed = false;
  #bytesWritten = 0;
  /** if_tsresol of each interface of the current section, by interface id; null before the first section. */
  #tsresol: number[] | null = null;

  private constructor(path: string, fh: FileHandle, chunkSize: number, highWaterMark: number) {
    this.path = path;
    this.#fh = fh;
    this.#chunkSize = chunkSize;
    this.#highWaterMark = highWaterMark;
    this.#chunk = Buffer.allocUnsafe(chunkSize);
  }

  /**
   * Creates (or truncates) `path` with mode 0600 unless told otherwise. A symbolic link at `path` is
   * refused rather than followed: the recorder runs as root and may write into shared directories.
   */
  static async open(path: string, opts: PcapngFileWriterOptions = {}): Promise<PcapngFileWriter> {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    const mode = opts.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`mode must be a permission mask (0 to 0o7777), got ${mode}`);
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
    if (!Number.isInteger(chunkSize) || chunkSize < 4096) throw new RangeError(`chunkSize must be an integer >= 4096, got ${chunkSize}`);
    const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER;
    if (!Number.isInteger(highWaterMark) || highWaterMark < 0) throw new RangeError(`highWaterMark must be a non-negative integer, got ${highWaterMark}`);
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW;
    const fh = await open(path, flags, mode);
    try {
      // open() applies the mode only to a new file, and through the umask; chmod makes it exact. A device
      // or pipe given as the output (/dev/stdout, a FIFO) keeps its own permissions.
      if ((await fh.stat()).isFile()) await fh.chmod(mode);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new PcapngFileWriter(path, fh, chunkSize, highWaterMark);
  }

  /** Bytes of whole blocks accepted so far: the file's size once flushed. Rotation by size reads this. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Bytes accepted but not yet on disk. */
  get pendingBytes(): number {
    return this.#used + this.#queuedBytes;
  }

  /**
   * Starts a section: an SHB and one IDB per interface, whose ids are their positions in `idbs`. Interface
   * ids of an earlier section stop being valid, as in pcapng.
   */
  writeSection(shb: ShbOptions, idbs: readonly IdbOptions[]): void {
    this.#checkOpen();
    if (!Array.isArray(idbs)) throw new TypeError('idbs must be an array of interface descriptions');
    const blocks = [encodeShb(shb), ...idbs.map((idb) => encodeIdb(idb))];
    for (const b of blocks) this.#append(b);
    this.#tsresol = idbs.map((idb) => idb.tsresol ?? DEFAULT_TSRESOL);
  }

  /** Adds an interface to the current section (e.g. one that appeared while recording "any"); returns its id. */
  addInterface(idb: IdbOptions): number {
    const tsresol = this.#sectionInterfaces();
    const block = encodeIdb(idb);
    this.#append(block);
    tsresol.push(idb.tsresol ?? DEFAULT_TSRESOL);
    return tsresol.length - 1;
  }

  /**
   * Writes one EPB. The positional form is the recorder's hot path (no allocation when the interface has
   * if_tsresol 9); the object form also takes a comment. Returns false when more than highWaterMark bytes
   * wait for the disk: the caller should `await flush()` before writing much more.
   */
  writePacket(p: EpbOptions): boolean;
  writePacket(interfaceId: number, tsNs: bigint, wireLen: number, data: Uint8Array, flags?: number): boolean;
  writePacket(
    first: number | EpbOptions, tsNs?: bigint, wireLen?: number, data?: Uint8Array, flags = 0,
  ): boolean {
    if (typeof first === 'object' && first !== null) return this.#writeEpbObject(first);
    const interfaces = this.#sectionInterfaces();
    const tsresol = interfaces[first];
    if (tsresol === undefined) throw new RangeError(`interfaceId ${String(first)} is not an interface of this section (it has ${interfaces.length})`);
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (typeof tsNs !== 'bigint') throw new TypeError(`tsNs must be a bigint, got ${typeof tsNs}`);
    const ticks = tsresol === DEFAULT_TSRESOL ? tsNs : nsToTicks(tsNs, tsresol, 'tsNs');
    const size = epbSize(data.length, flags !== 0);
    if (size > 0xffffffff) throw new RangeError(`captured length ${data.length} makes a block larger than 4 GiB`);
    this.#reserve(size);
    // encodeEpbTicksInto validates its arguments before writing, so a bad call leaves the chunk unchanged.
    this.#used = encodeEpbTicksInto(this.#chunk, this.#used, first as number, ticks, wireLen as number, data, flags);
    this.#bytesWritten += size;
    return this.#queuedBytes < this.#highWaterMark;
  }

  /** Writes an ISB (statistics of one interface of the current section). */
  writeStats(s: IsbOptions): boolean {
    const interfaces = this.#sectionInterfaces();
    const tsresol = interfaces[s.interfaceId];
    if (tsresol === undefined) throw new RangeError(`interfaceId ${String(s.interfaceId)} is not an interface of this section (it has ${interfaces.length})`);
    this.#append(encodeIsb({ ...s, tsresol }));
    return this.#queuedBytes < this.#highWaterMark;
  }

  /** Writes everything accepted so far to the file; throws the first disk error, if any. */
  async flush(): Promise<void> {
    this.#throwIfFailed();
    this.#submitChunk();
    while (this.#inflight) await this.#inflight;
    this.#throwIfFailed();
  }

  /** Flushes and closes the file. Further calls throw; closing twice is allowed and does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      await this.#fh.close();
    }
  }

  #writeEpbObject(p: EpbOptions): boolean {
    const interfaces = this.#sectionInterfaces();
    const tsresol = interfaces[p.interfaceId];
    if (tsresol === undefined) throw new RangeError(`interfaceId ${String(p.interfaceId)} is not an interface of this section (it has ${interfaces.length})`);
    this.#append(encodeEpb({ ...p, tsresol }));
    return this.#queuedBytes < this.#highWaterMark;
  }

  #sectionInterfaces(): number[] {
    this.#checkOpen();
    if (this.#tsresol === null) throw new Error('no section yet: call writeSection before writing interfaces, packets or statistics');
    return this.#tsresol;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`${this.path}: writer is closed`);
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Copies an encoded block into the current chunk. */
  #append(block: Buffer): void {
    this.#reserve(block.length);
    block.copy(this.#chunk, this.#used);
    this.#used += block.length;
    this.#bytesWritten += block.length;
  }

  /** Makes room for `size` bytes in the current chunk: submits the chunk when full; grows for a giant block. */
  #reserve(size: number): void {
    if (this.#used + size <= this.#chunk.length) return;
    this.#submitChunk();
    if (size > this.#chunk.length) this.#chunk = Buffer.allocUnsafe(size);
  }

  /** Hands the filled part of the current chunk to the disk queue and continues in a fresh chunk. */
  #submitChunk(): void {
    if (this.#used === 0) return;
    const full = this.#chunk.subarray(0, this.#used);
    this.#queue.push(full);
    this.#queuedBytes += full.length;
    this.#chunk = this.#spare.pop() ?? Buffer.allocUnsafe(this.#chunkSize);
    this.#used = 0;
    this.#pump();
  }

  /** Starts the next queued write unless one is running: writes stay in file order, one at a time. */
  #pump(): void {
    if (this.#inflight || this.#failure) return;
    const next = this.#queue.shift();
    if (!next) return;
    this.#inflight = this.#writeFully(next).then(
      () => {
        this.#queuedBytes -= next.length;
        if (next.buffer.byteLength === this.#chunkSize && this.#spare.length < SPARE_CHUNKS) {
          this.#spare.push(Buffer.from(next.buffer, next.byteOffset, this.#chunkSize));
        }
        this.#inflight = null;
        this.#pump();
      },
      (err: unknown) => {
        this.#failure = err instanceof Error ? err : new Error(String(err));
        this.#inflight = null;
      },
    );
  }

  async #writeFully(data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#fh.write(data, done, data.length - done, this.#filePosition);
      if (bytesWritten === 0) throw new Error(`${this.path}: write made no progress at byte ${this.#filePosition}`);
      done += bytesWritten;
      this.#filePosition += bytesWritten;
    }
  }
}
