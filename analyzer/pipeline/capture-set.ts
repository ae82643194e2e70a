/**
 * The captures named in one command are one recording: their packets are merged into one timeline by
 * timestamp, as `mergecap` merges files by default, and numbered in that timeline (tshark's frame.number
 * on `mergecap -w merged.pcapng FILES`). A rotation set written by `record -C/-G/-W`, `tcpdump -C/-G` or
 * `dumpcap -b` is so analyzed as if it had never been cut.
 *
 * mergecap's rule (Wireshark 4.0 wiretap/merge.c), kept exactly: at each step the earliest head packet of all
 * files is written; on equal timestamps the file that comes LAST in the list wins (merge.c scans the files in
 * order and takes a file whose head is earlier than or equal to the best so far); each file's own order is
 * never changed. The list's order is not the command line's (which must not matter) but a canonical one: by
 * each file's first timestamp, then by name, so a rotation set sorts as it was written whatever the shell's
 * glob order, and the result equals `mergecap -w out FILES` with FILES in that order.
 *
 * Files are opened lazily: each is peeked once for its first timestamp (a small read, then closed) and
 * opened again only when the merge reaches that time, so the files open at once are those overlapping
 * in time (one or two for a rotation set), not all of them: 1,000 files work within any fd limit.
 * Standard input and FIFOs cannot be opened twice: they stay open from the peek on.
 */
import path from 'node:path';
import { inputName, readCapture, STDIN, type RawPacket, type ReadResult } from '../readers/index.js';
import { CaptureError } from '../../common/errors.js';
import { emptyResult, statOrNull } from '../readers/common.js';
import { PacketCursor } from './cursor.js';

/** One input of a set, in the set's canonical order. */
export interface SetFile {
  /** As given on the command line (`-` for standard input). */
  input: string;
  /** As shown in messages and in the captures table: the absolute path, or `<stdin>`. */
  name: string;
  /** Position in the canonical order; packets name their file by it. */
  index: number;
  /** What the reader reported (packets, interfaces, damage). */
  result: ReadResult;
}

/** `file` is the packet's SetFile.index; `frame` its 1-based number in the merged timeline. */
export type SetPacketCallback = (packet: RawPacket, file: number, frame: number) => void;

export interface ReadSetOptions {
  signal?: AbortSignal;
  /** Called once the canonical order is known, before the first packet. */
  onOrder?: (files: readonly { input: string; name: string }[]) => void;
}

/**
 * A peek reads this much: the headers and the first packets of an ordinary capture (the window grows
 * for a first record larger than this). Small, because the reader parses every record in its window:
 * a 64 KiB peek parsed 585 of each 1,000-packet file's packets only to throw them away.
 */
const PEEK_CHUNK = 4 << 10;
/** Smallest read size while merging, so that a small file is read in one go. */
const MIN_MERGE_CHUNK = 64 << 10;
/** Read size of a file while it takes part in a merge (several may be open at once). */
const MERGE_CHUNK = 1 << 20;
/**
 * Peeks run this many at a time: the waits for open/read/close of many small files overlap, and the
 * descriptors in use stay far below any usual limit (stream inputs stay open: they are few).
 */
const PEEK_PARALLEL = 8;
/** Files opened ahead of the merge, so that their first reads overlap the analysis of the current one. */
const PREFETCH = 4;

interface Member {
  input: string;
  name: string;
  seekable: boolean;
  /** Read size while merging: the whole file when it is small (no 1 MiB buffer per small file). */
  chunk: number;
  /** First packet's time; sec = Infinity when the capture has no packet. */
  firstSec: number;
  firstNsec: number;
  cursor: PacketCursor | null;
  result: ReadResult | null;
  index: number;
}

function displayName(input: string): string {
  return input === STDIN ? inputName(input) : path.resolve(input);
}

