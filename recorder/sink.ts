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
import { describeErrno } from './file-errors.js';
import type { Rotation } from './rotate.js';
import { RECORD, type InterfaceCounters, type OutputEvent, type OutputReply, type OutputTarget } from '../native/index.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

export interface SinkOptions {
  rotation: Rotation;
  /** Wall-clock time now, ns since the Unix epoch: the ISBs' timestamps. */
  now(): bigint;
  /** IDB snaplen: the most bytes one record can carry under -s. */
  snaplen: number;
  /** Name of an interface by index (null when it is gone). */
  interfaceName(ifindex: number): string | null;
  /** Current kernel counters, for the ISBs written at each file close. */
  counters(): InterfaceCounters[];
  /** Called once when -c is reached or -G/-W has written its last file: the recorder then stops. */
  onDone(reason: 'count' | 'files'): void;
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

  constructor(options: SinkOptions) {
    this.#o = options;
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
        case 'error':
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
    } finally {
      closeSync(fd);
    }
  }

  /** Adds the interface of `key` (ifindex * 4 + link) with the next id; returns its IDB. */
  #describe(key: number): IdbOptions {
    const ifindex = Math.floor(key / EPB_LAYOUT.keyLinks);
    const link = key % EPB_LAYOUT.keyLinks;
    const name = this.#o.interfaceName(ifindex) ?? `ifindex${ifindex}`;
    const idb: IdbOptions = { linktype: link === RECORD.linkRaw ? LINKTYPE_RAW : LINKTYPE_ETHERNET, snaplen: this.#o.snaplen, name, tsresol: 9 };
    this.#interfaces.push({ ifindex, idb });
    return idb;
  }

  #addInterface(key: number, fileBytes: number): OutputReply {
    const block = encodeIdb(this.#describe(key));
    writeAt(this.#fd!, block, fileBytes);
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
    const fd = createCaptureFile(path, this.#o.fileMode ?? 0o600);
    const blocks = [
      encodeShb({ userappl: 'tcplens record', os: `${type()} ${release()}`, hardware: hostname() }),
      ...this.#interfaces.map((i) => encodeIdb(i.idb)),
    ];
    let size = 0;
    try {
      for (const b of blocks) size += writeAt(fd, b, size);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.#fd = fd;
    this.files.push(path);
    return { fd, fileBytes: size, rotateAtNs: this.#o.rotation.deadlineNs ?? 0n };
  }

  #writeStats(fd: number, fileBytes: number): void {
    if (this.#interfaces.length === 0) return;
    const byIndex = new Map(this.#o.counters().map((c) => [c.ifindex, c]));
    const nowNs = this.#o.now();
    const written = new Set<number>();
    let at = fileBytes;
    this.#interfaces.forEach((iface, id) => {
      // Counters are per interface; an interface with two link types reports them on its first IDB.
      if (written.has(iface.ifindex)) return;
      written.add(iface.ifindex);
      const c = byIndex.get(iface.ifindex);
      if (!c) return;
      at += writeAt(fd, encodeIsb({
        interfaceId: id, tsNs: nowNs, startNs: this.#startNs, endNs: nowNs,
        recv: BigInt(c.seen), drop: BigInt(c.dropped), filterAccept: BigInt(c.kept),
      }), at);
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

/** Writes a whole block at `position`; returns its length. */
function writeAt(fd: number, block: Uint8Array, position: number): number {
  for (let done = 0; done < block.length;) done += writeSync(fd, block, done, block.length - done, position + done);
  return block.length;
}
