/**
 * Groups TCP segments into bidirectional connections in ONE streaming pass, while the packets are
 * loaded. Streaming rather than SQL because every packet row needs its flow_id and from_client when it
 * is appended (so the packets table never has to be rewritten), and because the questions asked here
 * are stateful in packet order: who sent the SYN, did a SYN with a new ISN reuse the 4-tuple, which Zeek
 * state and history letters follow. Memory stays bounded by the connections alive at one time: a
 * connection idle for longer than Zeek's tcp_inactivity_timeout (5 minutes of capture time), or 5 s
 * after an unanswered attempt or a close, is finished and forgotten, as Zeek does.
 *
 * Connections are keyed per capture by the two (address id, port) endpoints; address ids come from the
 * loader's address dictionary so the key is two numbers, never a string built per packet.
 */
import { TCP_ACK, TCP_RST, TCP_SYN } from '../decode/types.js';
import type { ConnectionPerf } from '../perf/connection.js';
import { CloseEvent, EndpointState, ZeekConnection } from './zeek.js';

/** Zeek's tcp_partial_close_delay. */
export const PARTIAL_CLOSE_DELAY_SEC = 3;

/** Zeek's tcp_inactivity_timeout. */
export const INACTIVITY_TIMEOUT_SEC = 300;
/**
 * Zeek's tcp_attempt_delay and tcp_close_delay / tcp_reset_delay: an unanswered attempt, and a connection
 * closed or reset, are removed 5 s after their last packet; a later packet starts a new connection.
 * This also keeps memory small on scans (a million unanswered SYNs are not all live at once).
 */
export const ATTEMPT_OR_CLOSE_DELAY_SEC = 5;

/** Seconds of silence after which a connection is over, by Zeek's timers for its current state. */
function idleLimit(flow: Flow): number {
  return flow.zeek.finished() || flow.zeek.attemptOnly() ? ATTEMPT_OR_CLOSE_DELAY_SEC : INACTIVITY_TIMEOUT_SEC;
}

/**
 * Zeek's AttemptTimer: a connection that began with a SYN and whose responder has not answered within
 * tcp_attempt_delay of its start is over, however many more packets the originator sends (they start a
 * new, partial connection).
 */
function attemptExpired(flow: Flow, sec: number, nsec: number): boolean {
  return flow.zeek.attemptOnly() && sec - flow.firstSec + (nsec - flow.firstNsec) / 1e9 > ATTEMPT_OR_CLOSE_DELAY_SEC;
}

/** Zeek's close timers: 5 s after a complete close, 3 s after a partial one (if still half open then). */
function closeTimerExpired(flow: Flow, sec: number, nsec: number): boolean {
  const now = sec + nsec / 1e9;
  if (now > flow.deleteAt) return true;
  return now > flow.partialCloseAt && flow.zeek.partialCloseExpires();
}

/** Capture time from the flow's last packet to (sec, nsec), in seconds. */
function idleFor(flow: Flow, sec: number, nsec: number): number {
  return sec - flow.lastSec + (nsec - flow.lastNsec) / 1e9;
}

export interface Flow {
  flowId: number;
  captureId: number;
  ipVersion: number;
  vlan: number;
  clientAddr: number;
  clientPort: number;
  serverAddr: number;
  serverPort: number;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  clientPackets: number;
  serverPackets: number;
  clientBytes: number;
  serverBytes: number;
  clientPayload: number;
  serverPayload: number;
  /** ISNs from the SYN and the SYN-ACK, -1 when not seen. */
  clientIsn: number;
  serverIsn: number;
  /** Time of the first SYN, for the handshake RTT (Wireshark's iRTT: SYN to the ACK of the SYN-ACK). */
  synSec: number;
  synNsec: number;
  synAckSeen: boolean;
  rttMs: number;
  /** Started by a SYN with a new ISN on a 4-tuple that already had a connection. */
  reused: boolean;
  zeek: ZeekConnection;
  /** IP-level bytes per side (conn.log orig_ip_bytes / resp_ip_bytes). */
  clientIpBytes: number;
  serverIpBytes: number;
  /** Performance figures, fed by the loader after the sequence analysis of each segment; null when not computed. */
  perf: ConnectionPerf | null;
  /** Packets Zeek counts (conn.log orig_pkts / resp_pkts): not a segment whose header the snaplen cut or whose checksum is wrong. */
  origPkts: number;
  respPkts: number;
  /** Zeek's last time: the last packet before both sides had closed (conn.log's duration ends there). */
  connLastSec: number;
  connLastNsec: number;
  /** Zeek's close timers (seconds of capture time; Infinity when not running). */
  deleteAt: number;
  partialCloseAt: number;
}

