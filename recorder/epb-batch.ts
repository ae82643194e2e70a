/**
 * The TypeScript twin of the addon's drain thread (native/src/capture.cc, OnRecord): turns ring records
 * (bpf/snapshot.h, RECORD) into the batch form the sink writes: EPBs back to back (EPB_LAYOUT), the
 * interface id word holding ifindex * keyLinks + link and the timestamp still CLOCK_MONOTONIC. Used to
 * feed the sink records that did not come from the kernel (tests replaying a capture through the sink).
 */
import { EPB_LAYOUT } from './pcapng/blocks.js';
import { PACKET_OUTGOING, RECORD } from '../native/index.js';

const align = (n: number, to: number): number => (n + to - 1) & ~(to - 1);

/** Bytes of the EPB the addon makes of a record with `capLen` captured bytes. */
export function epbSizeForRecord(capLen: number): number {
  return EPB_LAYOUT.data + align(capLen, 4) + EPB_LAYOUT.flagsOptionSize + EPB_LAYOUT.trailerSize;
}

/** `count` records back to back (each padded to RECORD.recordAlign) -> one batch of EPBs. */
export function epbBatchFromRecords(records: Uint8Array, count: number): Buffer {
  const src = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let size = 0;
  for (let i = 0, off = 0; i < count; i++) {
    const capLen = src.getUint16(off + RECORD.capLen, true);
    size += epbSizeForRecord(capLen);
    off += align(RECORD.headerSize + capLen, RECORD.recordAlign);
  }
  const out = Buffer.alloc(size); // zero-filled: the padding after the data is already there
  const dst = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0, off = 0, at = 0; i < count; i++) {
    const capLen = src.getUint16(off + RECORD.capLen, true);
    const total = epbSizeForRecord(capLen);
    const ts = src.getBigUint64(off + RECORD.tsNs, true);
    dst.setUint32(at + EPB_LAYOUT.type, EPB_LAYOUT.blockType, true);
    dst.setUint32(at + EPB_LAYOUT.length, total, true);
    dst.setUint32(at + EPB_LAYOUT.interfaceId, src.getUint32(off + RECORD.ifindex, true) * EPB_LAYOUT.keyLinks + src.getUint8(off + RECORD.link), true);
    dst.setUint32(at + EPB_LAYOUT.tsHigh, Number(ts >> 32n), true);
    dst.setUint32(at + EPB_LAYOUT.tsLow, Number(ts & 0xffffffffn), true);
    dst.setUint32(at + EPB_LAYOUT.capLen, capLen, true);
    dst.setUint32(at + EPB_LAYOUT.wireLen, src.getUint32(off + RECORD.wireLen, true), true);
    out.set(records.subarray(off + RECORD.data, off + RECORD.data + capLen), at + EPB_LAYOUT.data);
    const opt = at + total - EPB_LAYOUT.trailerSize - EPB_LAYOUT.flagsOptionSize;
    dst.setUint32(opt, EPB_LAYOUT.flagsOptionHeader, true);
    dst.setUint32(opt + 4, src.getUint8(off + RECORD.pktType) === PACKET_OUTGOING ? EPB_LAYOUT.outbound : EPB_LAYOUT.inbound, true);
    dst.setUint32(at + total - 4, total, true);
    off += align(RECORD.headerSize + capLen, RECORD.recordAlign);
    at += total;
  }
  return out;
}
