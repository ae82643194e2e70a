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
 *
 * The peeks are a step of their own (planCaptureSet), so that a caller can start them before it has
 * anywhere to put the packets: openCaptures runs them while DuckDB starts.
 */
import type { Stats } from 'node:fs';
import path from 'node:path';
import { inputName, readCapture, STDIN, type RawPacket, type ReadOptions, type ReadResult } from '../readers/index.js';
import { CaptureError, RuntimeError, UsageError } from '../../common/errors.js';
import { emptyResult, isDuckDbFile, statOrNull } from '../readers/common.js';
import { PacketCursor, type PassThrough } from './cursor.js';

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

export interface PlanOptions {
  signal?: AbortSignal;
  /**
   * The inputs' stats (null: none could be had), in the order of `inputs`, when the caller has taken them
   * already (the loader does, to recognise a kept set): the set then takes none of its own.
   */
  stats?: readonly (Stats | null)[];
}

/** A set of two or more inputs, each peeked, in canonical order: what the merge needs to begin. */
export interface PlannedSet {
  readonly inputs: readonly string[];
  readonly members: Member[];
  readonly pool: BufferPool;
}

export interface ReadSetOptions {
  signal?: AbortSignal;
  /** The set planned already (planCaptureSet on the same inputs, begun earlier). */
  plan?: Promise<PlannedSet>;
  /** Called once the canonical order is known, before the first packet. */
  onOrder?: (files: readonly { input: string; name: string }[]) => void;
  /** As PlanOptions.stats, for a set not planned already. */
  stats?: readonly (Stats | null)[];
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
  /** Its stat when it has one, handed to each read of it (saves the reader its own). */
  stat: Stats | null;
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
function inspect(input: string, known: Stats | null | undefined): { seekable: boolean; stat: Stats | null; chunk: number } {
  if (input === STDIN) return { seekable: false, stat: null, chunk: MERGE_CHUNK };
  const st = known === undefined ? statOrNull(input) : known;
  // A missing file is "seekable": its peek reports the error and it never opens again.
  const seekable = st === null || st.isFile() || st.isDirectory();
  const size = st?.isFile() ? st.size : MERGE_CHUNK;
  return { seekable, stat: st, chunk: Math.min(MERGE_CHUNK, Math.max(MIN_MERGE_CHUNK, size + 64)) };
}

/** What a member's reads are given besides the read size: its stat, the pool's buffer, the set's signal. */
function readOptions(m: Member, chunkBytes: number, buffer: Buffer, signal: AbortSignal | undefined): ReadOptions {
  return { chunkBytes, buffer, ...(m.stat ? { stat: m.stat } : {}), ...(signal ? { signal } : {}) };
}

/**
 * Ends a peek once it has its first packet (from its beforeMove): the reader stops after the records of
 * its first small window. A CaptureError made once, which the reader records as it is: a new error per
 * peek (the reader's own for a cancelled read) cost 51 ms of stack traces over a 1,000-file set. The
 * peek's result is dropped whenever it stopped this way.
 */
const PEEKED = new CaptureError('(peek)', 0, 'nothing after the first packet: the first packet is all a peek reads');

/** Whether a's head goes out before b's: the earlier time, and on a tie the file later in the list (mergecap). */
function earlier(aSec: number, aNsec: number, aIdx: number, bSec: number, bNsec: number, bIdx: number): boolean {
  if (aSec !== bSec) return aSec < bSec;
  if (aNsec !== bNsec) return aNsec < bNsec;
  return aIdx > bIdx;
}

/**
 * Window buffers handed from file to file: a set of 1,000 small files would otherwise allocate (and the GC
 * reclaim) two buffers per file. A buffer comes back only once no packet view into it can be in use.
 * Sizes are rounded up to a power of two, so that a buffer fits the next file of about the same size (each
 * file's window is its own size), and the pool keeps its largest buffers (the peeks' small ones go first).
 */
class BufferPool {
  private static readonly KEEP = 4;
  private readonly free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    return i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(size)));
  }

  give(buffer: Buffer): void {
    if (this.free.length < BufferPool.KEEP) {
      this.free.push(buffer);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[smallest]!.length) smallest = i;
    if (this.free[smallest]!.length < buffer.length) this.free[smallest] = buffer;
  }
}

