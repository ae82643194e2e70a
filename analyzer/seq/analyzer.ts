/**
 * The TCP sequence analysis: raises Wireshark's `tcp.analysis.*` flags on the same frames as tshark 4.0
 * does in its single default pass. The rules, their order and their quirks are those of packet-tcp.c
 * (dissect_tcp's conversation and port-reuse handling, tcp_analyze_sequence_number, the window-scale
 * bookkeeping after the options); docs/seq.md lists them in prose. Sequence numbers are the absolute
 * (raw) ones and windows the raw header values, exactly what tshark's analysis sees.
 *
 * Hot path: one call per TCP segment, numbers only, state in typed arrays (see state.ts); nothing is
 * allocated per packet except when a new connection appears or a direction first has two segments in flight.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type DecodedPacket } from '../decode/types.js';
import { ConversationIndex } from './conversations.js';
import {
  ACK_LOST_SEGMENT, DUPLICATE_ACK, FAST_RETRANSMISSION, KEEP_ALIVE, KEEP_ALIVE_ACK, LOST_SEGMENT, OUT_OF_ORDER,
  RETRANSMISSION, REUSED_PORTS, SEQ_FLAGS, SPURIOUS_RETRANSMISSION, WINDOW_FULL, WINDOW_UPDATE, ZERO_WINDOW,
  ZERO_WINDOW_PROBE, ZERO_WINDOW_PROBE_ACK,
} from './flags.js';
import { FlagRows } from './rows.js';
import { SegmentValues } from './segment.js';
import { BASE_SEQ_SET, FIRST_ACK_PENDING, FlowState, WSCALE_NONE, WSCALE_UNKNOWN } from './state.js';
import { MAX_UNACKED_SEGMENTS } from './unacked.js';

/** A fast retransmission must follow the duplicate ACKs within 20 ms. */
const FAST_RETRANSMISSION_NS = 20_000_000;
/** Out-of-order threshold until the handshake RTT is known. */
const DEFAULT_OOO_NS = 3_000_000;
/** RFC 7323: a shift above 14 is taken as 14 (Wireshark does the same). */
const MAX_WSCALE = 14;

/** Bytes from the start of the TCP header up to and including the window field. */
const TCP_BYTES_THROUGH_WINDOW = 16;

/**
 * Whether a frame the decoder found TCP in takes part in the sequence analysis: tshark gives up on a
 * header cut before its window field (no stream, no flags). `capturedLength` is the frame's captured
 * byte count.
 */
export function isSequenceAnalyzable(p: DecodedPacket, capturedLength: number): boolean {
  return !p.tcpTruncated || capturedLength >= p.tcpOffset + TCP_BYTES_THROUGH_WINDOW;
}

export interface SequenceAnalyzerOptions {
  /** Called for every raised flag, in frame order (one frame's flags in SEQ_FLAGS order). */
  onFlag?: (frame: number, code: number) => void;
  /** Keep every (frame, flag) pair in `rows`; default true. Turn off when onFlag consumes them. */
  collect?: boolean;
}

/** GT_SEQ(a, b): a after b in sequence space. */
function seqGt(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}
function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
/** Bytes covered by the first three blocks of a SACK option ([left0, right0, ...]), as Wireshark stores them. */
function sackedBytes(blocks: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < blocks.length && i < 6; i += 2) sum = (sum + ((blocks[i + 1]! - blocks[i]!) >>> 0)) >>> 0;
  return sum;
}
/** Nanoseconds from (sec0, nsec0) to (sec, nsec); exact while the gap is under ~100 days. */
function elapsedNs(sec: number, nsec: number, sec0: number, nsec0: number): number {
  return (sec - sec0) * 1e9 + (nsec - nsec0);
}

export class SequenceAnalyzer {
  readonly state = new FlowState();
  /** Every raised flag, unless `collect: false`. */
  readonly rows = new FlagRows();
  /** Frames that carry each flag, by flag code. */
  readonly counts = new Uint32Array(SEQ_FLAGS.length);
  /** The flag mask of the most recently pushed segment (bit = 1 << code). */
  lastFlags = 0;
  /** tshark's per-segment values (relative seq/ack, scaled window, ack RTT, bytes in flight) of that segment. */
  readonly segment = new SegmentValues();
  /** Direction index (2 * stream + side) of that segment, -1 when it was skipped. */
  lastDir = -1;
  private readonly index = new ConversationIndex();
  private readonly onFlag: ((frame: number, code: number) => void) | undefined;
  private readonly collect: boolean;

