/**
 * readCapture: the one entry to read any capture (pcap or pcapng, plain or gzip-compressed), streaming
 * each packet to a callback. It never throws for bad input: damage, a missing file or a directory come
 * back as `result.error` (a CaptureError naming file, byte offset and what was expected) with
 * `partial: true`, after every packet before the damage was delivered. An exception thrown by the
 * callback is not about the input: it propagates unchanged.
 */
import { createReadStream, statSync, type Stats } from 'node:fs';
import { CaptureError } from '../../common/errors.js';
import { ByteWindow } from './byte-window.js';
import { emptyResult } from './common.js';
import { pcapMagic, readPcap } from './pcap.js';
import { PCAPNG_MAGIC, readPcapng } from './pcapng.js';
import type { PacketCallback, ReadResult } from './types.js';

export type { CaptureFormat, InterfaceInfo, PacketCallback, RawPacket, ReadResult, TsResolution } from './types.js';

export interface ReadOptions {
  signal?: AbortSignal;
  /** Awaited before the reader reuses the bytes of packets it has handed out (ByteWindow.beforeMove). */
  beforeMove?: () => Promise<void>;
  /** Size of each read (default 1 MiB, byte-window.ts CHUNK_BYTES); smaller when many captures are open at once. */
  chunkBytes?: number;
  /** Read into this buffer (of at least chunkBytes) instead of a new one: for callers that pool them. */
  buffer?: Buffer;
  /**
   * Awaited once the input is open and its first window read, before any record is parsed: a caller that
   * opens a capture ahead of its use gets the open and the read overlapped with other work, and no packet
   * before it asks (analyzer/pipeline/cursor.ts). A rejection ends the read like any cancellation.
   */
  start?: Promise<void>;
  /** The input's stat, when the caller has just taken it (a capture set does, per file): saves one. */
  stat?: Stats;
}

/** The capture name `-`: standard input. */
export const STDIN = '-';

/** How an input is named in messages and in the captures table: `<stdin>` for `-`, else as given. */
export function inputName(path: string): string {
  return path === STDIN ? '<stdin>' : path;
}

/**
 * Opens an input: a regular file is read with positioned reads; standard input (`-`), a FIFO or a
 * character device (/dev/stdin) is streamed, never seeked, so a pipe works and nothing is written to disk.
 */
async function openWindow(path: string, name: string, opts: ReadOptions): Promise<{ win: ByteWindow; seekable: boolean }> {
  const { chunkBytes, buffer } = opts;
  if (path === STDIN) {
    if (process.stdin.isTTY) throw new CaptureError(name, 0, 'a capture on standard input, but it is a terminal');
    return { win: ByteWindow.openStream(process.stdin, chunkBytes, buffer), seekable: false };
  }
  let st: Stats;
  try {
    st = opts.stat ?? statSync(path); // synchronous: see FileSource (byte-window.ts)
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CaptureError(name, 0, `a readable capture file (${err.code === 'ENOENT' ? 'no such file' : err.code ?? err.message})`);
  }
  if (st.isDirectory()) throw new CaptureError(name, 0, 'a capture file, found a directory');
  if (st.isFile()) return { win: ByteWindow.openFile(path, chunkBytes, buffer), seekable: true };
  return { win: ByteWindow.openStream(createReadStream(path, { highWaterMark: 1 << 20 }), chunkBytes, buffer), seekable: false };
}

export async function readCapture(path: string, onPacket: PacketCallback, opts: ReadOptions = {}): Promise<ReadResult> {
  const name = inputName(path);
  const result = emptyResult(name);
  let win: ByteWindow | null = null;
  try {
    const opened = await openWindow(path, name, opts);
    win = opened.win;
    if (!(await win.refill(4))) {
      throw new CaptureError(name, 0, win.available === 0
        ? `a pcap or pcapng magic number, but the ${path === STDIN ? 'input' : 'file'} is empty`
        : `a 4-byte pcap or pcapng magic number, but the ${path === STDIN ? 'input' : 'file'} ends after ${win.available} bytes`);
    }
    if (win.buf[win.start] === 0x1f && win.buf[win.start + 1] === 0x8b) {
      // gzip: restart on the decompressed stream; offsets from here on are in the decompressed bytes.
      if (opened.seekable) {
        await win.close();
        win = ByteWindow.openGzip(path);
      } else {
        win = win.gunzipRest();
      }
      result.compression = 'gzip';
      if (!(await win.refill(4))) {
        throw new CaptureError(name, 0, 'a pcap or pcapng magic number inside the gzip data, but it holds fewer than 4 bytes');
      }
    }
    if (opts.start) await opts.start;
    if (opts.beforeMove) win.beforeMove = opts.beforeMove;
    await dispatch(win, result, onPacket, opts.signal);
  } catch (err) {
    // Input problems become the result's error. Anything else (an exception thrown by the caller's
    // callback, or a bug here) is not a property of the file and must not pass for damaged input.
    if (!isInputProblem(err)) throw err;
    result.partial = true;
    result.error = toCaptureError(err, name, win, result);
  } finally {
    await win?.close().catch(() => undefined);
  }
  return result;
}

async function dispatch(win: ByteWindow, result: ReadResult, onPacket: PacketCallback, signal: AbortSignal | undefined): Promise<void> {
  const head = win.buf.subarray(win.start, win.start + 4);
  if (pcapMagic(head)) return readPcap(win, result, onPacket, signal);
  if (head.readUInt32BE(0) === PCAPNG_MAGIC) return readPcapng(win, result, onPacket, signal);
  throw new CaptureError(result.path, 0,
    `a pcap magic (a1b2c3d4 or a1b23c4d, either byte order) or a pcapng Section Header Block (0a0d0d0a), found ${head.toString('hex')}`);
}

function isInputProblem(err: unknown): boolean {
  if (err instanceof CaptureError) return true;
  const e = err as NodeJS.ErrnoException | null;
  // System errors (EIO, EACCES ...) and zlib errors carry a string code; a cancelled read is an AbortError.
  return typeof e?.code === 'string' || e?.name === 'AbortError';
}

/** Anything that stopped the read becomes a CaptureError at the place reading stopped. */
function toCaptureError(err: unknown, path: string, win: ByteWindow | null, result: ReadResult): CaptureError {
  if (err instanceof CaptureError) return err;
  const offset = win ? win.offset : 0;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return new CaptureError(path, offset, 'to read on, but the read was cancelled');
  if (result.compression === 'gzip' && typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return new CaptureError(path, offset, `valid gzip data (decompressed offset; zlib: ${e.message})`);
  }
  const reason = e?.code ?? (err instanceof Error ? err.message : String(err));
  return new CaptureError(path, offset, `readable bytes (${reason})`);
}
