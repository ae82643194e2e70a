/**
 * Per-connection and per-direction state of the sequence analysis, kept as columns (typed arrays indexed
 * by number) instead of one object per flow: a capture with a million scan probes then costs a few dozen
 * bytes per flow, and the per-packet code touches numbers only.
 *
 * A connection is Wireshark's TCP conversation and its index is tshark's `tcp.stream`. Its two directions
 * are `2 * stream` (Wireshark's flow1, the side whose address sorts higher) and `2 * stream + 1` (flow2).
 * Field names follow packet-tcp.c so the rules can be read side by side with it.
 */
import { UnackedSegments } from './unacked.js';

/** Window scale not known (no SYN seen carrying or refusing it). */
export const WSCALE_UNKNOWN = -1;
/** Window scaling known not to be in use (a SYN came without the option). */
export const WSCALE_NONE = -2;

/** Direction flag bits. */
export const BASE_SEQ_SET = 1;
/** A SYN was seen in this direction and no pure ACK since: window_full then ignores the scale. */
export const FIRST_ACK_PENDING = 2;
/** Exactly one unacked segment, kept inline in `unackedEnd` (no list object: the common case of scans). */
const UNACKED_ONE = 4;
/** The unacked segments live in a list in `unackedLists`. */
const UNACKED_LIST = 8;

const INITIAL_STREAMS = 256;

export class FlowState {
  /** Number of connections (tshark's tcp.stream count). */
  streams = 0;

  // ---- per direction (index 2*stream + side) ----
  dirFlags = new Uint8Array(INITIAL_STREAMS * 2);
  baseSeq = new Uint32Array(INITIAL_STREAMS * 2);
  /** Highest seq + len (+1 for SYN/FIN) seen; 0 means "not known yet", as in Wireshark. */
  nextSeq = new Uint32Array(INITIAL_STREAMS * 2);
  nextSeqSec = new Float64Array(INITIAL_STREAMS * 2);
  nextSeqNsec = new Int32Array(INITIAL_STREAMS * 2);
  /** Highest contiguous seq to be acked by the other side; 0 = not known. */
  maxSeqToBeAcked = new Uint32Array(INITIAL_STREAMS * 2);
  lastAck = new Uint32Array(INITIAL_STREAMS * 2);
  lastAckSec = new Float64Array(INITIAL_STREAMS * 2);
  lastAckNsec = new Int32Array(INITIAL_STREAMS * 2);
  /** Duplicate ACKs in a row; -1 after an "ACKed unseen segment" in the other direction. */
  dupAckNum = new Int32Array(INITIAL_STREAMS * 2);
  /** Last raw (unscaled) window; 0xFFFFFFFF before the first segment, as Wireshark's G_MAXUINT32. */
  window = new Uint32Array(INITIAL_STREAMS * 2);
  winScale = new Int8Array(INITIAL_STREAMS * 2);
  /** Flag mask raised on the last segment of this direction (keep-alive / zero-window-probe matter). */
  lastSegmentFlags = new Uint16Array(INITIAL_STREAMS * 2);
  /** End of the single unacked segment while UNACKED_ONE is set. */
  unackedEnd = new Uint32Array(INITIAL_STREAMS * 2);
  /** Lists for directions with two or more unacked segments at some point (bulk transfers, not probes). */
  private readonly unackedLists = new Map<number, UnackedSegments>();

  // ---- per connection ----
  /** Time of the most recent pure SYN (0/0 = none), for the handshake RTT. */
  synSec = new Float64Array(INITIAL_STREAMS);
  synNsec = new Int32Array(INITIAL_STREAMS);
  /** Handshake RTT in ns: pure SYN to the first pure ACK; 0 = not known (Wireshark's zero nstime). */
  firstRttNs = new Float64Array(INITIAL_STREAMS);

  /** Adds a connection and returns its stream index. */
  newStream(): number {
    const stream = this.streams++;
    if (stream >= this.synSec.length) this.grow();
    this.window[2 * stream] = 0xffffffff;
    this.window[2 * stream + 1] = 0xffffffff;
    this.winScale[2 * stream] = WSCALE_UNKNOWN;
    this.winScale[2 * stream + 1] = WSCALE_UNKNOWN;
    return stream;
  }

  /** Segments sent in direction `dir` that the other direction has not acknowledged yet. */
  unackedCount(dir: number): number {
    const f = this.dirFlags[dir]!;
    if ((f & UNACKED_LIST) !== 0) return this.unackedLists.get(dir)!.count;
    return (f & UNACKED_ONE) !== 0 ? 1 : 0;
  }

  /** Records a segment of `dir` ending at `end` (seq + len, +1 for SYN/FIN). */
  addUnacked(dir: number, end: number): void {
    const f = this.dirFlags[dir]!;
    if ((f & UNACKED_LIST) !== 0) {
      this.unackedLists.get(dir)!.add(end);
    } else if ((f & UNACKED_ONE) === 0) {
      this.unackedEnd[dir] = end;
      this.dirFlags[dir] = f | UNACKED_ONE;
    } else {
      const list = new UnackedSegments();
      list.add(this.unackedEnd[dir]!);
      list.add(end);
      this.unackedLists.set(dir, list);
      this.dirFlags[dir] = (f & ~UNACKED_ONE) | UNACKED_LIST;
    }
  }

  /** Drops the segments of `dir` that acknowledgement number `ack` (from the other direction) covers. */
  acknowledgeUnacked(dir: number, ack: number): void {
    const f = this.dirFlags[dir]!;
    if ((f & UNACKED_LIST) !== 0) this.unackedLists.get(dir)!.acknowledge(ack);
    else if ((f & UNACKED_ONE) !== 0 && ((this.unackedEnd[dir]! - ack) | 0) <= 0) this.dirFlags[dir] = f & ~UNACKED_ONE;
  }

  private grow(): void {
    const streams = this.synSec.length * 2;
    const dirs = streams * 2;
    this.dirFlags = growTo(this.dirFlags, new Uint8Array(dirs));
    this.baseSeq = growTo(this.baseSeq, new Uint32Array(dirs));
    this.nextSeq = growTo(this.nextSeq, new Uint32Array(dirs));
    this.nextSeqSec = growTo(this.nextSeqSec, new Float64Array(dirs));
    this.nextSeqNsec = growTo(this.nextSeqNsec, new Int32Array(dirs));
    this.maxSeqToBeAcked = growTo(this.maxSeqToBeAcked, new Uint32Array(dirs));
    this.lastAck = growTo(this.lastAck, new Uint32Array(dirs));
    this.lastAckSec = growTo(this.lastAckSec, new Float64Array(dirs));
    this.lastAckNsec = growTo(this.lastAckNsec, new Int32Array(dirs));
    this.dupAckNum = growTo(this.dupAckNum, new Int32Array(dirs));
    this.window = growTo(this.window, new Uint32Array(dirs));
    this.winScale = growTo(this.winScale, new Int8Array(dirs));
    this.unackedEnd = growTo(this.unackedEnd, new Uint32Array(dirs));
    this.lastSegmentFlags = growTo(this.lastSegmentFlags, new Uint16Array(dirs));
    this.synSec = growTo(this.synSec, new Float64Array(streams));
    this.synNsec = growTo(this.synNsec, new Int32Array(streams));
    this.firstRttNs = growTo(this.firstRttNs, new Float64Array(streams));
  }
}

function growTo<T extends { set(src: ArrayLike<number>): void }>(old: ArrayLike<number>, bigger: T): T {
  bigger.set(old);
  return bigger;
}
