/**
 * The files of a recording. The addon's drain thread writes every EPB itself (native/src/epb_file.cc);
 * this side writes the blocks around them and makes the decisions that need more than a packet:
 * - open: the first file, created 0600, with its SHB, so even a file killed at once is a valid capture;
 * - 'interface' events: the IDB of an (interface, link type) seen for the first time, appended where the
 *   EPBs end, with the next id (ids stay the same in every file);
 * - 'rotate' events (-C/-G, decided per packet by the drain thread with recorder/rotate.ts's rules): ISBs,
 *   close, the next name (recorder/rotate.ts), a new file with SHB + every IDB so far;
 * - 'count' and 'error': recording is over;
 * - close: the last file's ISBs, where the drain thread's writes ended.
 * All of it is synchronous and rare: nothing here runs per packet.
 */
import { closeSync, constants as fsConstants, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
import { hostname, release, type } from 'node:os';
import { EPB_LAYOUT, encodeIdb, encodeIsb, encodeShb, type IdbOptions } from './pcapng/blocks.js';
import { describeErrno, describeFileError } from './file-errors.js';
import type { Rotation } from './rotate.js';
import { RECORD, type InterfaceCounters, type OutputEvent, type OutputReply, type OutputTarget } from '../native/index.js';

/** -w -: pcapng on standard output. */
export const STDOUT = '-';
const EPIPE = 32;

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

export interface SinkOptions {
  rotation: Rotation;
  /** Wall-clock time now, ns since the Unix epoch: the ISBs' timestamps. */
  now(): bigint;
  /** IDB snaplen: the most bytes one record can carry under -s. */
  snaplen: number;
  /** The filter expression, written in every IDB's if_filter option as dumpcap writes it. */
  filter?: string;
  /** Name of an interface by index (null when it is gone). */
  interfaceName(ifindex: number): string | null;
  /** Current kernel counters, for the ISBs written at each file close. */
  counters(): InterfaceCounters[];
  /** Called once when -c is reached or -G/-W has written its last file: the recorder then stops. */
  onDone(reason: 'count' | 'files' | 'pipe'): void;
  /** Called once when writing failed (a write, or opening the next file): the recorder then stops. */
  onFailure(err: Error): void;
  fileMode?: number;
}

interface SinkInterface {
  ifindex: number;
  idb: IdbOptions;
}

export class PcapngSink {
  readonly files: string[] = [];
  #o: SinkOptions;
  #fd: number | null = null;
  #interfaces: SinkInterface[] = [];
  #startNs = 0n;
  #finished = false;
  /** -w -: standard output, written in order (never at an offset) and never closed here. */
  #stdout: boolean;

  constructor(options: SinkOptions) {
    this.#o = options;
    this.#stdout = options.rotation.options.base === STDOUT;
  }

  /**
   * Creates the first file: its SHB and an IDB for each interface key known before capture (ids 0, 1,
   * ... in that order: pass the same keys to capture.start). The drain thread starts at the returned target.
   */
  open(nowNs: bigint, knownKeys: readonly number[] = []): OutputTarget {
    this.#startNs = nowNs;
    for (const key of knownKeys) this.#describe(key);
    return this.#openFile(this.#o.rotation.first(nowNs));
  }

  /** Answers one output event of the drain thread (pass the result to capture.resume). Never throws. */
  handle(event: OutputEvent): OutputReply {
    if (this.#finished) return { stop: true };
    try {
      switch (event.kind) {
        case 'interface':
          return this.#addInterface(event.key, event.fileBytes);
        case 'rotate':
          return this.#rotate(event.tsNs, event.fileBytes);
        case 'count':
          this.#finished = true;
          this.#o.onDone('count');
          return { stop: true };
        case 'synced':
          return {};
        case 'error':
          if (this.#stdout && event.errno === EPIPE) {
            // The reader went away (record -w - | head): stop as tcpdump does, cleanly.
            this.#finished = true;
            this.#o.onDone('pipe');
            return { stop: true };
          }
          throw new Error(`write failed: ${describeErrno(event.errno)}`);
      }
    } catch (err) {
      this.#finished = true;
      this.#o.onFailure(err instanceof Error ? err : new Error(String(err)));
      return { stop: true };
    }
  }

  /**
   * Writes the ISBs where the EPBs end (`fileBytes`, from capture.progress()) and closes the last file.
   * After a failed write (`writeStats` false) it only closes: the drain thread has cut the file back to
   * its last whole block, and on a full disk an ISB would likely end up cut.
   */
  close(fileBytes: number, writeStats = true): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      if (writeStats) this.#writeStats(fd, fileBytes);
    } catch (err) {
      if (!(this.#stdout && (err as NodeJS.ErrnoException).code === 'EPIPE')) throw err; // the reader left first
    } finally {
      if (!this.#stdout) closeSync(fd);
    }
  }

  /** Adds the interface of `key` (ifindex * 4 + link) with the next id; returns its IDB. */
  #describe(key: number): IdbOptions {
    const ifindex = Math.floor(key / EPB_LAYOUT.keyLinks);
    const link = key % EPB_LAYOUT.keyLinks;
    const name = this.#o.interfaceName(ifindex) ?? `ifindex${ifindex}`;
    const idb: IdbOptions = {
      linktype: link === RECORD.linkRaw ? LINKTYPE_RAW : LINKTYPE_ETHERNET, snaplen: this.#o.snaplen, name, tsresol: 9,
      ...(this.#o.filter !== undefined ? { filter: this.#o.filter } : {}),
    };
    this.#interfaces.push({ ifindex, idb });
    return idb;
  }

  #addInterface(key: number, fileBytes: number): OutputReply {
    const block = encodeIdb(this.#describe(key));
    writeAt(this.#fd!, block, this.#stdout ? null : fileBytes);
    return { interfaceId: this.#interfaces.length - 1, fileBytes: fileBytes + block.length };
  }

  /** Closes the current file and opens the next, or ends the recording when -G/-W says so. */
  #rotate(tsNs: bigint, fileBytes: number): OutputReply {
    const next = this.#o.rotation.next(tsNs);
    if (next === null) {
      this.#finished = true;
      this.#o.onDone('files');
      return { stop: true };
    }
    this.close(fileBytes);
    return this.#openFile(next);
  }

  #openFile(path: string): OutputTarget {
    let fd: number;
    try {
      fd = this.#stdout ? 1 : createCaptureFile(path, this.#o.fileMode ?? 0o600);
    } catch (err) {
      throw new Error(`${path}: cannot create: ${describeFileError((err as NodeJS.ErrnoException).code)}`);
    }
    const blocks = [
      encodeShb({ userappl: 'tcplens record', os: `${type()} ${release()}`, hardware: hostname() }),
      ...this.#interfaces.map((i) => encodeIdb(i.idb)),
    ];
    let size = 0;
    try {
      for (const b of blocks) size += writeAt(fd, b, this.#stdout ? null : size);
    } catch (err) {
      if (!this.#stdout) closeSync(fd);
      throw err;
    }
    this.#fd = fd;
    this.files.push(this.#stdout ? '<stdout>' : path);
    return { fd, fileBytes: size, rotateAtNs: this.#o.rotation.deadlineNs ?? 0n, sequential: this.#stdout };
  }

  #writeStats(fd: number, fileBytes: number): void {
    if (this.#interfaces.length === 0) return;
    const byIndex = new Map(this.#o.counters().map((c) => [c.ifindex, c]));
    const nowNs = this.#o.now();
    const written = new Set<number>();
    let at: number | null = this.#stdout ? null : fileBytes;
    this.#interfaces.forEach((iface, id) => {
      // Counters are per interface; an interface with two link types reports them on its first IDB.
      if (written.has(iface.ifindex)) return;
      written.add(iface.ifindex);
      const c = byIndex.get(iface.ifindex);
      if (!c) return;
      const n = writeAt(fd, encodeIsb({
        interfaceId: id, tsNs: nowNs, startNs: this.#startNs, endNs: nowNs,
        recv: BigInt(c.seen), drop: BigInt(c.dropped), filterAccept: BigInt(c.kept),
      }), at);
      if (at !== null) at += n;
    });
  }
}

/**
 * Creates (or truncates) a capture file with exactly `mode`, refusing a symbolic link at `path` (the
 * recorder runs as root and may write into shared directories). A device or pipe keeps its permissions.
 */
function createCaptureFile(path: string, mode: number): number {
  const fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, mode);
  try {
    if (fstatSync(fd).isFile()) fchmodSync(fd, mode); // open() applies the mode through the umask, and only to a new file
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Writes a whole block at `position` (null: where the stream is, for standard output); returns its length. */
function writeAt(fd: number, block: Uint8Array, position: number | null): number {
  let waits = 0;
  for (let done = 0; done < block.length;) {
    try {
      done += writeSync(fd, block, done, block.length - done, position === null ? null : position + done);
    } catch (err) {
      // A non-blocking pipe that is full: its reader is slow, wait for it (1 ms at a time, 60 s at most).
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++waits > 60_000) throw err;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
  return block.length;
}
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
