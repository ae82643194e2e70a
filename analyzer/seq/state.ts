/**
 * Per-connection and per-direction state of the sequence analysis, kept as columns (typed arrays indexed
 * by number) instead of one object per flow: a capture with a million scan probes then costs a few dozen
 * bytes per flow, and the per-packet code touches numbers only.
 *
 * A connection is Wireshark's TCP conversation and its index is tshark's `tcp.stream`. Its two directions
 * are `2 * stream` (Wireshark's flow1, the side whose address sorts higher) and `2 * stream + 1` (flow2).
 * Field names follow packet-tcp.c so the rules can be read side by side with it.
 */
import { UnackedSegments, type AckMatch } from './unacked.js';

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
  /** The single unacked segment while UNACKED_ONE is set: end, start, frame and time. */
  unackedEnd = new Uint32Array(INITIAL_STREAMS * 2);
  unackedStart = new Uint32Array(INITIAL_STREAMS * 2);
  unackedFrame = new Float64Array(INITIAL_STREAMS * 2);
  unackedSec = new Float64Array(INITIAL_STREAMS * 2);
  unackedNsec = new Int32Array(INITIAL_STREAMS * 2);
  /** Lost segment seen in this direction: no bytes in flight until the other side ACKs (Wireshark's valid_bif). */
  bifInvalid = new Uint8Array(INITIAL_STREAMS * 2);
  /**
   * Bytes covered by the first three SACK blocks of this direction's last SACK option (Wireshark keeps
   * them per direction until the next SACK option and subtracts them from the other side's bytes in flight).
   */
  sackedBytes = new Uint32Array(INITIAL_STREAMS * 2);
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

  /** Records a segment of `dir` from `start` to `end` (seq + len, +1 for SYN/FIN), sent in `frame` at (sec, nsec). */
  addUnacked(dir: number, start: number, end: number, frame: number, sec: number, nsec: number): void {
    const f = this.dirFlags[dir]!;
    if ((f & UNACKED_LIST) !== 0) {
      this.unackedLists.get(dir)!.add(start, end, frame, sec, nsec);
    } else if ((f & UNACKED_ONE) === 0) {
      this.unackedEnd[dir] = end;
      this.unackedStart[dir] = start;
      this.unackedFrame[dir] = frame;
      this.unackedSec[dir] = sec;
      this.unackedNsec[dir] = nsec;
      this.dirFlags[dir] = f | UNACKED_ONE;
    } else {
      let list = this.unackedLists.get(dir);
      if (list === undefined) {
        list = new UnackedSegments();
        this.unackedLists.set(dir, list);
      }
      list.add(this.unackedStart[dir]!, this.unackedEnd[dir]!, this.unackedFrame[dir]!, this.unackedSec[dir]!, this.unackedNsec[dir]!);
      list.add(start, end, frame, sec, nsec);
      this.dirFlags[dir] = (f & ~UNACKED_ONE) | UNACKED_LIST;
    }
  }

  /** The segment the last acknowledgeUnacked() acknowledged exactly (tshark's acks_frame), frame -1 for none. */
  readonly acked: AckMatch = { frame: -1, sec: 0, nsec: 0 };

  /**
   * Drops the segments of `dir` that acknowledgement number `ack` (from the other direction) covers; the
   * segment whose end equals `ack` is left in `acked`.
   */
  acknowledgeUnacked(dir: number, ack: number): void {
    this.acked.frame = -1;
    const f = this.dirFlags[dir]!;
    if ((f & UNACKED_LIST) !== 0) {
      this.unackedLists.get(dir)!.acknowledge(ack, this.acked);
    } else if ((f & UNACKED_ONE) !== 0) {
      const end = this.unackedEnd[dir]!;
      if (((end - ack) | 0) <= 0) {
        if (end === ack) {
          this.acked.frame = this.unackedFrame[dir]!;
          this.acked.sec = this.unackedSec[dir]!;
          this.acked.nsec = this.unackedNsec[dir]!;
        }
        this.dirFlags[dir] = f & ~UNACKED_ONE;
      } else if (((ack - this.unackedStart[dir]!) | 0) > 0) {
        this.unackedStart[dir] = ack;
      }
    }
  }

  /** Wireshark's bytes in flight of `dir`'s unacked segments (relative to its base sequence), 0 when none. */
  bytesInFlight(dir: number): number {
    const f = this.dirFlags[dir]!;
    const base = this.baseSeq[dir]!;
    if ((f & UNACKED_LIST) !== 0) return this.unackedLists.get(dir)!.bytesInFlight(base);
    if ((f & UNACKED_ONE) !== 0) return (((this.unackedEnd[dir]! - base) >>> 0) - ((this.unackedStart[dir]! - base) >>> 0)) >>> 0;
    return 0;
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
    this.unackedStart = growTo(this.unackedStart, new Uint32Array(dirs));
    this.unackedFrame = growTo(this.unackedFrame, new Float64Array(dirs));
    this.unackedSec = growTo(this.unackedSec, new Float64Array(dirs));
    this.unackedNsec = growTo(this.unackedNsec, new Int32Array(dirs));
    this.bifInvalid = growTo(this.bifInvalid, new Uint8Array(dirs));
    this.sackedBytes = growTo(this.sackedBytes, new Uint32Array(dirs));
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
