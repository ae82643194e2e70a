/**
 * Which packets `scans` needs as rows (LoadOptions.tables 'probes'): every packet of a connection that
 * may still be a probe, and the one packet that proves it is not. The probe SQL (analyzer/scans/probes.ts)
 * drops a connection once either side sent payload or its prober (the source of its first packet) sent
 * more than MAX_PROBER_PACKETS packets; a connection cut here has that very packet as its last row, so
 * the SQL drops it exactly as it would on every row, and every connection it keeps has all its rows.
 * A bulk transfer costs its handshake and one data packet instead of a million rows.
 *
 * State is per flow id (the tracker numbers flows from the set's first id upward), in typed arrays
 * that grow by doubling: no object or Map entry per connection.
 */

/**
 * SYN retries, the handshake ACK, a FIN or RST and its retransmissions: a probe is a few packets. The
 * scan definition's limit (analyzer/scans/probes.ts uses it), kept here because the load applies it first.
 */
export const MAX_PROBER_PACKETS = 8;

const UNSEEN = 0;
const OPEN = 1;
const CUT = 2;

export class ProbeWindow {
  private state = new Uint8Array(1024);
  private proberAddr = new Uint32Array(1024);
  private proberPort = new Uint16Array(1024);
  private proberPackets = new Uint8Array(1024);

  /** @param firstFlowId the id the tracker gives the set's first connection. */
  constructor(private readonly firstFlowId: number) {}

  /** True when this packet of flow `flowId` must be written (call once per packet, in frame order). */
  keep(flowId: number, srcAddr: number, sport: number, payloadLen: number): boolean {
    const i = flowId - this.firstFlowId;
    if (i >= this.state.length) this.grow(i);
    const state = this.state[i]!;
    if (state === CUT) return false;
    if (state === UNSEEN) {
      this.state[i] = OPEN;
      this.proberAddr[i] = srcAddr;
      this.proberPort[i] = sport;
    }
    if (payloadLen > 0) {
      this.state[i] = CUT;
    } else if (this.proberAddr[i] === srcAddr && this.proberPort[i] === sport && ++this.proberPackets[i]! > MAX_PROBER_PACKETS) {
      this.state[i] = CUT;
    }
    return true;
  }

  private grow(i: number): void {
    let n = this.state.length;
    while (n <= i) n *= 2;
    const widen = <T extends Uint8Array | Uint16Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.state = widen(this.state, (k) => new Uint8Array(k));
    this.proberAddr = widen(this.proberAddr, (k) => new Uint32Array(k));
    this.proberPort = widen(this.proberPort, (k) => new Uint16Array(k));
    this.proberPackets = widen(this.proberPackets, (k) => new Uint8Array(k));
  }
}
