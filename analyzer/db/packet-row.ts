/**
 * One row of packet_rows as values (without the per-segment columns, see loader.ts writeSegmentValues):
 * the one place that maps a read and decoded packet to its columns. A row is a plain object so the
 * 'report' load (report-window.ts) can hold a packet and write it later, when a RST shows its
 * connection's state is needed after all.
 */
import type { DecodedPacket } from '../decode/index.js';
import type { RawPacket } from '../readers/index.js';
import type { ChunkWriter } from './chunk-writer.js';
import { columnIndex } from './column-spec.js';
import { PACKET_COLUMNS } from './schema.js';

const P = columnIndex(PACKET_COLUMNS);

/** Where a packet row goes: its file's capture, its frame in the set's timeline, its connection. */
export interface PacketPlace {
  captureId: number;
  frame: number;
  srcId: number;
  dstId: number;
  flowId: number;
  fromClient: boolean;
}

export class PacketRow {
  captureId = 0;
  frame = 0;
  fileFrame = 0;
  ifId = 0;
  tsSec = 0;
  tsNsec = 0;
  wireLen = 0;
  capLen = 0;
  direction = 0;
  ipVersion = 0;
  /** -1: none (NULL); so below for ipId, mss, wscale, tsval. */
  vlan = -1;
  srcId = 0;
  dstId = 0;
  ttl = 0;
  ipId = -1;
  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  reserved = 0;
  doff = 0;
  win = 0;
  urp = 0;
  payloadLen = 0;
  mss = -1;
  wscale = -1;
  sackPerm = false;
  tsval = -1;
  tsecr = -1;
  /** "l0 r0 l1 r1 ..." or null. */
  sackBlocks: string | null = null;
  tunneled = false;
  tcpTruncated = false;
  flowId = 0;
  fromClient = false;

  fill(raw: RawPacket, d: DecodedPacket, at: PacketPlace): void {
    this.captureId = at.captureId;
    this.frame = at.frame;
    this.fileFrame = raw.frame;
    this.ifId = raw.interfaceId;
    this.tsSec = raw.tsSec;
    this.tsNsec = raw.tsNsec;
    this.wireLen = raw.wireLen;
    this.capLen = raw.capLen;
    this.direction = raw.flags & 3;
    this.ipVersion = d.ipVersion;
    this.vlan = d.vlan;
    this.srcId = at.srcId;
    this.dstId = at.dstId;
    this.ttl = d.ttl;
    this.ipId = d.ipId;
    this.sport = d.sport;
    this.dport = d.dport;
    this.seq = d.seq;
    this.ack = d.ack;
    this.flags = d.flags;
    this.reserved = d.reserved;
    this.doff = d.doff;
    this.win = d.win;
    this.urp = d.urp;
    this.payloadLen = d.payloadLen;
    this.mss = d.mss;
    this.wscale = d.wscale;
    this.sackPerm = d.sackPerm;
    this.tsval = d.tsval;
    this.tsecr = d.tsecr;
    this.sackBlocks = d.sackBlocks !== null && d.sackBlocks.length > 0 ? d.sackBlocks.join(' ') : null;
    this.tunneled = d.tunneled;
    this.tcpTruncated = d.tcpTruncated;
    this.flowId = at.flowId;
    this.fromClient = at.fromClient;
  }
}

/** Writes the row's columns; the caller adds the per-segment columns and ends the row. */
export function writePacketRow(w: ChunkWriter, r: PacketRow): void {
  w.i32(P.capture_id, r.captureId);
  w.i64(P.frame, r.frame);
  w.i64(P.file_frame, r.fileFrame);
  w.i32(P.if_id, r.ifId);
  w.tsNs(P.ts, r.tsSec, r.tsNsec);
  w.u32(P.wire_len, r.wireLen);
  w.u32(P.cap_len, r.capLen);
  w.u8(P.direction, r.direction);
  w.u8(P.ip_version, r.ipVersion);
  if (r.vlan >= 0) w.i16(P.vlan, r.vlan);
  else w.null(P.vlan);
  w.u32(P.src_id, r.srcId);
  w.u32(P.dst_id, r.dstId);
  w.u8(P.ttl, r.ttl);
  if (r.ipId >= 0) w.i32(P.ip_id, r.ipId);
  else w.null(P.ip_id);
  w.u16(P.sport, r.sport);
  w.u16(P.dport, r.dport);
  w.u32(P.seq, r.seq);
  w.u32(P.ack, r.ack);
  w.u8(P.flags, r.flags);
  w.u8(P.reserved, r.reserved);
  w.u8(P.doff, r.doff);
  w.u16(P.win, r.win);
  w.u16(P.urp, r.urp);
  w.u32(P.payload_len, r.payloadLen);
  if (r.mss >= 0) w.u16(P.mss, r.mss);
  else w.null(P.mss);
  if (r.wscale >= 0) w.u8(P.wscale, r.wscale);
  else w.null(P.wscale);
  w.bool(P.sack_perm, r.sackPerm);
  if (r.tsval >= 0) {
    w.u32(P.tsval, r.tsval);
    w.u32(P.tsecr, r.tsecr);
  } else {
    w.null(P.tsval);
    w.null(P.tsecr);
  }
  if (r.sackBlocks !== null) w.varchar(P.sack_blocks, r.sackBlocks);
  else w.null(P.sack_blocks);
  w.bool(P.tunneled, r.tunneled);
  w.bool(P.tcp_truncated, r.tcpTruncated);
  w.i64(P.flow_id, r.flowId);
  w.bool(P.from_client, r.fromClient);
}
