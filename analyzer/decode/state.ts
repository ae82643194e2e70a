/**
 * Per-frame scratch state shared by the layer decoders. Module-level (not allocated per frame): the
 * decoder is synchronous, so one frame is in flight at a time. Reset by FrameDecoder.decode before each frame.
 */
import { FragmentTable } from './reassembly.js';

export const frameState = {
  /** The fragment table of the decoder decoding this frame (set by FrameDecoder.decode). */
  fragments: new FragmentTable(),
  /** Offset of the innermost IP header seen so far; its addresses are formatted once TCP is found. */
  ipOffset: -1,
  /** The bytes ipOffset points into: the frame, or a reassembled or decompressed datagram. */
  ipData: new Uint8Array(0) as Uint8Array,
  /** The bytes the TCP header was read from (tcpOffset is only meaningful when this is the frame). */
  tcpData: new Uint8Array(0) as Uint8Array,
  ipVersion: 4 as 4 | 6,
  /** IP headers passed on the way down: more than one means the TCP was tunneled. */
  ipLayers: 0,
  /** Identity of the tunnels passed so far (tunnel-id.ts), folded in as each inner IP header starts. */
  tunnelKey: 0,
  /** The UDP ports of the tunnel entered since the last IP header, as tunnel-id.ts keys them (0: none). */
  tunnelPorts: 0,
  /** Where PPPoE's length field ended the payload for the IP header that follows (-1: no such cut). */
  lengthFieldEnd: -1,
  /** The captured end of the frame that PPPoE's length field cut short. */
  lengthFieldFrameEnd: -1,
};

/**
 * Called by an IP decoder with the end its total length gives (`ipEnd`) and the end it was handed
 * (`wend`): the bytes PPPoE's length field cut from the IP packet while the frame holds them. tshark
 * trusts PPPoE and leaves them out; Zeek skips PPPoE's length and counts them (DecodedPacket.lengthFieldCut).
 */
export function takeLengthFieldCut(ipEnd: number, wend: number): number {
  const cutEnd = frameState.lengthFieldEnd;
  frameState.lengthFieldEnd = -1;
  if (cutEnd !== wend || ipEnd <= wend || ipEnd > frameState.lengthFieldFrameEnd) return 0;
  return ipEnd - wend;
}

/** Bound on nesting (tunnels in tunnels, VLAN tags, MPLS labels): a crafted frame cannot loop forever. */
export const MAX_DEPTH = 24;
