/**
 * IPv4. The header length (IHL) skips options; the total length bounds the payload (an Ethernet trailer
 * is not payload). As tshark does with its default "support TSO" preference, a total length of 0 means
 * "the rest of the frame". Only a whole datagram or a first fragment can carry a TCP header, and tshark
 * (which reassembles by default) shows the TCP header of a fragmented datagram on the frame that
 * completes it, not on the first fragment: see docs/decoder.md.
 */
import { u16 } from './bytes.js';
import { decodeIpPayload } from './ipproto.js';
import { frameState } from './state.js';
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
  const pwend = end < wend ? end : wend;
  const pcend = pwend < cend ? pwend : cend;

  frameState.ipOffset = off;
  frameState.ipVersion = 4;
  frameState.ipLayers++;
  out.ipVersion = 4;
  out.ttl = d[off + 8]!;
  out.ipId = u16(d, off + 4);

  const frag = u16(d, off + 6);
  // A later fragment has no transport header; a first fragment's is shown by tshark only once reassembled.
  if ((frag & OFFSET_MASK) !== 0 || (frag & FLAG_MF) !== 0) return DecodeStatus.NotTcp;
  return decodeIpPayload(d[off + 9]!, d, off + hlen, pcend, pwend, out, depth);
}