export type FlowDone = (flow: Flow) => void;

/** How Zeek takes a segment. */
export const enum SegmentKind {
  Normal = 0,
  /** The snaplen cut the TCP header: Zeek makes the connection but ignores the segment. */
  HeaderCut = 1,
  /** Wrong TCP checksum (when verifying, as Zeek without -C): dropped with a 'C' in the history. */
  BadChecksum = 2,
}

/** One TCP segment as the tracker needs it; the loader fills one object and reuses it for every packet. */
export interface TrackedSegment {
  captureId: number;
  /** Address ids (the loader's address dictionary) and ports. */
  srcAddr: number;
  sport: number;
  dstAddr: number;
  dport: number;
  ipVersion: number;
  /** Innermost VLAN id, -1 for none. */
  vlan: number;
  /** TCP flag bits (decode/types.ts TCP_*). */
  flags: number;
  seq: number;
  ack: number;
  win: number;
  payloadLen: number;
  /** All of the payload is in the captured bytes (not cut by the snaplen). */
  payloadCaptured: boolean;
  /** How Zeek takes the segment (a snaplen-cut header, a bad checksum). */
  kind: SegmentKind;
  wireLen: number;
  /** IP total length (conn.log's *_ip_bytes). */
  ipBytes: number;
  /** The tunnels that carried it, 0 for none (decode/tunnel-id.ts; a change of tunnel counts toward Zeek's 'X'). */
  tunnelId: number;
  sec: number;
  nsec: number;
}

export function newTrackedSegment(): TrackedSegment {
  return {
    captureId: 0, srcAddr: 0, sport: 0, dstAddr: 0, dport: 0, ipVersion: 4, vlan: -1, flags: 0, seq: 0, ack: 0, win: 0,
    payloadLen: 0, payloadCaptured: true, kind: SegmentKind.Normal, wireLen: 0, ipBytes: 0, tunnelId: 0, sec: 0, nsec: 0,
  };
}

function isWellKnown(port: number): boolean {
  return port > 0 && port < 1024;
}

/** Which endpoint of a connection first seen with a non-SYN packet is the server. */
function senderLooksLikeServer(sport: number, dport: number): boolean {
  const s = isWellKnown(sport);
  const d = isWellKnown(dport);
  if (s !== d) return s;
  return sport < dport;
}

/**
 * The client's SYN again, same ISN, after the client itself reset the attempt and before the server ever
 * answered with a SYN-ACK: the same connect() retrying after its RST answered a stale ACK (RFC 793 3.4,
 * half-open recovery). tshark keeps it one conversation (one tcp.stream), and so does the tracker: one
 * flow per real connection, not a reuse. A reset from the server (a refused port) still ends the flow,
 * as in Zeek: a stack gives up there, and only a packet crafter sends the same SYN again.
 */
function isRetriedAttempt(flow: Flow, srcAddr: number, sport: number, seq: number): boolean {
  return flow.clientIsn === seq && !flow.synAckSeen && flow.clientAddr === srcAddr && flow.clientPort === sport &&
    flow.zeek.orig.state === EndpointState.Reset && flow.zeek.resp.state !== EndpointState.Reset;
}

/**
 * Zeek's state machine starts again at the retried SYN (the reset attempt would otherwise leave the flow
 * RSTO for good); the history so far is kept in front, and the handshake RTT is measured from this SYN,
 * Wireshark's "most recent SYN".
 */
function restartAttempt(flow: Flow, sec: number, nsec: number): void {
  const zeek = new ZeekConnection();
  zeek.history = flow.zeek.history;
  flow.zeek = zeek;
  flow.synSec = sec;
  flow.synNsec = nsec;
}