  constructor(opts: SequenceAnalyzerOptions = {}) {
    this.onFlag = opts.onFlag;
    this.collect = opts.collect ?? true;
  }

  /** Connections seen so far (tshark's tcp.stream values are 0 .. streamCount-1). */
  get streamCount(): number {
    return this.state.streams;
  }

  /** Handshake RTT of a connection in nanoseconds (pure SYN to first pure ACK, as tcp.analysis.initial_rtt), or -1. */
  handshakeRttNs(stream: number): number {
    const rtt = this.state.firstRttNs[stream];
    return rtt === undefined || rtt === 0 ? -1 : rtt;
  }

  /**
   * Analyzes one TCP segment. Feed every decoded TCP segment in frame order; returns the segment's
   * connection index (tshark's tcp.stream). The flags raised are in `lastFlags` and go to onFlag/rows.
   * With `capturedLength` (the frame's captured bytes), a header the snaplen cut before its window
   * field is skipped as tshark skips it (returns -1, no flags).
   */
  push(frame: number, tsSec: number, tsNsec: number, p: DecodedPacket, capturedLength?: number): number {
    if (capturedLength !== undefined && !isSequenceAnalyzable(p, capturedLength)) {
      this.lastFlags = 0;
      this.lastDir = -1;
      this.segment.clear();
      return -1;
    }
    const st = this.state;
    const tcpFlags = p.flags;
    const seq = p.seq >>> 0;
    const ack = p.ack >>> 0;
    const side = ConversationIndex.side(p.src, p.sport, p.dst, p.dport);

    let stream = this.index.find(p.src, p.sport, p.dst, p.dport);
    if (stream < 0) {
      stream = st.newStream();
      this.index.set(p.src, p.sport, p.dst, p.dport, stream);
    }
    let fwd = 2 * stream + side;
    let flags = 0;

    // A SYN whose ISN differs from the one this direction started with opens a new connection on the
    // same ports. The same ISN is a retransmitted SYN: tshark 4.0 leaves it to the retransmission rules
    // (newer versions also flag it as reused). A SYN/ACK with a new ISN is flagged and rebases the side.
    const synAck = tcpFlags & (TCP_SYN | TCP_ACK);
    if (synAck === TCP_SYN && (st.dirFlags[fwd]! & BASE_SEQ_SET) !== 0 && seq !== st.baseSeq[fwd]) {
      stream = st.newStream();
      this.index.set(p.src, p.sport, p.dst, p.dport, stream);
      fwd = 2 * stream + side;
      flags |= REUSED_PORTS;
    } else if (synAck === TCP_SYN && (st.dirFlags[fwd]! & BASE_SEQ_SET) !== 0) {
      // The same SYN again (the client retrying after its RST answered a stale ACK, RFC 793 3.4): that
      // RST carried the stale ACK's number as its seq. tshark 4.0 restores nextseq from maxseqtobeacked
      // so the data that follows is not all "retransmission" (measured: fixtures/tshark/syn-ack-after-rst*).
      st.nextSeq[fwd] = st.maxSeqToBeAcked[fwd]!;
    } else if (synAck === (TCP_SYN | TCP_ACK) && (st.dirFlags[fwd]! & BASE_SEQ_SET) !== 0 && seq !== st.baseSeq[fwd]) {
      st.baseSeq[fwd] = seq;
      flags |= REUSED_PORTS;
    }
    const rev = fwd ^ 1;

    // tcp.window_size is computed before this segment's options are read: the scale known so far.
    const scale = st.winScale[fwd]!;
    this.segment.winScaled = (tcpFlags & TCP_SYN) === 0 && scale > 0 ? p.win << scale : p.win; // <= 65535 << 14 < 2^31
    flags = this.analyze(frame, fwd, rev, stream, seq, ack, p.payloadLen, tcpFlags, p.win, tsSec, tsNsec, flags);
    this.lastDir = fwd;

    // tshark stops dissecting a header shorter than 20 bytes right after the analysis.
    if (p.doff >= 5) {
      this.afterAnalysis(fwd, rev, stream, tcpFlags, p.wscale, tsSec, tsNsec);
      // Each segment replaces its direction's SACK record (none without the option).
      st.sackedBytes[fwd] = p.sackBlocks !== null && p.sackBlocks.length >= 2 ? sackedBytes(p.sackBlocks) : 0;
    }

    // tshark's tcp.analysis.retransmission field is also set on fast and spurious retransmissions.
    if ((flags & (FAST_RETRANSMISSION | SPURIOUS_RETRANSMISSION)) !== 0) flags |= RETRANSMISSION;
    this.lastFlags = flags;
    this.segment.flags = flags;
    if (flags !== 0) this.emit(frame, flags);
    return stream;
  }

