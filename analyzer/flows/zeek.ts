/**
 * Zeek's view of one TCP connection: the per-endpoint state machine of its TCP session adapter, the
 * `history` letters and the `conn_state` summary of conn.log, re-implemented from Zeek's documentation
 * and its TCPSessionAdapter / conn/main.zeek so that `flows.state` and `flows.history` mean exactly what
 * a Zeek user expects.
 *
 * Content gaps ('g') follow Zeek's reassembler without keeping bytes: each endpoint tracks the next
 * byte it delivered in order (plus a few out-of-order ranges), and sequence space the peer ACKs that was
 * never seen is a gap, counted only while both ends are established or cleanly closing, as Zeek does.
 *
 * What is left out, and why: 'c' (bad checksum: tcplens does not verify checksums, as tshark by default),
 * 'x' (analysis limits), and the mid-connection SYN/SYN-ACK role reversal. Every other letter follows
 * Zeek: a, d, i, q once per direction; s, h, f, r again only when their sequence number differs from
 * the last one of that kind; t, w and g at the 1st, 10th, 100th ... occurrence.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/types.js';

/** Zeek's TCP endpoint states (analyzer::tcp::EndpointState). */
export const enum EndpointState {
  Inactive = 0,
  SynSent = 1,
  SynAckSent = 2,
  Partial = 3,
  Established = 4,
  Closed = 5,
  Reset = 6,
}

/** What a segment's FIN or RST started, as Zeek's ConnectionClosed schedules it. */
export const enum CloseEvent {
  None = 0,
  /** Both sides done (or one reset, or the peer never seen): removed tcp_close_delay (5 s) after. */
  Complete = 1,
  /** One side's close is the first we saw of it: tcp_partial_close_delay (3 s) may remove the connection. */
  Partial = 2,
}

/** Zeek treats sequence jumps over 1 MiB on SYN/RST as untrustworthy. */
const TOO_LARGE_SEQ_DELTA = 1048576;

const HIST_SYN = 1;
const HIST_FIN = 2;
const HIST_RST = 4;
const HIST_ACK = 8;
const HIST_DATA = 16;
const HIST_FIN_RST = 32;
const HIST_MULTI = 64;
const HIST_CORRUPT = 128;
const HIST_LIMIT = 256;

/** Zeek's tunnel_max_changes_per_connection. */
const MAX_TUNNEL_CHANGES = 5;

/** Out-of-order ranges kept per endpoint for gap detection; beyond this they are dropped (bounded memory). */
const MAX_BLOCKS = 32;

/** Signed difference a - b in 32-bit sequence space. */
function seqDelta(a: number, b: number): number {
  return ((a - b) | 0);
}

export class ZeekEndpoint {
  state: EndpointState = EndpointState.Inactive;
  prevState: EndpointState = EndpointState.Inactive;
  startSeq = 0;
  lastSeq = 0;
  /** Highest ACK of this endpoint's data from the peer (Zeek's ack_seq), and wrap counts of both. */
  ackSeq = 0;
  seqWraps = 0;
  ackWraps = 0;
  finCount = 0;
  /** Payload bytes carried (not RST data), as Zeek's endpoint size for the REJ test. */
  size = 0;
  histSeen = 0;
  histLastSyn = -1;
  histLastFin = -1;
  histLastRst = -1;
  rxmitCount = 0;
  rxmitThreshold = 1;
  zeroWindowCount = 0;
  zeroWindowThreshold = 1;
  windowScale = 0;
  /** Reassembly without bytes: next in-order sequence number, highest ACK taken, ranges above a hole. */
  initialized = false;
  reassem = 0;
  trimSeq = 0;
  blocks: number[] | null = null;
  /** Sequence number just after this endpoint's FIN, or -1. */
  finEnd = -1;
  gapCount = 0;
  gapThreshold = 1;
  /** Zeek's did_close: this side's close was reported. */
  didClose = false;