export class FlowTracker {
  /** lowEndpoint -> highEndpoint -> flow; endpoint = addrId * 65536 + port. */
  private readonly table = new Map<number, Map<number, Flow>>();
  private live = 0;
  private packetsSinceSweep = 0;
  /** Results of the last `track` call, read by the loader without allocating a tuple per packet. */
  flow!: Flow;
  fromClient = false;

  constructor(
    private nextFlowId: number,
    private readonly onDone: FlowDone,
  ) {}

  get nextId(): number {
    return this.nextFlowId;
  }

  /** Assigns the segment to its connection (creating or splitting one as needed) and updates it. */
  track(segment: TrackedSegment): void {
    const { captureId, srcAddr, sport, dstAddr, dport, ipVersion, vlan, flags, seq, ack, win, payloadLen, payloadCaptured, wireLen, sec, nsec, ipBytes, kind, tunnelId } = segment;
    const srcEp = srcAddr * 65536 + sport;
    const dstEp = dstAddr * 65536 + dport;
    const lo = srcEp < dstEp ? srcEp : dstEp;
    const hi = srcEp < dstEp ? dstEp : srcEp;
    let inner = this.table.get(lo);
    if (inner === undefined) {
      inner = new Map();
      this.table.set(lo, inner);
    }
    const isSyn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    let flow = inner.get(hi);
    let reused = false;
    if (flow !== undefined) {
      const idle = idleFor(flow, sec, nsec) > idleLimit(flow) || attemptExpired(flow, sec, nsec) || closeTimerExpired(flow, sec, nsec);
      const newIsn = isSyn && (flow.clientIsn >= 0 ? flow.clientIsn !== seq || flow.zeek.finished() : flow.zeek.finished());
      if (!idle && newIsn && isRetriedAttempt(flow, srcAddr, sport, seq)) {
        restartAttempt(flow, sec, nsec);
      } else if (idle || newIsn) {
        reused = newIsn && !idle;
        this.finish(flow);
        inner.delete(hi);
        flow = undefined;
      }
    }
    if (flow === undefined) {
      // Zeek opens the connection of a cut header from the IP addresses and ports alone: no role flip.
      const roleFlags = kind === SegmentKind.HeaderCut ? TCP_SYN : flags;
      flow = this.open(captureId, srcAddr, sport, dstAddr, dport, ipVersion, vlan, roleFlags, sec, nsec);
      flow.reused = reused;
      inner.set(hi, flow);
      this.live++;
    }
    const fromClient = flow.clientAddr === srcAddr && flow.clientPort === sport;
    this.flow = flow;
    this.fromClient = fromClient;
    flow.zeek.encapsulation(tunnelId);
    if (kind !== SegmentKind.Normal) {
      // Zeek drops the segment before counting it: a bad checksum leaves a 'C', a cut header nothing.
      // It still is a packet of the connection (flows.packets / bytes add up to the packets table).
      if (kind === SegmentKind.BadChecksum) flow.zeek.badChecksum(fromClient);
      flow.lastSec = sec;
      flow.lastNsec = nsec;
      if (fromClient) {
        flow.clientPackets++;
        flow.clientBytes += wireLen;
      } else {
        flow.serverPackets++;
        flow.serverBytes += wireLen;
      }
      return;
    }
    this.update(flow, fromClient, flags, seq, ack, win, payloadLen, payloadCaptured, wireLen, sec, nsec);
    if (fromClient) flow.clientIpBytes += ipBytes;
    else flow.serverIpBytes += ipBytes;
    this.flow = flow;
    this.fromClient = fromClient;
    if (++this.packetsSinceSweep >= 65536) this.sweep(sec, nsec);
  }

