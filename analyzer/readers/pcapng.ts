/**
 * pcapng files: a sequence of blocks (type, total length, body, total length again), grouped in sections
 * that each start with a Section Header Block. Each section has its own byte order (told by the SHB's
 * byte-order magic) and its own interfaces (IDBs); interface ids in packet blocks are per section and are
 * mapped here to one global index across the file.
 *
 * Kept: SHB (comments), IDB (link type, snaplen, if_name, if_description, if_tsresol, if_tsoffset), EPB,
 * SPB and the obsolete PB (packets), ISB (isb_ifrecv / isb_ifdrop into the interface's recv/drop).
 * Skipped: NRB, DSB, custom blocks (counted: tshark shows them as frames) and any unknown block type.
 *
 * Like the pcap reader, whole blocks are walked in place in a window filled by large reads; enhanced
 * packet blocks are handled inline in the loop with one reused RawPacket.
 */
import { CaptureError } from '../../common/errors.js';
import type { ByteWindow } from './byte-window.js';
import { MAX_RECORD_BYTES, newInterface, newRawPacket, warn } from './common.js';
import { TimestampConverter } from './timestamp.js';
import type { InterfaceInfo, PacketCallback, ReadResult, TsResolution } from './types.js';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const PB_OBSOLETE = 2;
const SPB = 3;
const NRB = 4;
const ISB = 5;
const EPB = 6;
const DSB = 0x0a;
const CB_COPY = 0x00000bad;
const CB_NOCOPY = 0x40000bad;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const MIN_BLOCK = 12;
/** A block may hold one record of MAX_RECORD_BYTES plus its fixed fields and some options. */
const MAX_BLOCK = MAX_RECORD_BYTES + (1 << 16);
/** epb_flags / pack_flags: the option code of the flags word in both packet block types. */
const OPT_PACKET_FLAGS = 2;
const MAX_COMMENTS = 1000;

/** What packets of one interface need, per section. */
interface SectionInterface {
  info: InterfaceInfo;
  ts: TimestampConverter;
}

export const PCAPNG_MAGIC = SHB;

export async function readPcapng(
  win: ByteWindow, result: ReadResult, onPacket: PacketCallback, signal: AbortSignal | undefined,
): Promise<void> {
  await new PcapngReader(win, result, onPacket).run(signal);
}

class PcapngReader {
  private le = true;
  private section = -1;
  private ifaces: SectionInterface[] = [];
  private frame = 0;
  private readonly pkt = newRawPacket();
  private readonly file: string;
  private readonly unknownTypes = new Set<number>();
  private dv: DataView;

  constructor(private readonly win: ByteWindow, private readonly result: ReadResult, private readonly onPacket: PacketCallback) {
    this.file = result.path;
    result.format = 'pcapng';
    this.dv = new DataView(win.buf.buffer, win.buf.byteOffset, win.buf.byteLength);
  }

  private fail(offset: number, expected: string): never {
    throw new CaptureError(this.file, offset, expected);
  }

  async run(signal: AbortSignal | undefined): Promise<void> {
    const win = this.win;
    for (;;) {
      const need = this.walkBlocks();
      if (signal?.aborted) throw signal.reason;
      if (win.available === 0 && win.eof) return;
      if (!(await win.refill(need))) {
        if (win.available === 0) return;
        const what = need <= MIN_BLOCK ? 'a 12-byte block header' : `a ${need}-byte block (its total length)`;
        this.fail(win.offset, `${what}, but the file ends after ${win.available} bytes`);
      }
    }
  }

  /**
   * Handles every whole block in the window; returns how many bytes the next block needs from
   * `win.start` (the caller refills that much).
   */
  private walkBlocks(): number {
    const win = this.win;
    const buf = win.buf;
    if (this.dv.buffer !== buf.buffer) this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const dv = this.dv;
    const end = win.end;
    let p = win.start;
    try {
      while (end - p >= MIN_BLOCK) {
        let le = this.le;
        const type = dv.getUint32(p, le);
        if (type === SHB) {
          // The SHB is read before its byte order is known: the magic after the length tells it.
          const bom = dv.getUint32(p + 8, true);
          if (bom === BYTE_ORDER_MAGIC) le = true;
          else if (bom === 0x4d3c2b1a) le = false;
          else this.fail(win.base + p + 8, `the pcapng byte-order magic 1a2b3c4d, found ${bom.toString(16).padStart(8, '0')}`);
        } else if (this.section < 0) {
          this.fail(win.base + p, 'a Section Header Block (0a0d0d0a) first');
        }
        const len = dv.getUint32(p + 4, le);
        if (len < MIN_BLOCK || len % 4 !== 0 || len > MAX_BLOCK) {
          this.fail(win.base + p + 4, `a block total length that is a multiple of 4 between 12 and ${MAX_BLOCK}, found ${len}`);
        }
        if (end - p < len) return len;
        const trailer = dv.getUint32(p + len - 4, le);
        if (trailer !== len) {
          this.fail(win.base + p + len - 4, `the trailing block total length to repeat the leading one (${len}), found ${trailer}`);
        }
        if (type === EPB) {
          // The hot path: tested first, before the switch over rarer block types.
          this.packetRecord(p, len, dv.getUint32(p + 8, le), 'an Enhanced Packet Block');
        } else {
          this.otherBlock(type, p, len, le);
        }
        p += len;
      }
      return MIN_BLOCK;
    } finally {
      win.start = p;
    }
  }

