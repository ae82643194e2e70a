/**
 * tshark's per-segment values of the frame the sequence analysis has just pushed, in one object the
 * analyzer reuses (nothing allocated per packet): the loader copies them into the packets row, the
 * per-connection performance figures (analyzer/perf) read them. "None" is -1 for counts and NaN for the RTT.
 */
export class SegmentValues {
  /** tcp.seq with relative sequence numbers: seq minus this direction's base (ISN). */
  relSeq = -1;
  /** tcp.ack relative to the other direction's base; -1 when the ACK bit is clear (tshark shows no tcp.ack). */
  relAck = -1;
  /** tcp.window_size: the header's window shifted by the sender's scale when known (never on a SYN). */
  winScaled = -1;
  /** tcp.analysis.ack_rtt in seconds: time since the segment this ACK acknowledges exactly was sent. */
  ackRtt = Number.NaN;
  /** tcp.analysis.acks_frame: the frame of that segment. */
  acksFrame = -1;
  /** tcp.analysis.bytes_in_flight after a segment that carries data. */
  bytesInFlight = -1;
  /** tcp.analysis flags raised on the segment (bit = 1 << SEQ_FLAGS code). */
  flags = 0;
  /** ackRtt in nanoseconds (exact; negative when the capture's clock went back), NaN when none. */
  ackRttNs = Number.NaN;

  clear(): void {
    this.flags = 0;
    this.relSeq = -1;
    this.relAck = -1;
    this.winScaled = -1;
    this.ackRtt = Number.NaN;
    this.acksFrame = -1;
    this.bytesInFlight = -1;
    this.ackRttNs = Number.NaN;
  }
}
