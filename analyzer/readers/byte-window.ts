/**
 * A sliding window over a capture's bytes, filled by large reads so parsers can walk records in place.
 *
 * Parsers read `buf[start..end)` synchronously for as many whole records as the window holds, then call
 * `refill(n)` (the only await) to have at least n bytes from `start` on. Bytes before `start` are dropped at
 * refill time by moving the unread tail to the front, so memory stays at one chunk plus the largest record.
 * The source is a plain file (positioned reads straight into the window), a stream that cannot seek
 * (standard input, a FIFO, a character device) or a gunzip stream over either.
 *
 * `beforeMove`, when set, is awaited before a refill touches bytes already in the window: a reader that
 * handed out views of those bytes (analyzer/pipeline/cursor.ts) gets them back first.
 */
import { closeSync, createReadStream, fstatSync, openSync, read, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/**
 * Size of each read: large enough to keep syscalls rare next to the per-record work (111 reads for a
 * 111 MB capture), small enough to keep a command's peak memory down. 4 MiB cost seq and conns ~3 MiB
 * of peak RSS over 1 MiB, no faster (bench/NOTES.md, fifth pass); at 1 MiB reads are synchronous
 * (SYNC_READ_MAX), from the page cache quicker than a thread-pool round trip.
 */
export const CHUNK_BYTES = 1 << 20;
/**
 * Windows up to this size are read synchronously: from the page cache such a read takes less than the
 * thread-pool round trip of an async one (a capture set's peeks and merge windows; bench/NOTES.md).
 */
const SYNC_READ_MAX = 1 << 20;

interface ChunkSource {
  /** Total bytes the source will give, when known (plain files): lets refill() refuse impossible sizes. */
  readonly size: number | null;
  /** Reads up to `length` bytes into `dst` at `offset`; 0 means end of input. */
  read(dst: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A regular file. Opening, fstat and closing are synchronous: they take microseconds, while each async
 * call is a round trip through libuv's thread pool, and a capture set of 1,000 small files made five of
 * them per file (bench/NOTES.md). Reads into a large window stay asynchronous, so the event loop runs
 * between chunks of a large capture; small windows are read synchronously (SYNC_READ_MAX).
 */
class FileSource implements ChunkSource {
  private position = 0;
  private fd: number | null;
  /**
   * A read came back short: the file ended there. A regular file gives a short read only at its end, so
   * the read that would return 0 to say so is not made (one syscall, or round trip, per small file).
   */
  private ended = false;
  constructor(fd: number, readonly size: number, private readonly sync: boolean) {
    this.fd = fd;
  }
  read(dst: Buffer, offset: number, length: number): Promise<number> {
    if (this.ended) return Promise.resolve(0);
    if (this.sync) {
      try {
        return Promise.resolve(this.advance(readSync(this.fd!, dst, offset, length, this.position), length));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve, reject) => {
      read(this.fd!, dst, offset, length, this.position, (err, bytesRead) => {
        if (err) return reject(err);
        resolve(this.advance(bytesRead, length));
      });
    });
  }
  private advance(bytesRead: number, asked: number): number {
    this.position += bytesRead;
    if (bytesRead < asked) this.ended = true;
    return bytesRead;
  }
  async close(): Promise<void> {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Bytes pulled chunk by chunk from a readable stream: standard input, a FIFO, or node:zlib's streaming
 * gunzip. Never seeks, so it serves pipes, and gives no size.
 */
class StreamSource implements ChunkSource {
  readonly size = null;
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer | null = null;
  constructor(private readonly stream: Readable) {
    this.iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  async read(dst: Buffer, offset: number, length: number): Promise<number> {
    let copied = 0;
    while (copied < length) {
      if (!this.pending || this.pending.length === 0) {
        if (copied > 0) break;
        const next = await this.iterator.next();
        if (next.done) return copied;
        this.pending = next.value;
        continue;
      }
      const n = Math.min(length - copied, this.pending.length);
      this.pending.copy(dst, offset + copied, 0, n);
      this.pending = this.pending.subarray(n);
      copied += n;
    }
    return copied;
  }
  /** The bytes not yet handed out (`head` first), as a stream: for restarting on gunzip over a pipe. */
  rest(head: Buffer): Readable {
    const pending = this.pending;
    const iterator = this.iterator;
    return Readable.from((async function* () {
      if (head.length > 0) yield head;
      if (pending && pending.length > 0) yield pending;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(), { objectMode: false });
  }
  async close(): Promise<void> {
    // Standard input is left open for the process (destroying it would close fd 0 under other code).
    if (this.stream !== process.stdin) this.stream.destroy();
  }
}

function gunzip(compressed: Readable): Readable {
  const out = createGunzip();
  // Errors of the compressed side are forwarded so the reader's iterator rejects instead of hanging.
  compressed.on('error', (err) => out.destroy(err));
  return compressed.pipe(out);
}

export class ByteWindow {
  buf!: Buffer;
  /**
   * `buf` as a plain Uint8Array over the same memory: what packets point into (RawPacket.bytes), so the
   * decoders only ever index one kind of array (a Buffer is a subclass: another shape for V8's caches).
   */
  bytes!: Uint8Array;
  /** First unread byte and end of valid bytes in `buf`. */
  start = 0;
  end = 0;
  /** File offset of buf[0] (decompressed offset for gzip input). */
  base = 0;
  /** The source is exhausted: the window holds everything that is left. */
  eof = false;

  /** Awaited before a refill moves or overwrites bytes already in the window (see the file comment). */
  beforeMove: (() => Promise<void>) | null = null;

  private constructor(private readonly source: ChunkSource, chunkBytes = CHUNK_BYTES, buffer?: Buffer) {
    this.use(buffer && buffer.length >= chunkBytes ? buffer.subarray(0, chunkBytes) : Buffer.allocUnsafe(chunkBytes));
  }

  private use(buf: Buffer): void {
    this.buf = buf;
    this.bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }

  /** A regular file: positioned reads. */
  static openFile(path: string, chunkBytes = CHUNK_BYTES, buffer?: Buffer): ByteWindow {
    const fd = openSync(path, 'r');
    try {
      return new ByteWindow(new FileSource(fd, fstatSync(fd).size, chunkBytes <= SYNC_READ_MAX), chunkBytes, buffer);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** A source that cannot seek: standard input, a FIFO, a character device. */
  static openStream(stream: Readable, chunkBytes = CHUNK_BYTES, buffer?: Buffer): ByteWindow {
    return new ByteWindow(new StreamSource(stream), chunkBytes, buffer);
  }

  /** The gzip file at `path`, decompressed. */
  static openGzip(path: string): ByteWindow {
    return new ByteWindow(new StreamSource(gunzip(createReadStream(path, { highWaterMark: 1 << 20 }))));
  }

  /**
   * The same input decompressed, continuing where this window stands: for a stream that turned out to be
   * gzip after its first bytes were read (a pipe cannot be opened again). This window must not be used after.
   */
  gunzipRest(): ByteWindow {
    if (!(this.source instanceof StreamSource)) throw new Error('gunzipRest: only for stream sources');
    const head = Buffer.from(this.buf.subarray(this.start, this.end));
    return new ByteWindow(new StreamSource(gunzip(this.source.rest(head))));
  }

  /** File offset of the first unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  get available(): number {
    return this.end - this.start;
  }

  /**
   * Makes at least `need` bytes available from `start` unless the input ends first. Returns whether they
   * are there. Grows the buffer only for a record larger than a chunk (callers cap record sizes).
   */
  async refill(need: number): Promise<boolean> {
    const size = this.source.size;
    const wanted = need;
    // A corrupt length must not make us allocate for bytes the file cannot hold: read what is left.
    if (size !== null && this.base + this.start + need > size) need = Math.max(0, size - this.base - this.start);
    if (this.end - this.start < need && !this.eof && this.beforeMove) await this.beforeMove();
    while (this.end - this.start < need && !this.eof) {
      if (this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
        this.end -= this.start;
        this.base += this.start;
        this.start = 0;
      }
      if (this.buf.length < need) {
        const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
        this.buf.copy(bigger, 0, 0, this.end);
        this.use(bigger);
      }
      const n = await this.source.read(this.buf, this.end, this.buf.length - this.end);
      if (n === 0) this.eof = true;
      this.end += n;
    }
    return this.end - this.start >= wanted;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
