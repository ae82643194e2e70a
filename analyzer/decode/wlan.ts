/**
 * IEEE 802.11 data frames (from PPI, radiotap, raw 802.11 captures and Aruba's GRE tunnel): the MAC header,
 * then LLC/SNAP. Protected (encrypted) frames and null-data frames carry nothing readable. An A-MSDU
 * holds several subframes; the first one holding TCP is decoded.
 */
import { u16 } from './bytes.js';
import { decodeLlc } from './ether.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

const TYPE_DATA = 2;
const FC1_TO_FROM_DS = 0x03;
const FC1_PROTECTED = 0x40;
const FC1_ORDER = 0x80;
const MAX_AMSDU_SUBFRAMES = 64;

export function decodeWlan(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 24) return DecodeStatus.NotTcp;
  const fc0 = d[off]!;
  const fc1 = d[off + 1]!;
  if (((fc0 >>> 2) & 0x03) !== TYPE_DATA) return DecodeStatus.NotTcp;
  const subtype = fc0 >>> 4;
  if (subtype & 0x04) return DecodeStatus.NotTcp; // null data: no body
  if (fc1 & FC1_PROTECTED) return DecodeStatus.NotTcp;
  let hlen = 24;
  if ((fc1 & FC1_TO_FROM_DS) === FC1_TO_FROM_DS) hlen += 6;
  let amsdu = false;
  if (subtype & 0x08) {
    // QoS data: a 2-byte QoS control field (bit 7 = A-MSDU present), and HT control when Order is set.
    if (cend - off < hlen + 2) return DecodeStatus.Malformed;
    amsdu = (d[off + hlen]! & 0x80) !== 0;
    hlen += 2;
    if (fc1 & FC1_ORDER) hlen += 4;
  }
  const body = off + hlen;
  if (!amsdu) return decodeLlc(d, body, cend, wend, out, depth + 1);
  let p = body;
  for (let n = 0; n < MAX_AMSDU_SUBFRAMES && cend - p >= 14; n++) {
    const len = u16(d, p + 12);
    const end = p + 14 + len;
    const status = decodeLlc(d, p + 14, end < cend ? end : cend, end < wend ? end : wend, out, depth + 1);
    if (status === DecodeStatus.Tcp) return status;
    p = end + ((4 - ((14 + len) & 3)) & 3);
  }
  return DecodeStatus.NotTcp;
}
