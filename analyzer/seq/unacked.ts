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
  private ends: number[] = [];
  private starts: number[] = [];
  private frames: number[] = [];
  private secs: number[] = [];
  private nsecs: number[] = [];
  private head = 0;
  /** True while ends[head..] is strictly increasing, starts non-decreasing, and both span less than 2^31. */
  private increasing = true;

  get count(): number {
    return this.ends.length - this.head;
  }

  add(start: number, end: number, frame: number, sec: number, nsec: number): void {
    const ends = this.ends;
    if (this.head === ends.length) {
      this.clear();
    } else if (this.increasing) {
      const last = ends[ends.length - 1]!;
      const lastStart = this.starts[this.starts.length - 1]!;
      if (((end - last) | 0) <= 0 || ((start - lastStart) | 0) < 0 || (end - this.starts[this.head]!) >>> 0 >= 0x80000000) {
        this.increasing = false;
      }
    }
    ends.push(end);
    this.starts.push(start);
    this.frames.push(frame);
    this.secs.push(sec);
    this.nsecs.push(nsec);
  }

  private clear(): void {
    this.ends.length = 0;
    this.starts.length = 0;
    this.frames.length = 0;
    this.secs.length = 0;
    this.nsecs.length = 0;
    this.head = 0;
    this.increasing = true;
  }

  private take(i: number, match: AckMatch): void {
    if (match.frame >= 0 && this.frames[i]! > match.frame) return;
    match.frame = this.frames[i]!;
    match.sec = this.secs[i]!;
    match.nsec = this.nsecs[i]!;
  }

  /** Drops every segment the acknowledgement number `ack` covers; the exactly acknowledged one goes to `match`. */
  acknowledge(ack: number, match: AckMatch): void {
    const ends = this.ends;
    if (this.head === ends.length) return;
    if (this.increasing) {
      // An increasing run shorter than 2^31 meets the half circle "<= ack" in a prefix or a suffix.
      while (this.head < ends.length && seqLe(ends[this.head]!, ack)) {
        if (ends[this.head] === ack) this.take(this.head, match);
        this.head++;
      }
      while (ends.length > this.head && seqLe(ends[ends.length - 1]!, ack)) {
        if (ends[ends.length - 1] === ack) this.take(ends.length - 1, match);
        this.pop();
      }
      // Starts are non-decreasing: the segments the ACK falls inside are a prefix of what is left.
      const starts = this.starts;
      for (let i = this.head; i < ends.length && ((ack - starts[i]!) | 0) > 0; i++) starts[i] = ack;
      if (this.head === ends.length) this.clear();
      else if (this.head > 4096 && this.head * 2 > ends.length) this.compact();
      return;
    }
    let kept = 0;
    for (let i = this.head; i < ends.length; i++) {
      const end = ends[i]!;
      if (end === ack) {
        this.take(i, match);
        continue;
      }
      if (seqLe(end, ack)) continue;
      // ACK inside the segment: what is left of it starts at the ACK.
      if (((ack - this.starts[i]!) | 0) > 0) this.starts[i] = ack;
      ends[kept] = end;
      this.starts[kept] = this.starts[i]!;
      this.frames[kept] = this.frames[i]!;
      this.secs[kept] = this.secs[i]!;
      this.nsecs[kept] = this.nsecs[i]!;
      kept++;
    }
    this.truncate(kept);
    this.head = 0;
    let increasing = true;
    for (let i = 1; i < kept && increasing; i++) {
      if (((ends[i]! - ends[i - 1]!) | 0) <= 0 || ((this.starts[i]! - this.starts[i - 1]!) | 0) < 0) increasing = false;
    }
    if (kept > 1 && (ends[kept - 1]! - this.starts[0]!) >>> 0 >= 0x80000000) increasing = false;
    this.increasing = increasing;
  }

  /**
   * Wireshark's bytes in flight: the highest end minus the lowest start, each taken relative to `base`
   * as an unsigned 32-bit number (so a segment before the base counts as far ahead, as there).
   */
  bytesInFlight(base: number): number {
    const ends = this.ends;
    if (this.head === ends.length) return 0;
    if (this.increasing) {
      return (((ends[ends.length - 1]! - base) >>> 0) - ((this.starts[this.head]! - base) >>> 0)) >>> 0;
    }
    let first = (this.starts[this.head]! - base) >>> 0;
    let last = (ends[this.head]! - base) >>> 0;
    for (let i = this.head + 1; i < ends.length; i++) {
      const s = (this.starts[i]! - base) >>> 0;
      const e = (ends[i]! - base) >>> 0;
      if (s < first) first = s;
      if (e > last) last = e;
    }
    return (last - first) >>> 0;
  }

  private pop(): void {
    this.ends.pop();
    this.starts.pop();
    this.frames.pop();
    this.secs.pop();
    this.nsecs.pop();
  }

  private truncate(n: number): void {
    this.ends.length = n;
    this.starts.length = n;
    this.frames.length = n;
    this.secs.length = n;
    this.nsecs.length = n;
  }

  private compact(): void {
    const h = this.head;
    this.ends.splice(0, h);
    this.starts.splice(0, h);
    this.frames.splice(0, h);
    this.secs.splice(0, h);
    this.nsecs.splice(0, h);
    this.head = 0;
  }
}
