/**
 * Performance of one direction of a TCP connection (the data this side sends), from headers alone:
 * what a performance engineer reads off Wireshark's RTT columns, `tcptrace -l` and the kernel's tcp_info.
 *
 * - RTT from ACKs: tshark's ack_rtt of each ACK from the peer that acknowledges one of our segments
 *   exactly, except when that sequence range was retransmitted (Karn's rule: the ACK could be for either copy).
 * - RTT from TCP timestamps: the first echo (TSecr) of each TSval we sent, timed from the first segment
 *   that carried it; retransmitted segments never start a sample.
 * - Where the time goes while this side has data to deliver: each interval between two packets of the
 *   connection is charged to one state, decided by the state after the earlier packet:
 *   nothing in flight (the application gave nothing to send: charged only if more data follows), the
 *   peer's window is zero, loss recovery (from a retransmission until everything sent before it is
 *   acknowledged), receive-window-limited (bytes in flight within one MSS of the peer's window), or
 *   otherwise network (congestion window) limited.
 */
import { RttStats } from './stats.js';

/** a - b in 32-bit sequence space. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export type LimitedBy = 'receiver_window' | 'loss' | 'sender_application' | 'network' | 'none';

/** Below this many data segments a direction is too short to say what limits it. */
export const MIN_SEGMENTS_FOR_VERDICT = 10;
/** Share of the active time that makes a limit the verdict. */
export const DOMINANT_SHARE = 0.5;
/** Share of the active time in loss recovery, or of segments retransmitted, that makes loss the verdict. */
export const LOSS_TIME_SHARE = 0.2;
export const LOSS_SEGMENT_SHARE = 0.005;

export class DirectionPerf {
  /** MSS from our SYN's option, else the largest segment we sent. */
  mss = 0;
  private mssFromOption = false;
  dataSegments = 0;
  dataBytes = 0;
  /** Payload bytes sent for the first time (sequence space above everything sent before). */
  uniqueBytes = 0;
  retransSegments = 0;
  retransBytes = 0;
  readonly ackRtt = new RttStats();
  readonly tsRtt = new RttStats();
  bifMax = 0;
  private bifSum = 0;
  private bifCount = 0;
  firstDataTime = -1;
  lastDataTime = -1;
  /** When the peer last acknowledged new data of ours. */
  lastAckAdvance = -1;

  // Time accounting (seconds).
  zeroWindowTime = 0;
  rwndLimitedTime = 0;
  appLimitedTime = 0;
  recoveryTime = 0;
  networkTime = 0;
  /**
   * Time charged since the last progress (data sent or new data acknowledged), by state: committed at the
   * next progress, so the silence after a connection's last exchange is never counted. Plain fields, not
   * an array: a scan makes thousands of connections, and each array is an allocation the GC copies.
   */
  private pendingApp = 0;
  private pendingZeroWindow = 0;
  private pendingRecovery = 0;
  private pendingRwnd = 0;
  private pendingNetwork = 0;

  // Sequence state.
  private started = false;
  private sndNxt = 0;
  private sndNxtSet = false;
  private sndUna = 0;
  private ackSeen = false;
  private peerWindow = -1;
  private inRecovery = false;
  private recoverPoint = 0;
  /** Ends of retransmitted segments: an ACK equal to one of them gives no RTT sample (Karn). Made at the first. */
  private retransEnds: Set<number> | null = null;
  /**
   * Ends of retransmitted segments not yet acknowledged, oldest first: an ACK that newly covers one gives no
   * RTT sample either (the kernel's FLAG_RETRANS_DATA_ACKED), since it was held back by the hole.
   */
  private pendingRetrans: number[] = [];
  private pendingHead = 0;
  /** TSvals we sent and when they were first sent, oldest first. */
  private tsvals: number[] = [];
  private tsTimes: number[] = [];
  private tsHead = 0;

  /** Charges the interval `dt` (seconds) that followed the previous packet to the state we were in. */
  charge(dt: number): void {
    if (!this.started || dt <= 0) return;
    const inFlight = this.ackSeen ? seqDiff(this.sndNxt, this.sndUna) : 1;
    if (inFlight <= 0) this.pendingApp += dt;
    else if (this.peerWindow === 0) this.pendingZeroWindow += dt;
    else if (this.inRecovery) this.pendingRecovery += dt;
    else if (this.peerWindow > 0 && inFlight + this.mss >= this.peerWindow) this.pendingRwnd += dt;
    else this.pendingNetwork += dt;
  }

  /** Progress: the time charged since the last progress counts. */
  private commit(): void {
    this.appLimitedTime += this.pendingApp;
    this.zeroWindowTime += this.pendingZeroWindow;
    this.recoveryTime += this.pendingRecovery;
    this.rwndLimitedTime += this.pendingRwnd;
    this.networkTime += this.pendingNetwork;
    this.pendingApp = this.pendingZeroWindow = this.pendingRecovery = this.pendingRwnd = this.pendingNetwork = 0;
  }

