/**
 * IPv6 and its extension headers (hop-by-hop, routing, fragment, destination options, AH), walked in a
 * bounded loop. Payload length 0 (a jumbogram, or a segmentation-offloaded capture) means "the rest of
 * the frame". An atomic fragment (offset 0, no more fragments) is an ordinary datagram; any other
 * fragment carries no TCP header in its own frame as tshark shows it.
 */
import { u16 } from './bytes.js';
import { decodeIpPayload } from './ipproto.js';
import { frameState } from './state.js';
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
  const pwend = end < wend ? end : wend;
  const pcend = pwend < cend ? pwend : cend;

  frameState.ipOffset = off;
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
      if ((offFlags & 0xfff9) !== 0) return DecodeStatus.NotTcp;
      next = d[p]!;
      p += 8;
    } else {
      if (p > pcend) return DecodeStatus.Malformed;
      return decodeIpPayload(next, d, p, pcend, pwend, out, depth);
    }
  }
  return DecodeStatus.Malformed;
}