/** Reads one member's first packet time; keeps stream members open (they cannot be read twice). */
async function peek(m: Member, pool: BufferPool, signal: AbortSignal | undefined): Promise<void> {
  if (!m.seekable) {
    const stream = new PacketCursor(m.input, signal ? { signal } : {});
    if (await stream.fill()) {
      m.firstSec = stream.packet.tsSec;
      m.firstNsec = stream.packet.tsNsec;
      m.cursor = stream;
    } else {
      m.result = await stream.close();
    }
    return;
  }
  // A plain read, not a cursor: nothing needs storing, and the read stops at the first refill once the
  // first packet is known (PEEKED; a signal would cost an AbortController and an abort event per file).
  const buffer = pool.take(PEEK_CHUNK);
  let has = false;
  const r = await readCapture(m.input, (p) => {
    if (has) return;
    has = true;
    m.firstSec = p.tsSec;
    m.firstNsec = p.tsNsec;
  }, { ...readOptions(m, PEEK_CHUNK, buffer, signal), beforeMove: () => (has ? Promise.reject(PEEKED) : Promise.resolve()) });
  pool.give(buffer);
  // Nothing to merge from this file: what the peek found (damage, emptiness) is its whole result.
  if (!has) m.result = r;
}

/**
 * What the CLI's CAPTURE...|DB.duckdb arguments mean: true when they are one existing DuckDB file (a kept
 * database, opened read-only); otherwise they are captures. A missing *.duckdb is an error, not a
 * capture, and so is a database among --per-file captures (each is read alone, so no set's peek finds it).
 */
export function inputsAreDatabase(inputs: readonly string[], opts: { db?: string | null; perFile?: boolean }): boolean {
  if (inputs.length === 1 && isDuckDbFile(inputs[0]!)) {
    if (opts.db) throw new RuntimeError(`${inputs[0]}: already a database; --db applies to captures only`);
    return true;
  }
  for (const input of inputs) {
    // A database among captures is found by the set's peeks (planCaptureSet), where only the inputs that
    // are not captures are looked at again; each --per-file capture is read alone, so look here.
    if (opts.perFile && isDuckDbFile(input)) throw databaseAmongInputs(input, inputs.length);
    if (/\.(duckdb|ddb|db)$/i.test(input) && !isDuckDbFile(input)) {
      throw new RuntimeError(`${input}: no such database (or not a DuckDB file)`);
    }
  }
  return false;
}

/** A DuckDB database named among `count` inputs: it can only be opened alone (openInputs). */
export function databaseAmongInputs(input: string, count: number): UsageError {
  return new UsageError(`${input}: a database must be the only input (got ${count})`);
}

/**
 * Peeks every input of a set of two or more (its first packet's time) and puts them in canonical order.
 * An input that is a DuckDB database is a usage error, found here only among the inputs that are not
 * captures (a check of every input cost 34 ms over 1,000 files).
 */
export async function planCaptureSet(inputs: readonly string[], opts: PlanOptions = {}): Promise<PlannedSet> {
  const members: Member[] = inputs.map((input) => ({
    input, name: displayName(input), seekable: true, stat: null, chunk: MERGE_CHUNK,
    firstSec: Infinity, firstNsec: 0, cursor: null, result: null, index: 0,
  }));
  const pool = new BufferPool();
  let nextPeek = 0;
  const peeker = async (): Promise<void> => {
    while (nextPeek < members.length) {
      const i = nextPeek++;
      const m = members[i]!;
      Object.assign(m, inspect(m.input, opts.stats?.[i]));
      await peek(m, pool, opts.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PEEK_PARALLEL, members.length) }, peeker));
  const database = members.find((m) => m.result?.error?.offset === 0 && m.seekable && isDuckDbFile(m.input));
  if (database) throw databaseAmongInputs(database.input, inputs.length);
  members.sort((a, b) => a.firstSec - b.firstSec || a.firstNsec - b.firstNsec || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  members.forEach((m, i) => (m.index = i));
  return { inputs, members, pool };
}