  /** Zeek's InitLastSeq / UpdateLastSeq (the latter counts 32-bit wraps). */
  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps++;
    this.lastSeq = seq;
  }

  /** Zeek's init of start/ack/last sequence numbers for a new numbering. */
  initSeqs(start: number, last: number): void {
    this.startSeq = start;
    this.ackSeq = start;
    this.lastSeq = last;
  }

  /** True if none of this endpoint's data was acknowledged (one octet allowed for the SYN). */
  noDataAcked(): boolean {
    const ack = this.ackWraps * 4294967296 + this.ackSeq;
    return ack === this.startSeq || ack === this.startSeq + 1;
  }

  setState(s: EndpointState): void {
    if (s !== this.state) {
      this.prevState = this.state;
      this.state = s;
    }
  }
}

export class ZeekConnection {
  readonly orig = new ZeekEndpoint();
  readonly resp = new ZeekEndpoint();
  history = '';
  /** conn.log missed_bytes: sequence space acknowledged but never seen, while established or cleanly closing. */
  missedBytes = 0;
  /** Zeek's is_partial: the connection did not start with the originator's pure SYN. */
  private partial = false;
  private packets = 0;

  private tunnelChanges = 0;
  /** The tunnel identity of the last segment (decode/tunnel-id.ts), null before the first. */
  private lastTunnelId: number | null = null;
  /** History bits of letters kept per connection (C per side, X once). */
  private connHist = 0;

  /** A segment Zeek drops for its bad checksum: a 'C' (once per side), nothing else. */
  badChecksum(isOrig: boolean): void {
    const bit = isOrig ? HIST_CORRUPT : HIST_CORRUPT << 8;
    if ((this.connHist & bit) === 0) {
      this.connHist |= bit;
      this.add(isOrig, 'C');
    }
  }

  /**
   * Zeek's CheckEncapsulation: each change of encapsulation counts (between tunneled and direct, or
   * to another tunnel, e.g. GTP uplink and downlink on different outer connections); past
   * tunnel_max_changes_per_connection an 'X' (analyzer limit reached) is logged once.
   */
  encapsulation(tunnelId: number): void {
    if (this.lastTunnelId === null) {
      this.lastTunnelId = tunnelId;
      return;
    }
    if (this.lastTunnelId === tunnelId) return;
    this.lastTunnelId = tunnelId;
    if (this.tunnelChanges >= MAX_TUNNEL_CHANGES) {
      if ((this.connHist & HIST_LIMIT) === 0) {
        this.connHist |= HIST_LIMIT;
        this.history += 'X';
      }
      return;
    }
    this.tunnelChanges++;
  }

  /** Marks a role flip decided before the first packet (Zeek's '^'). */
  markFlipped(): void {
    this.history += '^';
  }

  private add(isOrig: boolean, letter: string): void {
    this.history += isOrig ? letter : letter.toLowerCase();
  }

  /** Zeek's CheckHistory: adds the letter the first time its kind is seen; true when it is a repeat. */
  private check(ep: ZeekEndpoint, isOrig: boolean, mask: number, letter: string): boolean {
    if ((ep.histSeen & mask) === 0) {
      ep.histSeen |= mask;
      this.add(isOrig, letter);
      return false;
    }
    return true;
  }

