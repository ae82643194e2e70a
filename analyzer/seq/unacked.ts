/**
 * The segments one direction has sent that the other direction has not yet acknowledged, the way
 * Wireshark's per-flow `segments` list (tcp_unacked_t) keeps them: start and end (seq, seq + len, +1 for
 * SYN/FIN), frame number and time of each. Three of tshark's per-frame values come from this list:
 * - the 10,000-segment cap (TCP_MAX_UNACKED_SEGMENTS): past it a SYN or FIN no longer moves `nextseq`
 *   past its phantom byte, which shows in the flags of one-sided captures, so the count has to be exact;
 * - `tcp.analysis.acks_frame` / `ack_rtt`: an ACK equal to a segment's end acknowledges that segment
 *   (the oldest such segment when a retransmission left two with the same end: Wireshark walks its
 *   newest-first list and the last match wins), and every segment ending at or before the ACK is dropped;
 *   an ACK inside a segment moves that segment's start up to the ACK;
 * - `tcp.analysis.bytes_in_flight`: highest end minus lowest start, both relative to the base sequence.
 *
 * Segments normally arrive in increasing order and are acknowledged oldest first, so the list is kept in
 * arrival order and, while it stays increasing, an ACK removes a run at the head (or, after a wrap, at
 * the tail) in time proportional to what it removes, and bytes in flight is read off both ends. Out-of-
 * order inserts fall back to full scans, as Wireshark always does.
 */
export const MAX_UNACKED_SEGMENTS = 10000;

/** a <= b in sequence space (modulo 2^32). */
function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** What the last acknowledge() matched: the acknowledged segment's frame and time, frame -1 for none. */
export interface AckMatch {
  frame: number;
  sec: number;
  nsec: number;
}

export class UnackedSegments {
  // Parallel typed arrays (no per-segment objects, little garbage): live entries are [head, tail).
  private ends = new Uint32Array(16);
  private starts = new Uint32Array(16);
  private frames = new Float64Array(16);
  private secs = new Float64Array(16);
  private nsecs = new Int32Array(16);
  private head = 0;
  private tail = 0;
  /** True while ends[head..tail) is strictly increasing, starts non-decreasing, and both span less than 2^31. */
  private increasing = true;

  get count(): number {
    return this.tail - this.head;
  }

  add(start: number, end: number, frame: number, sec: number, nsec: number): void {
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      this.increasing = true;
    } else if (this.increasing) {
      const last = this.ends[this.tail - 1]!;
      const lastStart = this.starts[this.tail - 1]!;
      if (((end - last) | 0) <= 0 || ((start - lastStart) | 0) < 0 || (end - this.starts[this.head]!) >>> 0 >= 0x80000000) {
        this.increasing = false;
      }
    }
    if (this.tail === this.ends.length) this.makeRoom();
    const i = this.tail++;
    this.ends[i] = end;
    this.starts[i] = start;
    this.frames[i] = frame;
    this.secs[i] = sec;
    this.nsecs[i] = nsec;
  }

  /** Moves the live entries to the front, and doubles the arrays when they are more than half full. */
  private makeRoom(): void {
    const n = this.tail - this.head;
    const size = n * 2 > this.ends.length ? this.ends.length * 2 : this.ends.length;
    const move = <T extends Uint32Array | Float64Array | Int32Array>(a: T, b: T): T => {
      b.set(a.subarray(this.head, this.tail));
      return b;
    };
    if (size !== this.ends.length) {
      this.ends = move(this.ends, new Uint32Array(size));
      this.starts = move(this.starts, new Uint32Array(size));
      this.frames = move(this.frames, new Float64Array(size));
      this.secs = move(this.secs, new Float64Array(size));
      this.nsecs = move(this.nsecs, new Int32Array(size));
    } else {
      this.ends.copyWithin(0, this.head, this.tail);
      this.starts.copyWithin(0, this.head, this.tail);
      this.frames.copyWithin(0, this.head, this.tail);
      this.secs.copyWithin(0, this.head, this.tail);
      this.nsecs.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = n;
  }

  private take(i: number, match: AckMatch): void {
    if (match.frame >= 0 && this.frames[i]! > match.frame) return;
    match.frame = this.frames[i]!;
    match.sec = this.secs[i]!;
    match.nsec = this.nsecs[i]!;
  }

  /** Drops every segment the acknowledgement number `ack` covers; the exactly acknowledged one goes to `match`. */
  acknowledge(ack: number, match: AckMatch): void {
    if (this.head === this.tail) return;
    const ends = this.ends;
    const starts = this.starts;
    if (this.increasing) {
      // An increasing run shorter than 2^31 meets the half circle "<= ack" in a prefix or a suffix.
      while (this.head < this.tail && seqLe(ends[this.head]!, ack)) {
        if (ends[this.head] === ack) this.take(this.head, match);
        this.head++;
      }
      while (this.tail > this.head && seqLe(ends[this.tail - 1]!, ack)) {
        if (ends[this.tail - 1] === ack) this.take(this.tail - 1, match);
        this.tail--;
      }
      // Starts are non-decreasing: the segments the ACK falls inside are a prefix of what is left.
      for (let i = this.head; i < this.tail && ((ack - starts[i]!) | 0) > 0; i++) starts[i] = ack;
      return;
    }
    let kept = this.head;
    for (let i = this.head; i < this.tail; i++) {
      const end = ends[i]!;
      if (end === ack) {
        this.take(i, match);
        continue;
      }
      if (seqLe(end, ack)) continue;
      // ACK inside the segment: what is left of it starts at the ACK.
      const start = ((ack - starts[i]!) | 0) > 0 ? ack : starts[i]!;
      ends[kept] = end;
      starts[kept] = start;
      this.frames[kept] = this.frames[i]!;
      this.secs[kept] = this.secs[i]!;
      this.nsecs[kept] = this.nsecs[i]!;
      kept++;
    }
    this.tail = kept;
    let increasing = true;
    for (let i = this.head + 1; i < this.tail && increasing; i++) {
      if (((ends[i]! - ends[i - 1]!) | 0) <= 0 || ((starts[i]! - starts[i - 1]!) | 0) < 0) increasing = false;
    }
    if (this.tail - this.head > 1 && (ends[this.tail - 1]! - starts[this.head]!) >>> 0 >= 0x80000000) increasing = false;
    this.increasing = increasing;
  }

  /**
   * Wireshark's bytes in flight: the highest end minus the lowest start, each taken relative to `base`
   * as an unsigned 32-bit number (so a segment before the base counts as far ahead, as there).
   */
  bytesInFlight(base: number): number {
    if (this.head === this.tail) return 0;
    const ends = this.ends;
    const starts = this.starts;
    if (this.increasing) {
      return (((ends[this.tail - 1]! - base) >>> 0) - ((starts[this.head]! - base) >>> 0)) >>> 0;
    }
    let first = (starts[this.head]! - base) >>> 0;
    let last = (ends[this.head]! - base) >>> 0;
    for (let i = this.head + 1; i < this.tail; i++) {
      const s = (starts[i]! - base) >>> 0;
      const e = (ends[i]! - base) >>> 0;
      if (s < first) first = s;
      if (e > last) last = e;
    }
    return (last - first) >>> 0;
  }
}