/** Whether the input can be opened twice, and how much to read at once while merging it. */
function inspect(input: string): { seekable: boolean; chunk: number } {
  if (input === STDIN) return { seekable: false, chunk: MERGE_CHUNK };
  const st = statOrNull(input);
  // A missing file is "seekable": its peek reports the error and it never opens again.
  const seekable = st === null || st.isFile() || st.isDirectory();
  const size = st?.isFile() ? st.size : MERGE_CHUNK;
  return { seekable, chunk: Math.min(MERGE_CHUNK, Math.max(MIN_MERGE_CHUNK, size + 64)) };
}

/** Whether a's head goes out before b's: the earlier time, and on a tie the file later in the list (mergecap). */
function earlier(aSec: number, aNsec: number, aIdx: number, bSec: number, bNsec: number, bIdx: number): boolean {
  if (aSec !== bSec) return aSec < bSec;
  if (aNsec !== bNsec) return aNsec < bNsec;
  return aIdx > bIdx;
}

/**
 * Window buffers handed from file to file: a set of 1,000 small files would otherwise allocate (and the GC
 * reclaim) two buffers per file. A buffer comes back only once no packet view into it can be in use.
 */
class BufferPool {
  private readonly free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    return i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < 4) this.free.push(buffer);
  }
}

/** Reads one member's first packet time; keeps stream members open (they cannot be read twice). */
async function peek(m: Member, pool: BufferPool): Promise<void> {
  if (!m.seekable) {
    const stream = new PacketCursor(m.input);
    if (await stream.fill()) {
      m.firstSec = stream.packet.tsSec;
      m.firstNsec = stream.packet.tsNsec;
      m.cursor = stream;
    } else {
      m.result = await stream.close();
    }
    return;
  }
  const buffer = pool.take(PEEK_CHUNK);
  const cursor = new PacketCursor(m.input, PEEK_CHUNK, buffer);
  const has = await cursor.fill();
  if (has) {
    m.firstSec = cursor.packet.tsSec;
    m.firstNsec = cursor.packet.tsNsec;
  }
  const r = await cursor.close();
  pool.give(buffer);
  // Nothing to merge from this file: what the peek found (damage, emptiness) is its whole result.
  if (!has) m.result = r;
}

/** Reads every capture of the set in merged order; returns each file's result in canonical order. */
export async function readCaptureSet(inputs: readonly string[], onPacket: SetPacketCallback, opts: ReadSetOptions = {}): Promise<SetFile[]> {
  if (inputs.length === 1) {
    // One capture: its own frame numbers are the timeline's (custom blocks keep their numbers, as in tshark).
    const input = inputs[0]!;
    const name = displayName(input);
    opts.onOrder?.([{ input, name }]);
    const result = await readCapture(input, (p) => onPacket(p, 0, p.frame), opts.signal ? { signal: opts.signal } : {});
    return [{ input, name, index: 0, result }];
  }
  const members: Member[] = inputs.map((input) => ({
    input, name: displayName(input), seekable: true, chunk: MERGE_CHUNK,
    firstSec: Infinity, firstNsec: 0, cursor: null, result: null, index: 0,
  }));
  const pool = new BufferPool();
  let nextPeek = 0;
  const peeker = async (): Promise<void> => {
    while (nextPeek < members.length) {
      const m = members[nextPeek++]!;
      Object.assign(m, inspect(m.input));
      await peek(m, pool);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PEEK_PARALLEL, members.length) }, peeker));
  members.sort((a, b) => a.firstSec - b.firstSec || a.firstNsec - b.firstNsec || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  members.forEach((m, i) => (m.index = i));
  opts.onOrder?.(members.map((m) => ({ input: m.input, name: m.name })));
  await merge(members, onPacket, pool, opts.signal);
  return members.map((m) => ({ input: m.input, name: m.name, index: m.index, result: m.result! }));
}

/** The result of a member the merge never read because the read was cancelled. */
function cancelled(name: string): ReadResult {
  const r = emptyResult(name);
  r.partial = true;
  r.error = new CaptureError(name, 0, 'to read on, but the read was cancelled');
  return r;
}

