/**
 * The loader's one call into the performance figures: after the flow tracker has placed a segment and the
 * sequence analysis has set tshark's per-segment values, feed them to the connection's ConnectionPerf.
 */
import type { DecodedPacket } from '../decode/types.js';
import { tcpChecksumOk } from '../flows/checksum.js';
import { ConnectionPerf } from './connection.js';
import { SegmentKind, type Flow } from '../flows/tracker.js';
import type { SegmentValues } from '../seq/segment.js';

export function observeSegment(flow: Flow, fromClient: boolean, sec: number, nsec: number, p: DecodedPacket, seg: SegmentValues): void {
  (flow.perf ??= new ConnectionPerf()).observe(fromClient, sec + nsec / 1e9, p, seg, seg.flags);
}

/**
 * conn.log's IP bytes of a packet: the IP header (20 bytes for IPv4 without options, 40 for IPv6 without
 * extension headers: the decoder does not report their exact length), the TCP header and the payload.
 */
export function ipBytesOf(p: DecodedPacket): number {
  return (p.ipVersion === 4 ? 20 : 40) + p.doff * 4 + p.payloadLen + p.lengthFieldCut;
}

/**
 * How Zeek takes the segment: normal, a header the snaplen cut, or (when verifying) a wrong checksum.
 * `frame.data` (the frame's bytes, a view a reader's packet makes on each read) is read only when verifying.
 */
export function zeekSegmentKind(frame: { readonly data: Uint8Array }, p: DecodedPacket, verifyChecksums: boolean): SegmentKind {
  if (p.tcpTruncated) return SegmentKind.HeaderCut;
  if (verifyChecksums && tcpChecksumOk(frame.data, p) === false) return SegmentKind.BadChecksum;
  return SegmentKind.Normal;
}
