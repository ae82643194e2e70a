/**
 * The pcapng side of the recorder: writes batches of EPBs (laid out by the addon, see EPB_LAYOUT), one IDB per
 * (interface, link type) actually seen, rotation with SHB + IDBs re-emitted in every file, and ISBs with
 * the kernel counters at every file close. It only sees bytes, so the same code path runs on records
 * fed from a capture file in tests (see test/recorder/sink.test.ts).
 *
 * Hot path: one synchronous loop per batch that patches two fields per packet in place (interface id,
 * monotonic -> wall clock), then one copy of the batch into the writer; no per-packet promise or
 * allocation (unless -C/-G rotation is on, which needs each packet's time as a bigint). It awaits only to
 * rotate a file, add an interface, or when the writer has more than its high-water mark waiting for the disk.
 */
import { hostname, release, type } from 'node:os';
import { EPB_LAYOUT, type IdbOptions } from './pcapng/blocks.js';
import { epbBatchFromRecords } from './epb-batch.js';
import { PcapngFileWriter } from './pcapng/writer.js';
import type { Rotation } from './rotate.js';
import type { MonotonicToWall } from './clock.js';
import { RECORD, type InterfaceCounters } from '../native/index.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

const INTERFACE_WORD = EPB_LAYOUT.interfaceId / 4;
const TS_HIGH_WORD = EPB_LAYOUT.tsHigh / 4;
const TS_LOW_WORD = EPB_LAYOUT.tsLow / 4;
const MIN_EPB = EPB_LAYOUT.data + EPB_LAYOUT.trailerSize;

export interface SinkOptions {
  rotation: Rotation;
  clock: MonotonicToWall;
  /** IDB snaplen: the most bytes one record can carry under -s. */
  snaplen: number;
  /** Name of an interface by index (null when it is gone). */
  interfaceName(ifindex: number): string | null;
  /** Current kernel counters, for the ISBs written at each file close. */
  counters(): InterfaceCounters[];
  /** -c: stop after this many packets. */
  maxPackets?: number;
  /** Called once when -c is reached or -G/-W has written its last file: the recorder then stops. */
  onDone(reason: 'count' | 'files'): void;
  fileMode?: number;
  /** Called after each file is closed (complete and valid). */
  onFileClosed?(path: string): void;
}

interface SinkInterface {
  ifindex: number;
  idb: IdbOptions;
}

export class PcapngSink {
  readonly files: string[] = [];
  #o: SinkOptions;
  #writer: PcapngFileWriter | null = null;
  #interfaces: SinkInterface[] = [];
  /** (ifindex * 4 + link) -> interface id, the same in every file. */
  #ids = new Map<number, number>();
  #captured = 0;
  #packetsInFile = 0;
  #startNs = 0n;
  #done = false;

  constructor(options: SinkOptions) {
    this.#o = options;
  }

  /** Packets written so far. */
  get captured(): number {
    return this.#captured;
  }

  /** Opens the first file; the SHB is flushed at once so even a file killed at once is a valid capture. */
  async open(nowNs: bigint): Promise<void> {
    this.#startNs = nowNs;
    await this.#openFile(this.#o.rotation.first(nowNs));
  }

  /** Writes ring records (bpf/snapshot.h) back to back, each padded to RECORD.recordAlign: records fed from a capture. */
  async writeBatch(records: Buffer, count: number): Promise<void> {
    await this.writeEpbBatch(epbBatchFromRecords(records, count), count);
  }

