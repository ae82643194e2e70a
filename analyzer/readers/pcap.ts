/**
 * Classic libpcap files: a 24-byte file header, then 16-byte record headers each followed by the captured
 * bytes. Magic a1b2c3d4 means microsecond timestamps, a1b23c4d nanoseconds; either may be stored in
 * either byte order, which the magic's byte order tells.
 *
 * The hot loop walks whole records in the window synchronously and hands one reused RawPacket to the
 * callback; it leaves the loop only to refill the window, so there is no await and no allocation per
 * packet: the packet points into the window (RawPacket.bytes and offset).
 */
import { CaptureError } from '../../common/errors.js';
import type { ByteWindow } from './byte-window.js';
import { MAX_RECORD_BYTES, newInterface, newRawPacket, warn } from './common.js';
import type { PacketCallback, ReadResult } from './types.js';

const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;

/** Link-type field: bits 0-15 LINKTYPE, 16-25 reserved (must be 0), 26-31 FCS length information. */
const LINKTYPE_MASK = 0xffff;
const LINKTYPE_RESERVED_MASK = 0x03ff0000;

/** Recognises a pcap magic in the first 4 bytes; returns null when it is not one. */
export function pcapMagic(b: Uint8Array): { littleEndian: boolean; nanos: boolean } | null {
  const be = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const le = ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0;
  if (be === 0xa1b2c3d4) return { littleEndian: false, nanos: false };
  if (le === 0xa1b2c3d4) return { littleEndian: true, nanos: false };
  if (be === 0xa1b23c4d) return { littleEndian: false, nanos: true };
  if (le === 0xa1b23c4d) return { littleEndian: true, nanos: true };
  return null;
}

/**
 * Reads a pcap file whose first bytes are in `win` (the caller checked the magic). Damage ends the read
 * with `result.error` set; everything before it has been delivered.
 */
export async function readPcap(
  win: ByteWindow, result: ReadResult, onPacket: PacketCallback, signal: AbortSignal | undefined,
): Promise<void> {
  const file = result.path;
  result.format = 'pcap';
  if (!(await win.refill(FILE_HEADER_BYTES))) {
    throw new CaptureError(file, win.available, `a 24-byte pcap file header, but the file ends after ${win.available} bytes`);
  }
  const magic = pcapMagic(win.buf.subarray(win.start, win.start + 4))!;
  const le = magic.littleEndian;
  let dv = new DataView(win.buf.buffer, win.buf.byteOffset, win.buf.byteLength);
  const h = win.start;
  const major = dv.getUint16(h + 4, le);
  const minor = dv.getUint16(h + 6, le);
  if (major !== 2) throw new CaptureError(file, 4, `pcap major version 2, found ${major}.${minor}`);
  const snaplen = dv.getUint32(h + 16, le);
  const linkField = dv.getUint32(h + 20, le);
  if ((linkField & LINKTYPE_RESERVED_MASK) !== 0) {
    throw new CaptureError(file, 20, `link-type reserved bits 16-25 to be zero, found 0x${linkField.toString(16)}`);
  }
  const linktype = linkField & LINKTYPE_MASK;
  const iface = newInterface(0, 0, linktype, snaplen, { base: 10, exponent: magic.nanos ? 9 : 6 });
  result.interfaces.push(iface);
  win.start += FILE_HEADER_BYTES;

  // A record longer than the header's snaplen is damage, except that many writers put 0 or a small
  // bogus value in the header: then the standard maximum snapshot length (262144) is the limit.
  const capLimit = Math.min(MAX_RECORD_BYTES, Math.max(snaplen, 262144));
  const fracToNs = magic.nanos ? 1 : 1000;
  const fracPerSec = magic.nanos ? 1e9 : 1e6;
  const pkt = newRawPacket();
  pkt.linktype = linktype;
  let frame = 0;
  let fracWarned = false;
  let snapWarned = false;

  for (;;) {
    const buf = win.buf;
    if (dv.buffer !== buf.buffer) dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    pkt.bytes = win.bytes;
    let p = win.start;
    const end = win.end;
    let need = RECORD_HEADER_BYTES;
    while (end - p >= RECORD_HEADER_BYTES) {
      const capLen = dv.getUint32(p + 8, le);
      if (capLen > capLimit) {
        win.start = p;
        result.packets = frame;
        throw new CaptureError(file, win.offset + 8,
          `a captured length of at most ${capLimit} (snaplen ${snaplen}), found ${capLen}`);
      }
      if (end - p < RECORD_HEADER_BYTES + capLen) {
        need = RECORD_HEADER_BYTES + capLen;
        break;
      }
      if (capLen > snaplen && snaplen !== 0 && !snapWarned) {
        snapWarned = true;
        warn(result, `frame ${frame + 1}: captured length ${capLen} is larger than the header's snaplen ${snaplen}`);
      }
      let sec = dv.getUint32(p, le);
      let frac = dv.getUint32(p + 4, le);
      if (frac >= fracPerSec) {
        // Out-of-range fraction (seen in fuzzed files): carry it into the seconds rather than emit an
        // impossible time. tshark prints such values unnormalised; noted once.
        sec += Math.floor(frac / fracPerSec);
        frac %= fracPerSec;
        if (!fracWarned) {
          fracWarned = true;
          warn(result, `frame ${frame + 1}: timestamp fraction out of range, carried into seconds`);
        }
      }
      pkt.frame = ++frame;
      pkt.tsSec = sec;
      pkt.tsNsec = frac * fracToNs;
      pkt.capLen = capLen;
      pkt.wireLen = dv.getUint32(p + 12, le);
      pkt.fileOffset = win.base + p;
      pkt.offset = p + RECORD_HEADER_BYTES;
      onPacket(pkt);
      p += RECORD_HEADER_BYTES + capLen;
    }
    win.start = p;
    result.packets = frame;
    if (signal?.aborted) throw signal.reason;
    if (win.available === 0 && win.eof) return;
    if (!(await win.refill(need))) {
      if (win.available === 0) return;
      const what = need === RECORD_HEADER_BYTES || win.available < RECORD_HEADER_BYTES
        ? 'a 16-byte pcap record header'
        : `a ${need}-byte record (16-byte header + ${need - RECORD_HEADER_BYTES} bytes of packet data)`;
      throw new CaptureError(file, win.offset, `${what}, but the file ends after ${win.available} bytes`);
    }
  }
}
