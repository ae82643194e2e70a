/**
 * Per-connection performance figures, fed one segment at a time during the load (analyzer/db/loader.ts
 * calls observe() right after the sequence analysis has set tshark's per-segment values). One object per
 * connection of the flow tracker, holding the two directions (client's data, server's data).
 */
import { TCP_ACK, TCP_FIN, TCP_SYN, type DecodedPacket } from '../decode/types.js';
import { FAST_RETRANSMISSION, RETRANSMISSION, SPURIOUS_RETRANSMISSION } from '../seq/flags.js';
import type { SegmentValues } from '../seq/segment.js';
import { DirectionPerf } from './direction.js';

const RETRANSMITTED = RETRANSMISSION | FAST_RETRANSMISSION | SPURIOUS_RETRANSMISSION;

export class ConnectionPerf {
  readonly client = new DirectionPerf();
  readonly server = new DirectionPerf();
  firstTime = -1;
  private lastTime = -1;

  /** One segment (decoded packet + tshark's values and flags for it), `fromClient` as the tracker decided. */
  observe(fromClient: boolean, t: number, p: DecodedPacket, seg: SegmentValues, seqFlags: number): void {
    if (this.firstTime < 0) this.firstTime = t;
    if (this.lastTime >= 0) {
      const dt = t - this.lastTime;
      this.client.charge(dt);
      this.server.charge(dt);
    }
    this.lastTime = t;
    const me = fromClient ? this.client : this.server;
    const peer = fromClient ? this.server : this.client;
    const f = p.flags;
    me.sent(t, p.seq >>> 0, p.payloadLen, (f & TCP_SYN) !== 0, (f & TCP_FIN) !== 0, p.mss, p.tsval,
      (seqFlags & RETRANSMITTED) !== 0, seg.bytesInFlight);
    peer.acked(t, p.ack >>> 0, (f & TCP_ACK) !== 0, (f & TCP_SYN) !== 0 ? -1 : seg.winScaled, p.tsecr, seg.ackRtt);
  }
}