/** The k-way merge of the members' packets (module comment). */
async function merge(members: Member[], onPacket: SetPacketCallback, pool: BufferPool, signal: AbortSignal | undefined): Promise<void> {
  const pending = members.filter((m) => m.result === null);
  let next = 0;
  const heap = new CursorHeap();
  let frame = 0;
  const buffers = new Map<Member, Buffer>();
  const open = (m: Member): void => {
    if (m.cursor) return;
    const buffer = pool.take(m.chunk);
    buffers.set(m, buffer);
    m.cursor = new PacketCursor(m.input, m.chunk, buffer);
  };
  const release = (m: Member): void => {
    const buffer = buffers.get(m);
    if (buffer) pool.give(buffer);
    buffers.delete(m);
  };
  for (;;) {
    if (signal?.aborted) {
      for (const m of members) {
        if (m.cursor) m.result = await m.cursor.close();
        m.result ??= cancelled(m.name);
      }
      return;
    }
    const top = heap.top();
    const waiting = next < pending.length ? pending[next]! : null;
    // The next files start reading now, while this one is analysed: their opens and first reads overlap work.
    for (let k = next; k < Math.min(next + PREFETCH, pending.length); k++) open(pending[k]!);
    if (waiting && (!top || earlier(waiting.firstSec, waiting.firstNsec, waiting.index, top.cursor!.packet.tsSec, top.cursor!.packet.tsNsec, top.index))) {
      next++;
      if (await waiting.cursor!.fill()) {
        heap.push(waiting);
      } else {
        waiting.result = await waiting.cursor!.finished();
        waiting.cursor = null;
        release(waiting);
      }
      continue;
    }
    if (!top) return;
    const cursor = top.cursor!;
    // Emit the head, and the rest of its batch while nothing else can come before it: with one file open
    // and the next file starting later (a rotation set), a whole window goes out in this tight loop.
    let limitSec = Infinity;
    let limitNsec = 0;
    if (heap.size > 1) {
      limitSec = heap.secondSec();
      limitNsec = heap.secondNsec();
    }
    if (waiting && earlier(waiting.firstSec, waiting.firstNsec, 0, limitSec, limitNsec, 0)) {
      limitSec = waiting.firstSec;
      limitNsec = waiting.firstNsec;
    }
    let more: boolean;
    do {
      onPacket(cursor.packet, top.index, ++frame);
      more = cursor.step();
    } while (more && (cursor.packet.tsSec < limitSec || (cursor.packet.tsSec === limitSec && cursor.packet.tsNsec < limitNsec)));
    if (!more && !(await cursor.fill())) {
      heap.pop();
      top.result = await cursor.finished();
      top.cursor = null;
      release(top);
    } else {
      heap.fix();
    }
  }
}

/** Members with an open cursor, ordered by (head time, canonical index). */
class CursorHeap {
  private readonly items: Member[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): Member | null {
    return this.items[0] ?? null;
  }

  /** Head time of the earliest member after the top (the top's emit limit). */
  secondSec(): number {
    return this.second().cursor!.packet.tsSec;
  }

  secondNsec(): number {
    return this.second().cursor!.packet.tsNsec;
  }

  private second(): Member {
    const a = this.items[1];
    const b = this.items[2];
    if (b && this.less(b, a!)) return b;
    return a!;
  }

  push(m: Member): void {
    this.items.push(m);
    this.up(this.items.length - 1);
  }

  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
  }

  /** The top's head changed: restore the order. */
  fix(): void {
    this.down(0);
  }

  private less(a: Member, b: Member): boolean {
    const pa = a.cursor!.packet;
    const pb = b.cursor!.packet;
    return earlier(pa.tsSec, pa.tsNsec, a.index, pb.tsSec, pb.tsNsec, b.index);
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.less(items[l]!, items[m]!)) m = l;
      if (r < items.length && this.less(items[r]!, items[m]!)) m = r;
      if (m === i) return;
      [items[i], items[m]] = [items[m]!, items[i]!];
      i = m;
    }
  }
}
