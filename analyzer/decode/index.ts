/**
 * FrameDecoder: one captured frame at a time to a typed TCP record, filled into a reused DecodedPacket.
 *
 * The layers live in their own files (link, ether, ipv4, ipv6, ipproto, tunnels, wlan, tcp); this entry
 * resets the record, walks the layers, and formats the innermost IP addresses only when TCP was found.
 * It never throws on bad input and never reads past the frame: every read is bounded by the captured
 * length (`cend`) and every length from a header is bounded by the wire length (`wend`). The frame may sit
 * inside a larger buffer (a reader's window: decodePacket), so the layers work on offsets, never on lengths
 * of arrays.
 */
import { ipv4Text, ipv6Text } from './address.js';
import { decodeLink } from './link.js';
import { FragmentTable } from './reassembly.js';
import { frameState } from './state.js';
import { tunnelIdOfFrame } from './tunnel-id.js';
import { DecodeStatus, type DecodedPacket, type FrameAt } from './types.js';

export { DecodeStatus, newDecodedPacket } from './types.js';
export type { DecodedPacket, FrameAt } from './types.js';

/**
 * Decodes the frames of one capture, in file order. The only state kept between frames is the IP
 * fragments waiting for the rest of their datagram (tshark reassembles them), and it belongs to this
 * decoder: use one FrameDecoder per capture, so captures never complete each other's datagrams.
 */
export class FrameDecoder {
  private readonly fragments = new FragmentTable();

  /**
   * Decodes one frame. `linktype` is the interface's LINKTYPE_* number (FCS/reserved upper bits already
   * masked), `data` the captured bytes, `wireLen` the original length on the wire (tcp.len counts from it).
   * Returns Tcp when `out` holds a TCP header (check out.tcpTruncated), NotTcp / UnknownLinktype /
   * Malformed otherwise (then `out` holds whatever was decoded before the stop, and is not to be used).
   */
  decode(linktype: number, data: Uint8Array, wireLen: number, out: DecodedPacket): DecodeStatus {
    frameState.fragments = this.fragments;
    return decodeFrame(linktype, data, 0, data.length, wireLen, out);
  }

  /** decode() of a frame where it lies, e.g. a reader's packet in the reader's buffer. */
  decodePacket(p: FrameAt, out: DecodedPacket): DecodeStatus {
    frameState.fragments = this.fragments;
    return decodeFrame(p.linktype, p.bytes, p.offset, p.capLen, p.wireLen, out);
  }
}

/** The frame is `data[start .. start + capLen)`. */
function decodeFrame(linktype: number, data: Uint8Array, start: number, capLen: number, wireLen: number, out: DecodedPacket): DecodeStatus {
  resetPacket(out);
  frameState.ipOffset = -1;
  frameState.ipLayers = 0;
  frameState.tunnelKey = 0;
  frameState.tunnelPorts = 0;
  frameState.lengthFieldEnd = -1;
  const cend = start + capLen;
  const wend = start + (wireLen > capLen ? wireLen : capLen);
  const status = decodeLink(linktype, data, start, cend, wend, out, 0);
  if (status !== DecodeStatus.Tcp) return status;
  const ip = frameState.ipOffset;
  const ipData = frameState.ipData;
  if (frameState.ipVersion === 4) {
    out.src = ipv4Text(ipData, ip + 12);
    out.dst = ipv4Text(ipData, ip + 16);
  } else {
    out.src = ipv6Text(ipData, ip + 8);
    out.dst = ipv6Text(ipData, ip + 24);
  }
  // A TCP header read from a reassembled or decompressed datagram has no offset in this frame.
  if (frameState.tcpData !== data) out.tcpOffset = -1;
  else out.tcpOffset -= start;
  out.tunneled = frameState.ipLayers > 1;
  out.tunnelId = tunnelIdOfFrame();
  return status;
}

function resetPacket(out: DecodedPacket): void {
  out.ipVersion = 4;
  out.src = '';
  out.dst = '';
  out.ttl = 0;
  out.ipId = -1;
  out.vlan = -1;
  out.tunneled = false;
  out.tunnelId = 0;
  out.lengthFieldCut = 0;
  out.sport = 0;
  out.dport = 0;
  out.seq = 0;
  out.ack = 0;
  out.flags = 0;
  out.reserved = 0;
  out.doff = 0;
  out.win = 0;
  out.urp = 0;
  out.payloadLen = 0;
  out.tcpOffset = 0;
  out.tcpTruncated = false;
  out.mss = -1;
  out.wscale = -1;
  out.sackPerm = false;
  out.tsval = -1;
  out.tsecr = -1;
  out.sackBlocks = null;
}
