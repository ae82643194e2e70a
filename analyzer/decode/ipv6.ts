/**
 * IPv6 and its extension headers (hop-by-hop, routing, fragment, destination options, AH), walked in a
 * bounded loop. Payload length 0 (a jumbogram, or a segmentation-offloaded capture) means "the rest of
 * the frame". An atomic fragment (offset 0, no more fragments) is an ordinary datagram; other fragments
 * are reassembled as tshark does (reassembly.ts).
 */
import { ipv6Text } from './address.js';
import { u16, u32 } from './bytes.js';
import { completed, HEAD_BYTES } from './reassembly.js';
import { decodeIpPayload } from './ipproto.js';
import { frameState, takeLengthFieldCut } from './state.js';
import { foldOuterIpLayer } from './tunnel-id.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

const NH_HOP_BY_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_DEST_OPTS = 60;
const MAX_EXT_HEADERS = 16;

export function decodeIpv6(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 40) return DecodeStatus.Malformed;
  let payloadLen = u16(d, off + 4);
  if (payloadLen === 0) payloadLen = wend - off - 40;
  const end = off + 40 + payloadLen;
  out.lengthFieldCut = takeLengthFieldCut(end, wend);
  const pwend = end < wend ? end : wend;
  const pcend = pwend < cend ? pwend : cend;

  foldOuterIpLayer();
  frameState.ipOffset = off;
  frameState.ipData = d;
  frameState.ipVersion = 6;
  frameState.ipLayers++;
  out.ipVersion = 6;
  out.ttl = d[off + 7]!;
  out.ipId = -1;

  let next = d[off + 6]!;
  let p = off + 40;
  for (let n = 0; n < MAX_EXT_HEADERS; n++) {
    if (next === NH_HOP_BY_HOP || next === NH_ROUTING || next === NH_DEST_OPTS) {
      if (pcend - p < 2) return DecodeStatus.Malformed;
      next = d[p]!;
      p += (d[p + 1]! + 1) * 8;
    } else if (next === NH_AH) {
      if (pcend - p < 2) return DecodeStatus.Malformed;
      next = d[p]!;
      p += (d[p + 1]! + 2) * 4;
    } else if (next === NH_FRAGMENT) {
      if (pcend - p < 8) return DecodeStatus.Malformed;
      const offFlags = u16(d, p + 2);
      next = d[p]!;
      p += 8;
      if ((offFlags & 0xfff9) !== 0) {
        // A real fragment (not an atomic one): reassembled when captured whole, as tshark does.
        if (cend >= end && end > p) return reassembleIpv6(d, off, p - 8, end, offFlags, next, out, depth);
        if ((offFlags & 0xfff8) !== 0) return DecodeStatus.NotTcp;
      }
    } else {
      if (p > pcend) return DecodeStatus.Malformed;
      return decodeIpPayload(next, d, p, pcend, pwend, out, depth);
    }
  }
  return DecodeStatus.Malformed;
}

function reassembleIpv6(
  d: Uint8Array, off: number, fragHeader: number, end: number, offFlags: number, next: number, out: DecodedPacket, depth: number,
): DecodeStatus {
  const key = `6 ${ipv6Text(d, off + 8)} ${ipv6Text(d, off + 24)} ${u32(d, fragHeader + 4)}`;
  const data = fragHeader + 8;
  const done = frameState.fragments.add(key, offFlags & 0xfff8, (offFlags & 1) !== 0, d, data, end - data);
  if (!done) return DecodeStatus.NotTcp;
  const head = completed.head;
  const length = completed.length;
  return decodeIpPayload(next, head, 0, length < HEAD_BYTES ? length : HEAD_BYTES, length, out, depth);
}