/** Reads every capture of the set in merged order; returns each file's result in canonical order. */
export async function readCaptureSet(inputs: readonly string[], onPacket: SetPacketCallback, opts: ReadSetOptions = {}): Promise<SetFile[]> {
  if (inputs.length === 1) {
    // One capture: its own frame numbers are the timeline's (custom blocks keep their numbers, as in tshark).
    const input = inputs[0]!;
    const name = displayName(input);
    opts.onOrder?.([{ input, name }]);
    const stat = opts.stats?.[0];
    const result = await readCapture(input, (p) => onPacket(p, 0, p.frame), { ...(opts.signal ? { signal: opts.signal } : {}), ...(stat ? { stat } : {}) });
    return [{ input, name, index: 0, result }];
  }
  const { members, pool } = await (opts.plan ?? planCaptureSet(inputs, opts));
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

/** A point in capture time; sec = Infinity: never. */
interface Time {
  sec: number;
  nsec: number;
}

const NEVER: Time = { sec: Infinity, nsec: 0 };

function headOf(m: Member): Time {
  return { sec: m.cursor!.packet.tsSec, nsec: m.cursor!.packet.tsNsec };
}

function firstOf(m: Member | undefined): Time {
  return m ? { sec: m.firstSec, nsec: m.firstNsec } : NEVER;
}

function earliest(a: Time, b: Time): Time {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec) ? a : b;
}

/**
 * The k-way merge of the members' packets (module comment). A member's packets go out without a look at
 * the others while they are earlier than every other open member's head and every unopened member's first
 * packet (`limit`): in a batch already stored, and as the reader parses them (cursor.ts PassThrough), so a
 * rotation set streams file after file. A packet at exactly `limit` waits for the heap, which breaks the tie.
 */
async function merge(members: Member[], onPacket: SetPacketCallback, pool: BufferPool, signal: AbortSignal | undefined): Promise<void> {
  const pending = members.filter((m) => m.result === null);
  let next = 0;
  const heap = new CursorHeap();
  let frame = 0;
  // One pass-through for the whole merge, pointed at each file in turn: a new closure per file made the
  // readers' call sites see a new function each time (deoptimizations; bench/NOTES.md).
  let passing = 0;
  const pass: PassThrough = { sec: 0, nsec: 0, deliver: (p) => onPacket(p, passing, ++frame) };
  const through = (m: Member, limit: Time): PassThrough => {
    passing = m.index;
    pass.sec = limit.sec;
    pass.nsec = limit.nsec;
    return pass;
  };
  const buffers = new Map<Member, Buffer>();
  const open = (m: Member): void => {
    if (m.cursor) return;
    const buffer = pool.take(m.chunk);
    buffers.set(m, buffer);
    m.cursor = new PacketCursor(m.input, readOptions(m, m.chunk, buffer, signal));
  };
  const release = async (m: Member): Promise<void> => {
    const buffer = buffers.get(m);
    if (buffer) pool.give(buffer);
    buffers.delete(m);
    // Small files are read synchronously (readers/byte-window.ts), so without this a whole set could run
    // without one turn of the event loop, and V8's tasks (among them the freeing of garbage buffers) with it.
    await new Promise<void>((resolve) => setImmediate(resolve));
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
      // Every open member's head is at or after the top's; every unopened member starts at or after the next's.
      const limit = earliest(top ? headOf(top) : NEVER, firstOf(pending[next]));
      if (await waiting.cursor!.fill(through(waiting, limit))) {
        heap.push(waiting);
      } else {
        waiting.result = await waiting.cursor!.finished();
        waiting.cursor = null;
        await release(waiting);
      }
      continue;
    }
    if (!top) return;
    const cursor = top.cursor!;
    const limit = earliest(heap.size > 1 ? heap.secondHead() : NEVER, firstOf(waiting ?? undefined));
    let more: boolean;
    do {
      onPacket(cursor.packet, top.index, ++frame);
      more = cursor.step();
    } while (more && (cursor.packet.tsSec < limit.sec || (cursor.packet.tsSec === limit.sec && cursor.packet.tsNsec < limit.nsec)));
    if (!more && !(await cursor.fill(through(top, limit)))) {
      heap.pop();
      top.result = await cursor.finished();
      top.cursor = null;
      await release(top);
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
  secondHead(): Time {
    return headOf(this.second());
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
