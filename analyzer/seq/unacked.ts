/**
 * Counts the segments one direction has sent that the other direction has not yet acknowledged, the way
 * Wireshark's per-flow `segments` list does. Wireshark stops adding segments once 10,000 are unacked
 * (TCP_MAX_UNACKED_SEGMENTS), and a SYN or FIN then no longer moves `nextseq` past its phantom byte; that
 * quirk is visible in the flags of one-sided captures, so the count has to be exact. Only the end of each
 * segment (seq + len, +1 for SYN/FIN) matters: an ACK removes every segment whose end is <= ack
 * (modulo 2^32).
 *
 * Segments normally arrive in increasing order and are acknowledged oldest first, so the list is kept in
 * arrival order and, while it stays increasing, an ACK removes a run at the head (or, after a wrap, at
 * the tail) in time proportional to what it removes. Out-of-order inserts fall back to a full scan.
 */
export const MAX_UNACKED_SEGMENTS = 10000;

/** a <= b in sequence space (modulo 2^32). */
function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export class UnackedSegments {
  private ends: number[] = [];
  private head = 0;
  /** True while ends[head..] is strictly increasing and spans less than 2^31. */
  private increasing = true;

  get count(): number {
    return this.ends.length - this.head;
  }

  add(end: number): void {
    const ends = this.ends;
    if (this.head === ends.length) {
      ends.length = 0;
      this.head = 0;
      this.increasing = true;
    } else if (this.increasing) {
      const last = ends[ends.length - 1]!;
      if (((end - last) | 0) <= 0 || (end - ends[this.head]!) >>> 0 >= 0x80000000) this.increasing = false;
    }
    ends.push(end);
  }

  /** Drops every segment the acknowledgement number `ack` covers. */
  acknowledge(ack: number): void {
    const ends = this.ends;
    if (this.head === ends.length) return;
    if (this.increasing) {
      // An increasing run shorter than 2^31 meets the half circle "<= ack" in a prefix or a suffix.
      while (this.head < ends.length && seqLe(ends[this.head]!, ack)) this.head++;
      while (ends.length > this.head && seqLe(ends[ends.length - 1]!, ack)) ends.pop();
      if (this.head > 4096 && this.head * 2 > ends.length) {
        ends.splice(0, this.head);
        this.head = 0;
      }
      return;
    }
    let kept = 0;
    for (let i = this.head; i < ends.length; i++) {
      const end = ends[i]!;
      if (!seqLe(end, ack)) ends[kept++] = end;
    }
    ends.length = kept;
    this.head = 0;
    let increasing = true;
    for (let i = 1; i < kept && increasing; i++) {
      if (((ends[i]! - ends[i - 1]!) | 0) <= 0) increasing = false;
    }
    if (kept > 1 && (ends[kept - 1]! - ends[0]!) >>> 0 >= 0x80000000) increasing = false;
    this.increasing = increasing;
  }
}