  /**
   * Writes one batch as the addon delivers it: `count` EPBs back to back (EPB_LAYOUT) whose interface id
   * word holds ifindex * keyLinks + link and whose timestamp is CLOCK_MONOTONIC. Per packet this only
   * patches those two fields in place; the batch then goes to the writer in one piece (or one piece per
   * file when it rotates mid-batch). The batch is modified.
   */
  async writeEpbBatch(batch: Buffer, count: number): Promise<void> {
    if (this.#done || count === 0) return;
    // The addon's buffers are malloc'd and records fed from captures are fresh allocations, so this view
    // is always possible; copy otherwise rather than fail.
    const bytes = batch.byteOffset % 4 === 0 ? batch : Buffer.from(batch);
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    const clock = this.#o.clock;
    const rotation = this.#o.rotation;
    const checkRotation = rotation.enabled;
    const n = Math.min(count, (this.#o.maxPackets ?? Infinity) - this.#captured);
    const end = bytes.length;
    let off = 0;
    let segmentStart = 0; // bytes [segmentStart, off) and segmentPackets packets are patched, not yet written
    let segmentPackets = 0;
    // Nearly every packet of a batch comes from the interface of the one before: skip the map lookup.
    let lastKey = -1;
    let lastId = -1;
    for (let i = 0; i < n; i++) {
      const w = off >>> 2;
      const total = words[w + 1]!;
      if (total < MIN_EPB || off + total > end) throw new RangeError(`batch: no whole EPB at byte ${off} of ${end}`);
      clock.toWallWords(words, w + TS_HIGH_WORD, w + TS_LOW_WORD);
      if (checkRotation) {
        const tsNs = (BigInt(words[w + TS_HIGH_WORD]!) << 32n) | BigInt(words[w + TS_LOW_WORD]!);
        if (rotation.shouldRotate(this.#writer!.bytesWritten + off - segmentStart, this.#packetsInFile + segmentPackets, tsNs)) {
          await this.#writeSegment(bytes, segmentStart, off, segmentPackets);
          segmentStart = off;
          segmentPackets = 0;
          if (!(await this.#rotate(tsNs))) return;
        }
      }
      const key = words[w + INTERFACE_WORD]!;
      if (key !== lastKey) {
        lastKey = key;
        const known = this.#ids.get(key);
        if (known === undefined) {
          // Its IDB goes right before its first packet, as the writer checks ids against the section.
          await this.#writeSegment(bytes, segmentStart, off, segmentPackets);
          segmentStart = off;
          segmentPackets = 0;
          lastId = this.#addInterface(key, Math.floor(key / EPB_LAYOUT.keyLinks), key % EPB_LAYOUT.keyLinks);
        } else {
          lastId = known;
        }
      }
      words[w + INTERFACE_WORD] = lastId;
      off += total;
      segmentPackets++;
    }
    await this.#writeSegment(bytes, segmentStart, off, segmentPackets);
    if (this.#captured >= (this.#o.maxPackets ?? Infinity) && !this.#done) {
      this.#done = true;
      this.#o.onDone('count');
    }
  }

  /** Hands bytes [from, to) of a patched batch to the writer; waits when the disk is behind. */
  async #writeSegment(bytes: Buffer, from: number, to: number, packets: number): Promise<void> {
    if (packets === 0) return;
    const roomy = this.#writer!.writeEncodedPackets(bytes.subarray(from, to));
    this.#captured += packets;
    this.#packetsInFile += packets;
    if (!roomy) await this.#writer!.flush(); // the disk is behind: let it catch up (the ring absorbs the wait)
  }

  /** Pushes what is buffered to disk, so a SIGKILL loses at most the time since the last flush. */
  async flush(): Promise<void> {
    await this.#writer?.flush();
  }

  /** Writes the ISBs and closes the current file. */
  async close(): Promise<void> {
    const w = this.#writer;
    if (!w) return;
    this.#writer = null;
    this.#writeStats(w);
    await w.close();
    this.#o.onFileClosed?.(w.path);
  }

  #addInterface(key: number, ifindex: number, link: number): number {
    const name = this.#o.interfaceName(ifindex) ?? `ifindex${ifindex}`;
    const idb: IdbOptions = { linktype: link === RECORD.linkRaw ? LINKTYPE_RAW : LINKTYPE_ETHERNET, snaplen: this.#o.snaplen, name, tsresol: 9 };
    const id = this.#writer!.addInterface(idb);
    this.#interfaces.push({ ifindex, idb });
    this.#ids.set(key, id);
    return id;
  }

  #writeStats(w: PcapngFileWriter): void {
    if (this.#interfaces.length === 0) return;
    const byIndex = new Map(this.#o.counters().map((c) => [c.ifindex, c]));
    const nowNs = this.#o.clock.toWallNs(process.hrtime.bigint());
    const written = new Set<number>();
    this.#interfaces.forEach((iface, id) => {
      // Counters are per interface; an interface with two link types reports them on its first IDB.
      if (written.has(iface.ifindex)) return;
      written.add(iface.ifindex);
      const c = byIndex.get(iface.ifindex);
      if (!c) return;
      w.writeStats({
        interfaceId: id, tsNs: nowNs, startNs: this.#startNs, endNs: nowNs,
        recv: BigInt(c.seen), drop: BigInt(c.dropped), filterAccept: BigInt(c.kept),
      });
    });
  }

  async #openFile(path: string): Promise<void> {
    const w = await PcapngFileWriter.open(path, { mode: this.#o.fileMode ?? 0o600 });
    w.writeSection({ userappl: 'tcplens record', os: `${type()} ${release()}`, hardware: hostname() }, this.#interfaces.map((i) => i.idb));
    await w.flush();
    this.#writer = w;
    this.#packetsInFile = 0;
    this.files.push(path);
  }

  /** Closes the current file and opens the next; false when -G/-W says recording is over. */
  async #rotate(tsNs: bigint): Promise<boolean> {
    const next = this.#o.rotation.next(tsNs);
    if (next === null) {
      this.#done = true;
      this.#o.onDone('files');
      return false;
    }
    await this.close();
    await this.#openFile(next);
    return true;
  }
}