  /** Returns the flags with those of tcp_analyze_sequence_number added, and updates the direction state. */
  private analyze(
    frame: number, fwd: number, rev: number, stream: number, seq: number, ack: number, seglen: number, tcpFlags: number,
    window: number, tsSec: number, tsNsec: number, flags: number,
  ): number {
    const st = this.state;
    if ((st.dirFlags[fwd]! & BASE_SEQ_SET) === 0) {
      st.baseSeq[fwd] = tcpFlags & TCP_SYN ? seq : (seq - 1) >>> 0;
      st.dirFlags[fwd] |= BASE_SEQ_SET;
    }
    if ((st.dirFlags[rev]! & BASE_SEQ_SET) === 0 && (tcpFlags & TCP_ACK) !== 0) {
      st.baseSeq[rev] = (ack - 1) >>> 0;
      st.dirFlags[rev] |= BASE_SEQ_SET;
    }
    const seg = this.segment;
    seg.relSeq = (seq - st.baseSeq[fwd]!) >>> 0;
    // Without the ACK bit tshark shows the raw acknowledgement number (usually 0).
    seg.relAck = (tcpFlags & TCP_ACK) !== 0 ? (ack - st.baseSeq[rev]!) >>> 0 : ack;
    // An ACK from the other side makes bytes in flight trustworthy again after a lost segment.
    if ((tcpFlags & TCP_ACK) !== 0) st.bifInvalid[rev] = 0;

    const nextSeq = st.nextSeq[fwd]!;
    const lastAck = st.lastAck[fwd]!;
    const fwdWindow = st.window[fwd]!;
    const plain = (tcpFlags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0;

    fwdChecks: {
      if (seglen === 1 && seq === nextSeq && st.window[rev] === 0) {
        flags |= ZERO_WINDOW_PROBE;
        break fwdChecks;
      }
      if (window === 0 && plain) flags |= ZERO_WINDOW;
      if (nextSeq !== 0 && seqGt(seq, nextSeq) && (tcpFlags & TCP_RST) === 0) {
        flags |= LOST_SEGMENT;
        st.bifInvalid[fwd] = 1;
      }
      if (seglen <= 1 && seq === ((nextSeq - 1) >>> 0) && plain) flags |= KEEP_ALIVE;
      if (!plain) break fwdChecks; // every remaining rule excludes SYN/FIN/RST
      const sameSeqAck = seglen === 0 && seq === nextSeq && ack === lastAck;
      if (sameSeqAck && window !== 0 && window !== fwdWindow) flags |= WINDOW_UPDATE;
      const revScale = st.winScale[rev]!;
      if (seglen > 0 && revScale !== WSCALE_UNKNOWN) {
        const shift = (st.dirFlags[rev]! & FIRST_ACK_PENDING) !== 0 || revScale === WSCALE_NONE ? 0 : revScale;
        const edge = (st.lastAck[rev]! + ((st.window[rev]! << shift) >>> 0)) >>> 0;
        if (((seq + seglen) >>> 0) === edge) flags |= WINDOW_FULL;
      }
      if (!sameSeqAck || window !== fwdWindow) break fwdChecks;
      if (window !== 0 && (st.lastSegmentFlags[rev]! & KEEP_ALIVE) !== 0) {
        flags |= KEEP_ALIVE_ACK;
        break fwdChecks;
      }
      if (window === 0 && (st.lastSegmentFlags[rev]! & ZERO_WINDOW_PROBE) !== 0) {
        flags |= ZERO_WINDOW_PROBE_ACK;
        break fwdChecks;
      }
      if (window !== 0) {
        const dup = st.dupAckNum[fwd]!;
        st.dupAckNum[fwd] = dup === -1 ? 1 : dup + 1;
        flags |= DUPLICATE_ACK;
      }
    }
    if (ack !== lastAck) st.dupAckNum[fwd] = 0;

    // The ACK covers data the other direction never showed us.
    const revMax = st.maxSeqToBeAcked[rev]!;
    if (revMax !== 0 && seqGt(ack, revMax) && (tcpFlags & TCP_ACK) !== 0) {
      if (seqLt(revMax, st.nextSeq[rev]!)) {
        st.maxSeqToBeAcked[rev] = st.nextSeq[rev]!;
        flags |= ACK_LOST_SEGMENT;
      } else {
        // One report per gap even when the other side keeps sending pure ACKs.
        if (st.dupAckNum[rev] === 0) flags |= ACK_LOST_SEGMENT;
        st.dupAckNum[rev] = -1;
      }
    }

    const synFin = (tcpFlags & (TCP_SYN | TCP_FIN)) !== 0;
    if ((seglen > 0 || synFin) && (flags & KEEP_ALIVE) === 0) {
      flags |= this.retransmissionKind(fwd, rev, stream, seq, seglen, synFin, tsSec, tsNsec);
    }

    let segEnd = (seq + seglen) >>> 0;
    if (seglen > 0 || synFin) {
      // Past 10,000 unacked segments tshark stops tracking them, and with them the SYN/FIN phantom byte.
      if (st.unackedCount(fwd) < MAX_UNACKED_SEGMENTS) {
        if (synFin) segEnd = (segEnd + 1) >>> 0;
        st.addUnacked(fwd, seq, segEnd, frame, tsSec, tsNsec);
      }
    }
    if ((flags & ZERO_WINDOW_PROBE) === 0) {
      if (seqGt(segEnd, st.nextSeq[fwd]!) || st.nextSeq[fwd] === 0) {
        st.nextSeq[fwd] = segEnd;
        st.nextSeqSec[fwd] = tsSec;
        st.nextSeqNsec[fwd] = tsNsec;
      }
      if (seq === st.maxSeqToBeAcked[fwd] || st.maxSeqToBeAcked[fwd] === 0) st.maxSeqToBeAcked[fwd] = st.nextSeq[fwd]!;
    }

    st.window[fwd] = window;
    st.lastAck[fwd] = ack;
    st.lastAckSec[fwd] = tsSec;
    st.lastAckNsec[fwd] = tsNsec;
    st.lastSegmentFlags[fwd] = flags;
    // tshark drops acked segments on every segment's ack field, ACK bit or not.
    st.acknowledgeUnacked(rev, ack);
    const acked = st.acked;
    if (acked.frame >= 0) {
      const ns = elapsedNs(tsSec, tsNsec, acked.sec, acked.nsec);
      seg.acksFrame = acked.frame;
      // tshark shows no ack_rtt for a zero interval (its nstime zero means "none").
      seg.ackRttNs = ns === 0 ? Number.NaN : ns;
      seg.ackRtt = ns === 0 ? Number.NaN : ns / 1e9;
    } else {
      seg.acksFrame = -1;
      seg.ackRttNs = Number.NaN;
      seg.ackRtt = Number.NaN;
    }
    // Bytes in flight after a segment with data: the span of this direction's unacked segments.
    seg.bytesInFlight = -1;
    if (seglen !== 0 && st.bifInvalid[fwd] === 0 && st.unackedCount(fwd) > 0) {
      // Less what the other side's last SACK option reported delivered; a SYN's or FIN's byte is not data.
      const bif = (st.bytesInFlight(fwd) - st.sackedBytes[rev]!) >>> 0;
      if (bif > 0 && bif < 2_000_000_000) seg.bytesInFlight = synFin ? bif - 1 : bif;
    }
    return flags;
  }

  /** Spurious, fast, out-of-order or plain retransmission (or none) for a segment that carries data, SYN or FIN. */
  private retransmissionKind(
    fwd: number, rev: number, stream: number, seq: number, seglen: number, synFin: boolean, tsSec: number, tsNsec: number,
  ): number {
    const st = this.state;
    const nextSeq = st.nextSeq[fwd]!;
    let notAdvanced = nextSeq !== 0 && seqLt(seq, nextSeq);
    // One byte back with new data behind it (after a zero-window probe) is progress, not a retransmission.
    if (seglen > 1 && ((nextSeq - 1) >>> 0) === seq) notAdvanced = false;

    const revLastAck = st.lastAck[rev]!;
    if (seglen > 0 && revLastAck !== 0 && seqLe((seq + seglen) >>> 0, revLastAck)) return SPURIOUS_RETRANSMISSION;
    if (!notAdvanced) return 0;

    // dupacknum is unsigned in tshark 4.0: the -1 left by an "ACKed unseen segment" counts as >= 2.
    if (st.dupAckNum[rev]! >>> 0 >= 2 && revLastAck === seq) {
      const sinceAck = elapsedNs(tsSec, tsNsec, st.lastAckSec[rev]!, st.lastAckNsec[rev]!);
      if (sinceAck >= 0 && sinceAck < FAST_RETRANSMISSION_NS) return FAST_RETRANSMISSION;
    }

    const sinceNext = elapsedNs(tsSec, tsNsec, st.nextSeqSec[fwd]!, st.nextSeqNsec[fwd]!);
    const rtt = st.firstRttNs[stream]!;
    const threshold = rtt === 0 ? DEFAULT_OOO_NS : rtt;
    // tshark compares unsigned 64-bit nanoseconds: a negative gap is huge, a negative RTT even larger.
    const recent = threshold > 0 ? sinceNext >= 0 && sinceNext < threshold : sinceNext >= 0 || sinceNext < threshold;
    if (recent && nextSeq !== ((seq + seglen + (synFin ? 1 : 0)) >>> 0)) return OUT_OF_ORDER;
    return RETRANSMISSION;
  }

  /** What dissect_tcp does after the analysis: SYN time, handshake RTT, first-ACK tracking, window scale. */
  private afterAnalysis(
    fwd: number, rev: number, stream: number, tcpFlags: number, wscale: number, tsSec: number, tsNsec: number,
  ): void {
    const st = this.state;
    if ((tcpFlags & TCP_SYN) !== 0) {
      if ((tcpFlags & TCP_ACK) === 0) {
        st.synSec[stream] = tsSec;
        st.synNsec[stream] = tsNsec;
      }
      st.dirFlags[fwd] |= FIRST_ACK_PENDING;
    } else if ((tcpFlags & TCP_ACK) !== 0) {
      if (st.firstRttNs[stream] === 0 && (st.synSec[stream] !== 0 || st.synNsec[stream] !== 0)) {
        st.firstRttNs[stream] = elapsedNs(tsSec, tsNsec, st.synSec[stream]!, st.synNsec[stream]!);
      }
      st.dirFlags[fwd] &= ~FIRST_ACK_PENDING;
    }
    if (wscale >= 0) st.winScale[fwd] = wscale > MAX_WSCALE ? MAX_WSCALE : wscale;
    if ((tcpFlags & TCP_SYN) !== 0) {
      // Scaling is in use only when both SYNs carry the option; a SYN without it settles "none" for both.
      if (st.winScale[fwd] === WSCALE_UNKNOWN) {
        st.winScale[fwd] = WSCALE_NONE;
        st.winScale[rev] = WSCALE_NONE;
      } else if ((tcpFlags & TCP_ACK) !== 0 && st.winScale[rev] === WSCALE_NONE) {
        st.winScale[fwd] = WSCALE_NONE;
      }
    }
  }

  private emit(frame: number, flags: number): void {
    for (let code = 0; flags !== 0; code++, flags >>>= 1) {
      if ((flags & 1) === 0) continue;
      this.counts[code]!++;
      if (this.collect) this.rows.add(frame, code);
      this.onFlag?.(frame, code);
    }
  }
}