  /**
   * One TCP segment. `isOrig` is relative to the roles already decided (client = originator);
   * `payloadCaptured` is false when the snaplen cut the payload (Zeek then has no bytes to deliver).
   */
  packet(isOrig: boolean, flags: number, seq: number, ack: number, window: number, payloadLen: number, payloadCaptured = true): CloseEvent {
    const ep = isOrig ? this.orig : this.resp;
    const peer = isOrig ? this.resp : this.orig;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ackFlag = (flags & TCP_ACK) !== 0;
    let segLen = payloadLen + (syn ? 1 : 0) + (fin ? 1 : 0);
    if (rst) segLen -= payloadLen;
    const onePast = (seq + segLen) >>> 0;
    if (this.packets++ === 0) this.partial = isOrig ? !syn || ackFlag : !syn;

    this.initEndpoint(ep, syn, seq, onePast);
    this.updateHistory(ep, isOrig, syn, fin, rst, ackFlag, seq, payloadLen);

    // Zeek's update_window: a zero window is recorded unless it rides on a RST or comes after the
    // peer's FIN or our own RST.
    if (window === 0 && !rst && peer.state !== EndpointState.Closed && ep.state !== EndpointState.Reset) {
      if (++ep.zeroWindowCount === ep.zeroWindowThreshold) {
        this.add(isOrig, 'W');
        ep.zeroWindowThreshold *= 10;
      }
    }

    if (fin) {
      ep.finEnd = onePast;
      ep.finCount++;
    }
    // Zeek's update_ack_seq: the peer's highest acknowledged sequence (not from RSTs, not while it is inactive).
    if (ackFlag && !rst && peer.state !== EndpointState.Inactive) {
      const delta = seqDelta(ack, peer.ackSeq);
      if (!(ack === 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0) {
        if (ack < peer.ackSeq) peer.ackWraps++;
        peer.ackSeq = ack;
      }
    }
    this.updateLastSeq(ep, isOrig, onePast, syn, fin, rst, payloadLen);
    if (!rst) ep.size += payloadLen;
    this.updateStateMachine(ep, peer, isOrig, syn, fin, rst, ackFlag, seq, payloadLen);
    // As Zeek: the ACK is applied to the peer's stream after the state machine, then this segment's data.
    if (ackFlag) this.ackReceived(peer, ep, !isOrig, ack);
    if (payloadLen > 0 && !rst && payloadCaptured) this.dataSent(ep, syn ? (seq + 1) >>> 0 : seq, payloadLen);
    if ((fin || rst) && (ep.state === EndpointState.Closed || ep.state === EndpointState.Reset)) return this.connectionClosed(ep, peer);
    return CloseEvent.None;
  }

  /** Zeek's ConnectionClosed: which timer the close of `ep` starts. */
  private connectionClosed(ep: ZeekEndpoint, peer: ZeekEndpoint): CloseEvent {
    if (ep.didClose) return CloseEvent.None;
    ep.didClose = true;
    if (ep.state === EndpointState.Reset || peer.didClose || peer.state === EndpointState.Inactive) return CloseEvent.Complete;
    // The first thing seen from this side is its close.
    return ep.prevState === EndpointState.Inactive ? CloseEvent.Partial : CloseEvent.None;
  }

  /** Both sides' closes were reported: Zeek no longer moves the connection's last time (its duration ends). */
  bothClosed(): boolean {
    return this.orig.didClose && this.resp.didClose;
  }

  /** Zeek's PartialCloseTimer condition: both sides seen, not both closed, nobody reset. */
  partialCloseExpires(): boolean {
    const o = this.orig;
    const r = this.resp;
    return o.state !== EndpointState.Inactive && r.state !== EndpointState.Inactive && !(o.didClose && r.didClose) &&
      o.state !== EndpointState.Reset && r.state !== EndpointState.Reset;
  }

  /** The peer acknowledged `ack` of `ep`'s stream: sequence space acked but never seen is a content gap. */
  private ackReceived(ep: ZeekEndpoint, peer: ZeekEndpoint, epIsOrig: boolean, ack: number): void {
    if (!ep.initialized) return;
    let upTo = ack;
    // The FIN's own sequence octet is not data.
    if (ep.finEnd >= 0 && seqDelta(upTo, ep.finEnd) >= 0) upTo = (ep.finEnd - 1) >>> 0;
    if (seqDelta(upTo, ep.trimSeq) <= 0) return;
    ep.trimSeq = upTo;
    if (seqDelta(upTo, ep.reassem) <= 0) return;
    // A partial connection's first ACK may point one or two octets past the numbering Zeek made up.
    if (this.partial && seqDelta(upTo, ep.startSeq) <= 2) {
      ep.reassem = upTo;
      return;
    }
    const blocks = ep.blocks;
    if (blocks !== null) {
      // Deliver ranges that start below the ACK, each hole before them being a gap.
      let i = 0;
      while (i < blocks.length && seqDelta(blocks[i]!, upTo) < 0) {
        if (seqDelta(blocks[i]!, ep.reassem) > 0) this.gap(ep, peer, epIsOrig, seqDelta(blocks[i]!, ep.reassem));
        if (seqDelta(blocks[i + 1]!, ep.reassem) > 0) ep.reassem = blocks[i + 1]!;
        i += 2;
      }
      if (i > 0) blocks.splice(0, i);
    }
    if (seqDelta(upTo, ep.reassem) > 0) {
      this.gap(ep, peer, epIsOrig, seqDelta(upTo, ep.reassem));
      ep.reassem = upTo;
    }
    this.mergeBlocks(ep);
  }

  private gap(ep: ZeekEndpoint, peer: ZeekEndpoint, epIsOrig: boolean, len: number): void {
    // Only for connections established or cleanly closing: elsewhere gaps come from RST sequence
    // numbers or unseen earlier packets.
    const clean = (e: ZeekEndpoint): boolean =>
      e.state === EndpointState.Established || (e.state === EndpointState.Closed && e.prevState === EndpointState.Established);
    if (!clean(ep) || !clean(peer)) return;
    this.missedBytes += len;
    if (++ep.gapCount === ep.gapThreshold) {
      this.add(epIsOrig, 'G');
      ep.gapThreshold *= 10;
    }
  }

  /** In-order data advances the stream; data above a hole is remembered as a range. */
  private dataSent(ep: ZeekEndpoint, seq: number, len: number): void {
    if (!ep.initialized) return;
    let start = seq;
    const end = (seq + len) >>> 0;
    if (seqDelta(start, ep.trimSeq) < 0) {
      if (seqDelta(end, ep.trimSeq) <= 0) return;
      start = ep.trimSeq;
    }
    if (seqDelta(start, ep.reassem) <= 0) {
      if (seqDelta(end, ep.reassem) > 0) {
        ep.reassem = end;
        this.mergeBlocks(ep);
      }
      return;
    }
    const blocks = (ep.blocks ??= []);
    if (blocks.length >= MAX_BLOCKS * 2) return;
    let i = 0;
    while (i < blocks.length && seqDelta(blocks[i]!, start) < 0) i += 2;
    blocks.splice(i, 0, start, end);
  }

  private mergeBlocks(ep: ZeekEndpoint): void {
    const blocks = ep.blocks;
    if (blocks === null) return;
    let i = 0;
    while (i < blocks.length && seqDelta(blocks[i]!, ep.reassem) <= 0) {
      if (seqDelta(blocks[i + 1]!, ep.reassem) > 0) ep.reassem = blocks[i + 1]!;
      i += 2;
    }
    if (i > 0) blocks.splice(0, i);
  }

  private initEndpoint(ep: ZeekEndpoint, syn: boolean, seq: number, onePast: number): void {
    switch (ep.state) {
      case EndpointState.Inactive:
        if (syn) {
          ep.initSeqs(seq, onePast);
        } else {
          // A partial connection: number as though a SYN came just before, and do not count the
          // first segment as a retransmission.
          ep.initSeqs((seq - 1) >>> 0, seq);
        }
        if (!ep.initialized) {
          ep.initialized = true;
          ep.reassem = (ep.startSeq + 1) >>> 0;
          ep.trimSeq = ep.reassem;
        }
        break;
      case EndpointState.SynSent:
      case EndpointState.SynAckSent:
      case EndpointState.Established:
      case EndpointState.Partial:
        if (syn && seq !== ep.startSeq) ep.initSeqs(seq, onePast);
        break;
      case EndpointState.Reset:
        if (syn && ep.prevState === EndpointState.Inactive) ep.initSeqs(seq, onePast);
        break;
      default:
        break;
    }
  }

  private updateHistory(
    ep: ZeekEndpoint, isOrig: boolean, syn: boolean, fin: boolean, rst: boolean, ack: boolean, seq: number, len: number,
  ): void {
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.check(ep, isOrig, HIST_FIN_RST, 'I');
      else this.check(ep, isOrig, HIST_MULTI, 'Q');
      return;
    }
    if (bits === 1) {
      if (syn) {
        const code = ack ? 'H' : 'S';
        if (this.check(ep, isOrig, HIST_SYN, code) && seq !== ep.histLastSyn) this.add(isOrig, code);
        ep.histLastSyn = seq;
      }
      if (fin) {
        // A FIN's sequence number is taken at the end of any data it carries.
        const finSeq = (seq + len) >>> 0;
        if (this.check(ep, isOrig, HIST_FIN, 'F') && finSeq !== ep.histLastFin) this.add(isOrig, 'F');
        ep.histLastFin = finSeq;
      }
      if (rst) {
        if (this.check(ep, isOrig, HIST_RST, 'R') && seq !== ep.histLastRst) this.add(isOrig, 'R');
        ep.histLastRst = seq;
      }
      return;
    }
    if (len > 0) this.check(ep, isOrig, HIST_DATA, 'D');
    else if (ack) this.check(ep, isOrig, HIST_ACK, 'A');
  }

