/**
 * The TCP header and its options. Counting follows tshark: a frame "has TCP" as soon as the two port
 * fields were captured (tshark reads them before it adds the tcp layer, so fewer than 4 captured bytes
 * means no tcp layer at all). Every later field past the snaplen reads as 0 and sets tcpTruncated.
 */
import { u16, u32 } from './bytes.js';
import { frameState } from './state.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

// TCP option kinds decoded into fields.
const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERM = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

/** Bound on option walking: a 40-byte option area holds at most 40 options. */
const MAX_OPTIONS = 40;

/**
 * Decodes the TCP header at `off`. `cend` is the end of the captured bytes that belong to this segment,
 * `wend` the end as reported by the IP length (may lie past the capture): tcp.len is computed from it.
 * The caller has already filled the IP fields of `out`.
 */
export function decodeTcp(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket): DecodeStatus {
  if (wend - off < 4 || cend - off < 4) return DecodeStatus.Malformed;
  out.tcpOffset = off;
  frameState.tcpData = d;
  out.sport = u16(d, off);
  out.dport = u16(d, off + 2);
  if (cend - off < 20) {
    decodeTruncatedFixedHeader(d, off, cend, out);
    return DecodeStatus.Tcp;
  }
  out.seq = u32(d, off + 4);
  out.ack = u32(d, off + 8);
  const offByte = d[off + 12]!;
  out.doff = offByte >>> 4;
  out.reserved = offByte & 0x0f;
  out.flags = d[off + 13]!;
  out.win = u16(d, off + 14);
  out.urp = u16(d, off + 18);
  const hlen = out.doff * 4;
  if (hlen < 20) {
    // tshark stops at "bogus header length": the frame is TCP but carries no segment length.
    out.payloadLen = 0;
    return DecodeStatus.Tcp;
  }
  const seglen = wend - off - hlen;
  out.payloadLen = seglen > 0 ? seglen : 0;
  let optEnd = off + hlen;
  if (optEnd > cend) {
    out.tcpTruncated = true;
    optEnd = cend;
  }
  if (hlen > 20) decodeOptions(d, off + 20, optEnd, out);
  return DecodeStatus.Tcp;
}

/** Fills what the capture holds of the 20 fixed bytes; the rest stays 0. */
function decodeTruncatedFixedHeader(d: Uint8Array, off: number, cend: number, out: DecodedPacket): void {
  out.tcpTruncated = true;
  const have = cend - off;
  if (have >= 8) out.seq = u32(d, off + 4);
  if (have >= 12) out.ack = u32(d, off + 8);
  if (have >= 13) {
    out.doff = d[off + 12]! >>> 4;
    out.reserved = d[off + 12]! & 0x0f;
  }
  if (have >= 14) out.flags = d[off + 13]!;
  if (have >= 16) out.win = u16(d, off + 14);
  if (have >= 20) out.urp = u16(d, off + 18);
}

/**
 * Walks the option area [off, end). Malformed options (a length below 2, or one running past the header)
 * stop the walk, as tshark does; options of an unexpected length are ignored, never read past `end`.
 */
export function decodeOptions(d: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  let p = off;
  for (let n = 0; n < MAX_OPTIONS && p < end; n++) {
    const kind = d[p]!;
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return;
    const len = d[p + 1]!;
    if (len < 2 || p + len > end) return;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) out.mss = u16(d, p + 2);
        break;
      case OPT_WSCALE:
        if (len === 3) out.wscale = d[p + 2]!;
        break;
      case OPT_SACK_PERM:
        if (len === 2) out.sackPerm = true;
        break;
      case OPT_TIMESTAMP:
        if (len === 10) {
          out.tsval = u32(d, p + 2);
          out.tsecr = u32(d, p + 6);
        }
        break;
      case OPT_SACK:
        decodeSack(d, p + 2, p + len, out);
        break;
      default:
        break;
    }
    p += len;
  }
}

/** SACK blocks: pairs of 32-bit edges; a trailing partial block is ignored. Allocates only here. */
function decodeSack(d: Uint8Array, off: number, end: number, out: DecodedPacket): void {
  const blocks = (end - off) >>> 3;
  if (blocks === 0) return;
  const edges: number[] = out.sackBlocks ?? [];
  for (let i = 0; i < blocks; i++) {
    edges.push(u32(d, off + 8 * i), u32(d, off + 8 * i + 4));
  }
  out.sackBlocks = edges;
}