  private otherBlock(type: number, p: number, len: number, le: boolean): void {
    switch (type) {
      case SHB: return this.sectionHeader(p, len, le);
      case IDB: return this.interfaceDescription(p, len);
      case SPB: return this.simplePacket(p, len);
      case PB_OBSOLETE: return this.obsoletePacket(p, len);
      case ISB: return this.interfaceStatistics(p, len);
      case NRB:
      case DSB:
        return;
      case CB_COPY:
      case CB_NOCOPY:
        // Not a packet, but tshark numbers it as a frame: keep frame numbers equal to tshark's.
        this.frame++;
        this.result.customBlocks++;
        return;
      default:
        if (!this.unknownTypes.has(type)) {
          this.unknownTypes.add(type);
          warn(this.result, `skipped block type 0x${type.toString(16).padStart(8, '0')} (first at byte ${this.win.base + p})`);
        }
    }
  }

  private sectionHeader(p: number, len: number, le: boolean): void {
    const dv = this.dv;
    if (len < 28) this.fail(this.win.base + p + 4, `a Section Header Block of at least 28 bytes, found ${len}`);
    const major = dv.getUint16(p + 12, le);
    const minor = dv.getUint16(p + 14, le);
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      this.fail(this.win.base + p + 12, `pcapng version 1.0, found ${major}.${minor}`);
    }
    this.le = le;
    this.section++;
    this.ifaces = [];
    this.eachOption(p + 24, p + len - 4, (code, off, olen) => {
      if (code === 1 && this.result.comments.length < MAX_COMMENTS) this.result.comments.push(this.text(off, olen));
    });
  }

  private interfaceDescription(p: number, len: number): void {
    const dv = this.dv;
    const le = this.le;
    if (len < 20) this.fail(this.win.base + p + 4, `an Interface Description Block of at least 20 bytes, found ${len}`);
    const tsresol: TsResolution = { base: 10, exponent: 6 };
    const info = newInterface(this.result.interfaces.length, this.section, dv.getUint16(p + 8, le), dv.getUint32(p + 12, le), tsresol);
    this.eachOption(p + 16, p + len - 4, (code, off, olen) => {
      if (code === 2) info.name = this.text(off, olen);
      else if (code === 3) info.description = this.text(off, olen);
      else if (code === 9 && olen >= 1) {
        const v = dv.getUint8(off);
        tsresol.base = v & 0x80 ? 2 : 10;
        tsresol.exponent = v & 0x7f;
      } else if (code === 14 && olen >= 8) {
        info.tsoffset = this.u64(off, true);
      } else if (code === 1 && this.result.comments.length < MAX_COMMENTS) {
        this.result.comments.push(this.text(off, olen));
      }
    });
    this.result.interfaces.push(info);
    this.ifaces.push({ info, ts: new TimestampConverter(tsresol, info.tsoffset) });
  }

  private simplePacket(p: number, len: number): void {
    if (len < 16) this.fail(this.win.base + p + 4, `a Simple Packet Block of at least 16 bytes, found ${len}`);
    const iface = this.ifaces[0];
    if (iface === undefined) this.fail(this.win.base + p, 'an Interface Description Block before a Simple Packet Block');
    const wireLen = this.dv.getUint32(p + 8, this.le);
    // The SPB has no captured length: it is the original length cut to the snaplen and the block.
    let capLen = Math.min(wireLen, len - 16);
    if (iface.info.snaplen !== 0) capLen = Math.min(capLen, iface.info.snaplen);
    const pkt = this.pkt;
    pkt.frame = ++this.frame;
    pkt.interfaceId = iface.info.id;
    pkt.linktype = iface.info.linktype;
    pkt.tsSec = 0;
    pkt.tsNsec = 0;
    pkt.hasTimestamp = false;
    pkt.capLen = capLen;
    pkt.wireLen = wireLen;
    pkt.fileOffset = this.win.base + p;
    pkt.flags = 0;
    pkt.bytes = this.win.bytes;
    pkt.offset = p + 12;
    this.result.packets++;
    this.onPacket(pkt);
  }

  /** Packet Block (type 2), obsolete but still written by old tools: 16-bit interface id and drop count. */
  private obsoletePacket(p: number, len: number): void {
    this.packetRecord(p, len, this.dv.getUint16(p + 8, this.le), 'a Packet Block');
  }

  /**
   * Enhanced (type 6) and obsolete (type 2) Packet Blocks share one layout after the interface id:
   * timestamp high/low, captured length, original length, data padded to 4, options (flags: code 2).
   */
  private packetRecord(p: number, len: number, ifId: number, what: string): void {
    const dv = this.dv;
    const le = this.le;
    const base = this.win.base;
    if (len < 32) this.fail(base + p + 4, `${what} of at least 32 bytes, found ${len}`);
    const iface = this.ifaces[ifId];
    if (iface === undefined) this.fail(base + p + 8, `an interface id below ${this.ifaces.length} (IDBs so far in this section), found ${ifId}`);
    const capLen = dv.getUint32(p + 20, le);
    // Checked against the cap first: the padding arithmetic below is 32-bit signed.
    const padded = (capLen + 3) & ~3;
    if (capLen > MAX_RECORD_BYTES || 28 + padded + 4 > len) this.fail(base + p + 20, `a captured length that fits in the ${len}-byte block, found ${capLen}`);
    iface.ts.convert(dv.getUint32(p + 12, le), dv.getUint32(p + 16, le));
    const pkt = this.pkt;
    pkt.frame = ++this.frame;
    pkt.interfaceId = iface.info.id;
    pkt.linktype = iface.info.linktype;
    pkt.tsSec = iface.ts.sec;
    pkt.tsNsec = iface.ts.nsec;
    pkt.hasTimestamp = true;
    pkt.capLen = capLen;
    pkt.wireLen = dv.getUint32(p + 24, le);
    pkt.fileOffset = base + p;
    pkt.flags = 0;
    const optStart = p + 28 + padded;
    if (optStart < p + len - 4) this.packetOptions(optStart, p + len - 4);
    pkt.bytes = this.win.bytes;
    pkt.offset = p + 28;
    this.result.packets++;
    this.onPacket(pkt);
  }

  private interfaceStatistics(p: number, len: number): void {
    if (len < 24) this.fail(this.win.base + p + 4, `an Interface Statistics Block of at least 24 bytes, found ${len}`);
    const ifId = this.dv.getUint32(p + 8, this.le);
    const iface = this.ifaces[ifId];
    if (iface === undefined) this.fail(this.win.base + p + 8, `an interface id below ${this.ifaces.length} (IDBs so far in this section), found ${ifId}`);
    this.eachOption(p + 20, p + len - 4, (code, off, olen) => {
      if (code === 4 && olen >= 8) iface.info.recv = this.u64(off, false);
      else if (code === 5 && olen >= 8) iface.info.drop = this.u64(off, false);
    });
  }

  /**
   * Options of EPB/PB: the flags word (code 2 in both) and comments. A loop of its own rather than
   * eachOption so that packets carrying epb_flags (every packet tcplens records) allocate no closure.
   */
  private packetOptions(start: number, end: number): void {
    const dv = this.dv;
    const le = this.le;
    let o = start;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === 0) return;
      if (o + 4 + olen > end) {
        this.fail(this.win.base + o + 2, `an option length that fits in the block (${end - o - 4} bytes left), found ${olen}`);
      }
      if (code === OPT_PACKET_FLAGS && olen >= 4) this.pkt.flags = dv.getUint32(o + 4, le);
      else if (code === 1 && this.result.comments.length < MAX_COMMENTS) {
        this.result.comments.push(`frame ${this.pkt.frame}: ${this.text(o + 4, olen)}`);
      }
      o += 4 + ((olen + 3) & ~3);
    }
  }

  /** Walks an option list (code, length, value padded to 4) that must end inside [start, end). */
  private eachOption(start: number, end: number, fn: (code: number, off: number, len: number) => void): void {
    const dv = this.dv;
    const le = this.le;
    let o = start;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === 0) return; // opt_endofopt
      if (o + 4 + olen > end) {
        this.fail(this.win.base + o + 2, `an option length that fits in the block (${end - o - 4} bytes left), found ${olen}`);
      }
      fn(code, o + 4, olen);
      o += 4 + ((olen + 3) & ~3);
    }
  }

  private text(off: number, len: number): string {
    return this.win.buf.toString('utf8', off, off + len).replace(/\0+$/, '');
  }

  private u64(off: number, signed: boolean): number {
    const dv = this.dv;
    const le = this.le;
    const hi = le ? dv.getUint32(off + 4, true) : dv.getUint32(off, false);
    const lo = le ? dv.getUint32(off, true) : dv.getUint32(off + 4, false);
    const hiSigned = signed && hi >= 0x80000000 ? hi - 4294967296 : hi;
    return hiSigned * 4294967296 + lo;
  }
}