  /** One segment this side sent. `retransmission`: tshark flagged it (retransmission, fast or spurious). */
  sent(
    t: number, seq: number, payloadLen: number, syn: boolean, fin: boolean, mssOption: number, tsval: number,
    retransmission: boolean, bytesInFlight: number,
  ): void {
    if (syn && mssOption > 0) {
      this.mss = mssOption;
      this.mssFromOption = true;
    }
    const end = (seq + payloadLen + (syn || fin ? 1 : 0)) >>> 0;
    // Bytes of this segment's data above everything sent before are new; the rest was sent already.
    const dataStart = syn ? (seq + 1) >>> 0 : seq;
    const dataEnd = (dataStart + payloadLen) >>> 0;
    const known = this.sndNxtSet;
    const fresh = !known ? payloadLen
      : Math.max(0, Math.min(payloadLen, seqDiff(dataEnd, seqDiff(dataStart, this.sndNxt) > 0 ? dataStart : this.sndNxt)));
    if (!known || seqDiff(end, this.sndNxt) > 0) this.sndNxt = end;
    this.sndNxtSet = true;
    if (tsval >= 0 && !retransmission) {
      const n = this.tsvals.length;
      if (n === this.tsHead || seqDiff(tsval, this.tsvals[n - 1]!) > 0) {
        this.tsvals.push(tsval);
        this.tsTimes.push(t);
      }
    }
    if (payloadLen === 0) {
      return;
    }
    if (!this.mssFromOption && payloadLen > this.mss) this.mss = payloadLen;
    if (!this.started) {
      this.started = true;
      this.firstDataTime = t;
    } else {
      this.commit();
    }
    this.lastDataTime = t;
    this.dataSegments++;
    this.dataBytes += payloadLen;
    this.uniqueBytes += fresh;
    // A segment resending any byte is a retransmission (as tcptrace and the kernel count them); tshark's
    // own flag marks also segments that only look old (flagged), and both keep the RTT sample out (Karn).
    if (fresh < payloadLen || retransmission) {
      (this.retransEnds ??= new Set()).add(end);
      this.pendingRetrans.push(end);
    }
    if (fresh < payloadLen) {
      this.retransSegments++;
      this.retransBytes += payloadLen - fresh;
      if (!this.inRecovery) {
        this.inRecovery = true;
        this.recoverPoint = this.sndNxt;
      }
    }
    if (bytesInFlight > 0) {
      if (bytesInFlight > this.bifMax) this.bifMax = bytesInFlight;
      this.bifSum += bytesInFlight;
      this.bifCount++;
    }
  }

  /**
   * A segment from the peer: its ACK of our data, the window it advertises (scaled), its TSecr, and
   * tshark's ack_rtt when it acknowledges one of our segments exactly.
   */
  acked(t: number, ack: number, ackFlag: boolean, window: number, tsecr: number, ackRttS: number): void {
    if (window >= 0) this.peerWindow = window;
    if (!ackFlag) return;
    if (!this.ackSeen || seqDiff(ack, this.sndUna) > 0) {
      if (this.ackSeen && this.started) {
        this.lastAckAdvance = t;
        this.commit();
      }
      this.sndUna = ack;
      this.ackSeen = true;
    }
    if (this.inRecovery && seqDiff(this.sndUna, this.recoverPoint) >= 0) this.inRecovery = false;
    let coversRetransmission = false;
    while (this.pendingHead < this.pendingRetrans.length && seqDiff(this.pendingRetrans[this.pendingHead]!, ack) <= 0) {
      this.pendingHead++;
      coversRetransmission = true;
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pendingRetrans.length) {
      this.pendingRetrans = this.pendingRetrans.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    if (!Number.isNaN(ackRttS) && !coversRetransmission && !this.retransEnds?.has(ack)) this.ackRtt.add(ackRttS);
    if (tsecr > 0 && this.tsHead < this.tsvals.length) {
      // Echoes of older TSvals are gone with them; the first echo of a TSval is a sample.
      while (this.tsHead < this.tsvals.length && seqDiff(this.tsvals[this.tsHead]!, tsecr) < 0) this.tsHead++;
      if (this.tsHead < this.tsvals.length && this.tsvals[this.tsHead] === tsecr) {
        this.tsRtt.add(t - this.tsTimes[this.tsHead]!);
        this.tsHead++;
      }
      if (this.tsHead > 1024 && this.tsHead * 2 > this.tsvals.length) {
        this.tsvals.splice(0, this.tsHead);
        this.tsTimes.splice(0, this.tsHead);
        this.tsHead = 0;
      }
    }
    if (this.retransEnds !== null && this.retransEnds.size > 4096) {
      for (const e of this.retransEnds) if (seqDiff(e, this.sndUna) < 0) this.retransEnds.delete(e);
    }
  }

  get bifMean(): number {
    return this.bifCount === 0 ? Number.NaN : this.bifSum / this.bifCount;
  }


  /** Time this side had data to deliver (every charged state). */
  get activeTime(): number {
    return this.zeroWindowTime + this.rwndLimitedTime + this.appLimitedTime + this.recoveryTime + this.networkTime;
  }

  limitedBy(): LimitedBy {
    const active = this.activeTime;
    if (this.dataSegments < MIN_SEGMENTS_FOR_VERDICT || active <= 0) return 'none';
    const rwnd = (this.rwndLimitedTime + this.zeroWindowTime) / active;
    const app = this.appLimitedTime / active;
    const loss = this.recoveryTime / active;
    if (rwnd >= DOMINANT_SHARE) return 'receiver_window';
    if (app >= DOMINANT_SHARE) return 'sender_application';
    if (loss >= LOSS_TIME_SHARE || this.retransSegments / this.dataSegments >= LOSS_SEGMENT_SHARE) return 'loss';
    if (rwnd >= app && rwnd >= 0.25) return 'receiver_window';
    if (app > rwnd && app >= 0.25) return 'sender_application';
    return 'network';
  }
}
