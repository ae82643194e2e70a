/**
 * IPv4. The header length (IHL) skips options; the total length bounds the payload (an Ethernet trailer
 * is not payload). As tshark does with its default "support TSO" preference, a total length of 0 means
 * "the rest of the frame". Fragments are reassembled as tshark does (reassembly.ts): the TCP header of a
 * fragmented datagram is reported on the frame that completes it, not on the first fragment.
 */
import { u16, u32 } from './bytes.js';
import { completed, HEAD_BYTES } from './reassembly.js';
import { decodeIpPayload } from './ipproto.js';
import { frameState, takeLengthFieldCut } from './state.js';
import { foldOuterIpLayer } from './tunnel-id.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

export function decodeIpv4(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 20) return DecodeStatus.Malformed;
  const vihl = d[off]!;
  const hlen = (vihl & 0x0f) * 4;
  if (hlen < 20 || cend - off < hlen) return DecodeStatus.Malformed;
  let totalLen = u16(d, off + 2);
  if (totalLen === 0) totalLen = wend - off;
  if (totalLen < hlen) return DecodeStatus.Malformed;
  const end = off + totalLen;
  out.lengthFieldCut = takeLengthFieldCut(end, wend);
  const pwend = end < wend ? end : wend;
  const pcend = pwend < cend ? pwend : cend;

  foldOuterIpLayer();
  frameState.ipOffset = off;
  frameState.ipData = d;
  frameState.ipVersion = 4;
  frameState.ipLayers++;
  out.ipVersion = 4;
  out.ttl = d[off + 8]!;
  out.ipId = u16(d, off + 4);

  const frag = u16(d, off + 6);
  const proto = d[off + 9]!;
  if ((frag & (OFFSET_MASK | FLAG_MF)) !== 0) {
    // tshark reassembles a fragment only when all its bytes were captured (tvb_bytes_exist).
    if (totalLen > hlen && cend - off >= totalLen) return reassembleIpv4(d, off, hlen, totalLen, frag, proto, out, depth);
    if ((frag & OFFSET_MASK) !== 0) return DecodeStatus.NotTcp;
  }
  return decodeIpPayload(proto, d, off + hlen, pcend, pwend, out, depth);
}

function reassembleIpv4(
  d: Uint8Array, off: number, hlen: number, totalLen: number, frag: number, proto: number, out: DecodedPacket, depth: number,
): DecodeStatus {
  const key = `4 ${u32(d, off + 12)} ${u32(d, off + 16)} ${u16(d, off + 4)} ${proto}`;
  const done = frameState.fragments.add(key, (frag & OFFSET_MASK) * 8, (frag & FLAG_MF) !== 0, d, off + hlen, totalLen - hlen);
  if (!done) return DecodeStatus.NotTcp;
  const head = completed.head;
  const length = completed.length;
  return decodeIpPayload(proto, head, 0, length < HEAD_BYTES ? length : HEAD_BYTES, length, out, depth);
}
