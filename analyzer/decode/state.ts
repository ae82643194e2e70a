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
};

/** Bound on nesting (tunnels in tunnels, VLAN tags, MPLS labels): a crafted frame cannot loop forever. */
export const MAX_DEPTH = 24;