  private open(
    captureId: number, srcAddr: number, sport: number, dstAddr: number, dport: number, ipVersion: number, vlan: number,
    flags: number, sec: number, nsec: number,
  ): Flow {
    const syn = (flags & TCP_SYN) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    // The SYN sender is the client; a SYN-ACK's sender is the server; otherwise the port heuristic.
    const senderIsServer = syn ? ack : senderLooksLikeServer(sport, dport);
    const zeek = new ZeekConnection();
    if (senderIsServer) zeek.markFlipped();
    return {
      flowId: this.nextFlowId++,
      captureId, ipVersion, vlan,
      clientAddr: senderIsServer ? dstAddr : srcAddr,
      clientPort: senderIsServer ? dport : sport,
      serverAddr: senderIsServer ? srcAddr : dstAddr,
      serverPort: senderIsServer ? sport : dport,
      firstSec: sec, firstNsec: nsec, lastSec: sec, lastNsec: nsec,
      clientPackets: 0, serverPackets: 0, clientBytes: 0, serverBytes: 0, clientPayload: 0, serverPayload: 0,
      clientIsn: -1, serverIsn: -1, synSec: -1, synNsec: 0, synAckSeen: false, rttMs: -1,
      reused: false, zeek, clientIpBytes: 0, serverIpBytes: 0, perf: null, origPkts: 0, respPkts: 0,
      deleteAt: Number.POSITIVE_INFINITY, partialCloseAt: Number.POSITIVE_INFINITY, connLastSec: sec, connLastNsec: nsec,
    };
  }

  private update(
    flow: Flow, fromClient: boolean, flags: number, seq: number, ack: number, win: number, payloadLen: number,
    payloadCaptured: boolean, wireLen: number, sec: number, nsec: number,
  ): void {
    flow.lastSec = sec;
    flow.lastNsec = nsec;
    const syn = (flags & TCP_SYN) !== 0;
    const ackFlag = (flags & TCP_ACK) !== 0;
    if (fromClient) {
      flow.clientPackets++;
      flow.origPkts++;
      flow.clientBytes += wireLen;
      flow.clientPayload += payloadLen;
      if (syn && !ackFlag && flow.clientIsn < 0) {
        flow.clientIsn = seq;
        flow.synSec = sec;
        flow.synNsec = nsec;
      } else if (!syn && ackFlag && flow.synAckSeen && flow.rttMs < 0 && flow.synSec >= 0 && (flags & TCP_RST) === 0) {
        flow.rttMs = (sec - flow.synSec) * 1000 + (nsec - flow.synNsec) / 1e6;
      }
    } else {
      flow.serverPackets++;
      flow.respPkts++;
      flow.serverBytes += wireLen;
      flow.serverPayload += payloadLen;
      if (syn && ackFlag && flow.serverIsn < 0) {
        flow.serverIsn = seq;
        flow.synAckSeen = true;
      }
    }
    if (!flow.zeek.bothClosed()) {
      flow.connLastSec = sec;
      flow.connLastNsec = nsec;
    }
    const closed = flow.zeek.packet(fromClient, flags, seq, ack, win, payloadLen, payloadCaptured);
    if (closed === CloseEvent.Complete) {
      flow.deleteAt = sec + nsec / 1e9 + ATTEMPT_OR_CLOSE_DELAY_SEC;
      flow.partialCloseAt = Number.POSITIVE_INFINITY;
    } else if (closed === CloseEvent.Partial) {
      flow.partialCloseAt = sec + nsec / 1e9 + PARTIAL_CLOSE_DELAY_SEC;
    }
  }

  private finish(flow: Flow): void {
    this.live--;
    this.onDone(flow);
  }

  /** Finishes connections idle past their Zeek timeout (bounded memory on long captures and scans). */
  private sweep(nowSec: number, nowNsec: number): void {
    this.packetsSinceSweep = 0;
    for (const [lo, inner] of this.table) {
      for (const [hi, flow] of inner) {
        if (idleFor(flow, nowSec, nowNsec) > idleLimit(flow)) {
          this.finish(flow);
          inner.delete(hi);
        }
      }
      if (inner.size === 0) this.table.delete(lo);
    }
  }

  /** Finishes every connection still open (end of a capture), in flow_id order. */
  finishAll(): void {
    const open: Flow[] = [];
    for (const inner of this.table.values()) for (const flow of inner.values()) open.push(flow);
    open.sort((a, b) => a.flowId - b.flowId);
    for (const flow of open) this.finish(flow);
    this.table.clear();
  }

  get liveFlows(): number {
    return this.live;
  }
}
