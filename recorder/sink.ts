/**
 * The pcapng side of the recorder: turns batches of ring records (bpf/snapshot.h) into EPBs, one IDB per
 * (interface, link type) actually seen, rotation with SHB + IDBs re-emitted in every file, and ISBs with
 * the kernel counters at every file close. It only sees bytes, so the same code path runs on records
 * fed from a capture file in tests (see test/recorder/sink.test.ts).
 *
 * Hot path: one synchronous loop per batch, no per-packet promise; it awaits only to rotate a file or
 * when the writer has more than its high-water mark waiting for the disk.
 */
import { hostname, release, type } from 'node:os';
import { EPB_DIRECTION_INBOUND, EPB_DIRECTION_OUTBOUND, type IdbOptions } from './pcapng/blocks.js';
import { PcapngFileWriter } from './pcapng/writer.js';
import type { Rotation } from './rotate.js';
import type { MonotonicToWall } from './clock.js';
import { PACKET_OUTGOING, RECORD, type InterfaceCounters } from '../native/index.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

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

  /** Writes the records of one ring batch (records back to back, each padded to RECORD.recordAlign). */
  async writeBatch(batch: Buffer, count: number): Promise<void> {
    let off = 0;
    const clock = this.#o.clock;
    const rotation = this.#o.rotation;
    const checkRotation = rotation.enabled;
    const limit = this.#o.maxPackets ?? Infinity;
    // Nearly every packet of a batch comes from the interface of the one before: skip the map lookup.
    let lastKey = -1;
    let lastId = -1;
    for (let i = 0; i < count && !this.#done; i++) {
      const capLen = batch.readUInt16LE(off + RECORD.capLen);
      const tsNs = clock.toWallNs(batch.readBigUInt64LE(off + RECORD.tsNs));
      if (checkRotation && rotation.shouldRotate(this.#writer!.bytesWritten, this.#packetsInFile, tsNs)) {
        if (!(await this.#rotate(tsNs))) break;
      }
      const key = batch.readUInt32LE(off + RECORD.ifindex) * 4 + batch[off + RECORD.link]!;
      if (key !== lastKey) {
        lastKey = key;
        lastId = this.#ids.get(key) ?? this.#addInterface(key, Math.floor(key / 4), key % 4);
      }
      const flags = batch[off + RECORD.pktType] === PACKET_OUTGOING ? EPB_DIRECTION_OUTBOUND : EPB_DIRECTION_INBOUND;
      // A plain Uint8Array view is cheaper to make than Buffer#subarray (no Buffer subclass construction).
      const data = new Uint8Array(batch.buffer, batch.byteOffset + off + RECORD.data, capLen);
      const roomy = this.#writer!.writePacket(lastId, tsNs, batch.readUInt32LE(off + RECORD.wireLen), data, flags);
      this.#captured++;
      this.#packetsInFile++;
      off += (RECORD.headerSize + capLen + RECORD.recordAlign - 1) & ~(RECORD.recordAlign - 1);
      if (this.#captured >= limit) {
        this.#done = true;
        this.#o.onDone('count');
      } else if (!roomy) {
        await this.#writer!.flush(); // the disk is behind: let it catch up (the ring absorbs the wait)
      }
    }
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