  private updateLastSeq(
    ep: ZeekEndpoint, isOrig: boolean, onePast: number, syn: boolean, fin: boolean, rst: boolean, len: number,
  ): void {
    const delta = seqDelta(onePast, ep.lastSeq);
    if ((syn || rst) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA)) {
      // untrusted jump
    } else if (fin && ep.lastSeq === ((ep.startSeq + 1) >>> 0)) {
      ep.updateLastSeq(onePast);
    } else if (ep.state === EndpointState.Reset) {
      // nothing after a RST is trusted
    } else if (delta > 0) {
      ep.updateLastSeq(onePast);
    } else if (len > 0) {
      if (++ep.rxmitCount === ep.rxmitThreshold) {
        this.add(isOrig, 'T');
        ep.rxmitThreshold *= 10;
      }
    }
  }

  private updateStateMachine(
    ep: ZeekEndpoint, peer: ZeekEndpoint, isOrig: boolean, syn: boolean, fin: boolean, rst: boolean, ack: boolean,
    seq: number, len: number,
  ): void {
    switch (ep.state) {
      case EndpointState.Inactive:
        this.inactive(ep, peer, isOrig, syn, fin, rst, ack, seq, len);
        break;
      case EndpointState.SynSent:
      case EndpointState.SynAckSent:
        if (fin) ep.setState(EndpointState.Closed);
        if (rst) ep.setState(EndpointState.Reset);
        break;
      case EndpointState.Established:
      case EndpointState.Partial:
        if (syn && ep.state === EndpointState.Partial && peer.state === EndpointState.Inactive && !ack) {
          ep.setState(EndpointState.SynSent);
        }
        if (fin && !rst) {
          ep.setState(EndpointState.Closed);
          // A FIN followed by a RST from the peer was a normal close after all.
          if (peer.state === EndpointState.Reset && peer.prevState === EndpointState.Closed) peer.setState(EndpointState.Closed);
        }
        if (rst) ep.setState(EndpointState.Reset);
        break;
      case EndpointState.Closed:
        // After a FIN exchange from both sides a RST changes nothing.
        if (rst && peer.state !== EndpointState.Closed) ep.setState(EndpointState.Reset);
        break;
      case EndpointState.Reset:
        break;
    }
  }

  private inactive(
    ep: ZeekEndpoint, peer: ZeekEndpoint, isOrig: boolean, syn: boolean, fin: boolean, rst: boolean, ack: boolean,
    seq: number, len: number,
  ): void {
    if (syn) {
      if (isOrig) {
        ep.setState(ack ? EndpointState.SynAckSent : EndpointState.SynSent);
      } else {
        if (!ack && peer.state === EndpointState.SynAckSent && seq === ep.startSeq) {
          peer.setState(EndpointState.Established);
        }
        if (peer.state === EndpointState.SynSent) peer.setState(EndpointState.Established);
        ep.setState(EndpointState.Established);
      }
    }
    if (fin) ep.setState(EndpointState.Closed);
    if (rst) ep.setState(EndpointState.Reset);
    if (ep.state === EndpointState.Inactive) {
      if (!isOrig && len === 0 && this.orig.state === EndpointState.SynSent) {
        // An ACK of a SYN before the SYN-ACK (some stacks do this): not a partial connection.
      } else if (ack && peer.state === EndpointState.Established) {
        // SYN-ACK seen, SYN missed, now the ACK: treat as established.
        ep.setState(EndpointState.Established);
      } else {
        ep.setState(EndpointState.Partial);
      }
    }
  }

  /** Zeek's conn_state(), from the final endpoint states. */
  state(): string {
    const os = this.orig.state;
    const rs = this.resp.state;
    const oInactive = os === EndpointState.Inactive || os === EndpointState.Partial;
    const rInactive = rs === EndpointState.Inactive || rs === EndpointState.Partial;
    if (rs === EndpointState.Reset) {
      if (os === EndpointState.SynSent || os === EndpointState.SynAckSent ||
        (os === EndpointState.Reset && this.orig.size === 0 && this.resp.size === 0)) return 'REJ';
      return oInactive ? 'RSTRH' : 'RSTR';
    }
    if (os === EndpointState.Reset) {
      if (rInactive) return /^\^?S[^HAFGIQ]*R.*$/.test(this.history) ? 'RSTOS0' : 'OTH';
      return 'RSTO';
    }
    if (rs === EndpointState.Closed && os === EndpointState.Closed) return 'SF';
    if (os === EndpointState.Closed) return rInactive ? 'SH' : 'S2';
    if (rs === EndpointState.Closed) return oInactive ? 'SHR' : 'S3';
    if (os === EndpointState.SynSent && rs === EndpointState.Inactive) return 'S0';
    if (os === EndpointState.Established && rs === EndpointState.Established) return 'S1';
    return 'OTH';
  }

  /** conn.log orig_bytes / resp_bytes: Zeek's TCP_Endpoint::Size(), payload bytes by sequence numbers. */
  size(isOrig: boolean): number {
    const ep = isOrig ? this.orig : this.resp;
    const peer = isOrig ? this.resp : this.orig;
    if (ep.prevState === EndpointState.SynSent && ep.state === EndpointState.Reset && peer.state === EndpointState.Inactive &&
      !ep.noDataAcked()) return 0;
    const last = ep.seqWraps * 4294967296 + ep.lastSeq;
    const ack = ep.ackWraps * 4294967296 + ep.ackSeq;
    let size = (last > ack ? last : ack) - ep.startSeq;
    if (size < 0) size += 2 ** 64; // Zeek's unsigned 64-bit arithmetic
    if (size !== 0) size--;
    if (ep.finCount > 0 && size !== 0) size--;
    return size;
  }

  /** An attempt nobody answered (yet): Zeek's AttemptTimer removes it after tcp_attempt_delay. */
  attemptOnly(): boolean {
    const o = this.orig.state;
    return (o === EndpointState.SynSent || o === EndpointState.SynAckSent) && this.resp.state === EndpointState.Inactive;
  }

  /** Both sides closed or one reset: Zeek would remove the connection soon (tcp_close_delay). */
  finished(): boolean {
    const o = this.orig.state;
    const r = this.resp.state;
    return (o === EndpointState.Closed && r === EndpointState.Closed) || o === EndpointState.Reset || r === EndpointState.Reset;
  }
}
