/**
 * Finds the current connection (tshark's TCP conversation) of a segment by its address/port 4-tuple,
 * in either direction. A later connection on the same 4-tuple (ports reused) replaces the entry, as
 * Wireshark's single pass always finds the newest conversation.
 *
 * Addresses are interned to small ids (one Map lookup each, on strings the decoder already interned);
 * the 4-tuple of ids and ports then lives in an open-addressing hash table in one Int32Array, four
 * words per slot (low address id, high address id, port pair, stream) so a probe touches one cache
 * line, a lookup allocates nothing and a million scan probes cost a few dozen bytes each.
 */
const EMPTY = -1;
const STRIDE = 4;

export class ConversationIndex {
  private readonly addressIds = new Map<string, number>();
  private capacity = 1024;
  private size = 0;
  private table = new Int32Array(this.capacity * STRIDE).fill(EMPTY);

  /**
   * Which of the two flows of a conversation a segment from (src, sport) to (dst, dport) belongs to:
   * 0 for Wireshark's flow1 (the source orders above the destination), 1 for flow2. Segments between
   * the same address and port in both directions all land in flow2, exactly as in packet-tcp.c.
   */
  static side(src: string, sport: number, dst: string, dport: number): 0 | 1 {
    if (src === dst) return sport > dport ? 0 : 1;
    return src > dst ? 0 : 1;
  }

  /** The stream of the 4-tuple, or -1 when none was seen. */
  find(src: string, sport: number, dst: string, dport: number): number {
    const a = this.addressIds.get(src);
    const b = this.addressIds.get(dst);
    if (a === undefined || b === undefined) return -1;
    const at = this.slotOf(a, sport, b, dport);
    return this.table[at] === EMPTY ? -1 : this.table[at + 3]!;
  }

  /** Makes `stream` the current connection of the 4-tuple. */
  set(src: string, sport: number, dst: string, dport: number, stream: number): void {
    const a = this.addressId(src);
    const b = this.addressId(dst);
    let at = this.slotOf(a, sport, b, dport);
    if (this.table[at] === EMPTY) {
      if ((this.size + 1) * 2 > this.capacity) {
        this.rehash();
        at = this.slotOf(a, sport, b, dport);
      }
      this.size++;
      const swap = a > b || (a === b && sport > dport);
      this.table[at] = swap ? b : a;
      this.table[at + 1] = swap ? a : b;
      this.table[at + 2] = swap ? dport * 65536 + sport : sport * 65536 + dport;
    }
    this.table[at + 3] = stream;
  }

  private addressId(addr: string): number {
    let id = this.addressIds.get(addr);
    if (id === undefined) {
      id = this.addressIds.size;
      this.addressIds.set(addr, id);
    }
    return id;
  }

  /** Index in `table` of the slot holding the 4-tuple, or of the empty slot where it would go (linear probing). */
  private slotOf(a: number, pa: number, b: number, pb: number): number {
    // Direction-free key: the lower address id (or, between equal addresses, the lower port) first.
    const swap = a > b || (a === b && pa > pb);
    const low = swap ? b : a;
    const high = swap ? a : b;
    const ports = (swap ? pb * 65536 + pa : pa * 65536 + pb) | 0;
    const mask = this.capacity - 1;
    let h = Math.imul(low, 0x9e3779b1) ^ Math.imul(high, 0x85ebca77) ^ Math.imul(ports, 0xc2b2ae3d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    const table = this.table;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = slot * STRIDE;
      const l = table[at]!;
      if (l === EMPTY || (l === low && table[at + 1] === high && table[at + 2] === ports)) return at;
    }
  }

  private rehash(): void {
    const old = this.table;
    this.capacity *= 2;
    this.table = new Int32Array(this.capacity * STRIDE).fill(EMPTY);
    for (let i = 0; i < old.length; i += STRIDE) {
      const low = old[i]!;
      if (low === EMPTY) continue;
      const ports = old[i + 2]! >>> 0;
      // Stored in canonical order already: re-inserting as (low, pLow, high, pHigh) keeps it.
      const at = this.slotOf(low, ports >>> 16, old[i + 1]!, ports & 0xffff);
      this.table.set(old.subarray(i, i + STRIDE), at);
    }
  }
}
