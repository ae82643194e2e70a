/**
 * Finds the current connection (tshark's TCP conversation) of a segment by its address/port 4-tuple,
 * in either direction. A later connection on the same 4-tuple (ports reused) replaces the entry, as
 * Wireshark's single pass always finds the newest conversation.
 *
 * Lookups go through three nested Maps (lower address, higher address, port pair) so a packet costs
 * three hash lookups on strings the decoder already interned and numbers, and allocates nothing.
 */
export class ConversationIndex {
  private readonly byLow = new Map<string, Map<string, Map<number, number>>>();

  /**
   * Which of the two flows of a conversation a segment from (src, sport) to (dst, dport) belongs to:
   * 0 for Wireshark's flow1 (source sorts at or above the destination), 1 for flow2. Segments between
   * the same address and port in both directions all land in flow2, exactly as in packet-tcp.c.
   */
  static side(src: string, sport: number, dst: string, dport: number): 0 | 1 {
    if (src === dst) return sport > dport ? 0 : 1;
    return src > dst ? 0 : 1;
  }

  /** The stream of the 4-tuple, or -1 when none was seen. */
  find(src: string, sport: number, dst: string, dport: number): number {
    const inner = this.inner(src, dst, false);
    if (inner === undefined) return -1;
    return inner.get(portKey(src, sport, dst, dport)) ?? -1;
  }

  /** Makes `stream` the current connection of the 4-tuple. */
  set(src: string, sport: number, dst: string, dport: number, stream: number): void {
    this.inner(src, dst, true)!.set(portKey(src, sport, dst, dport), stream);
  }

  private inner(src: string, dst: string, create: boolean): Map<number, number> | undefined {
    const low = src < dst ? src : dst;
    const high = src < dst ? dst : src;
    let byHigh = this.byLow.get(low);
    if (byHigh === undefined) {
      if (!create) return undefined;
      byHigh = new Map();
      this.byLow.set(low, byHigh);
    }
    let byPorts = byHigh.get(high);
    if (byPorts === undefined) {
      if (!create) return undefined;
      byPorts = new Map();
      byHigh.set(high, byPorts);
    }
    return byPorts;
  }
}

/** Port pair in a direction-free order: the lower address's port first (the lower port when addresses match). */
function portKey(src: string, sport: number, dst: string, dport: number): number {
  if (src < dst) return sport * 65536 + dport;
  if (src > dst) return dport * 65536 + sport;
  return sport < dport ? sport * 65536 + dport : dport * 65536 + sport;
}
