/**
 * Loads captures into the database in ONE streaming pass per capture:
 *   reader -> decoder -> (address ids, connection tracking, sequence analysis) -> bulk writers.
 * Nothing per packet is kept after its row is written (rows go out a DuckDB vector at a time), so memory
 * is bounded by one chunk per table plus the live connections, whatever the capture size.
 *
 * Each capture is loaded in its own transaction: a crash never leaves half a capture in a --db, and a
 * capture already present (same absolute path, size and mtime) is not loaded again.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { CaptureError } from '../../common/errors.js';
import { DecodeStatus, FrameDecoder, newDecodedPacket, type DecodedPacket } from '../decode/index.js';
import { readCapture, type RawPacket, type ReadResult } from '../readers/index.js';
import { FlowTracker, type Flow } from '../flows/tracker.js';
import { AddressDictionary } from './address-dictionary.js';
import { ChunkWriter, columnIndex } from './chunk-writer.js';
import type { Database } from './database.js';
import { FLAG_COLUMNS, FLAG_FLOW_COLUMNS, FLAG_FLOW_TABLE_SQL, FLOW_COLUMNS, FLOW_TABLE_COLUMNS, PACKET_COLUMNS } from './schema.js';
import { writeConnColumns } from '../perf/columns.js';
import { ipBytesOf, observeSegment, zeekSegmentKind } from '../perf/observe.js';
import { createFlagSource, type FlagSource } from './seq-hook.js';
import type { SegmentValues } from '../seq/segment.js';

const P = columnIndex(PACKET_COLUMNS);
const F = columnIndex(FLOW_COLUMNS);
const G = columnIndex(FLAG_COLUMNS);
const FF = columnIndex(FLAG_FLOW_COLUMNS);

export interface LoadProgress {
  path: string;
  index: number;
  count: number;
  packets: number;
  /** Byte offset reached in the file and the file size; size 0 when unknown (gzip: offsets are decompressed). */
  offset: number;
  size: number;
}

export interface LoadOptions {
  /** Called about every 64k packets; the CLI turns it into a progress line on a TTY. */
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /**
   * Which tables the load fills besides captures, interfaces and tcp_analysis (default 'all'). Only for
   * `seq` into a throw-away in-memory database, whose SQL reads nothing else; appending one row per
   * packet was most of a load's cost and connection tracking much of the rest (bench/NOTES.md):
   * - 'flows': flows, and each flagged frame's flow_id in the TEMP table flag_flows (no packet_rows);
   * - 'flags': no connection tracking either (flows and addresses stay empty, captures.flows is 0).
   * Never anything but 'all' for a kept database: every table must be complete there.
   */
  tables?: LoadTables;
  /** Drop segments with a wrong TCP checksum from the connections, as Zeek does without -C. */
  verifyChecksums?: boolean;
  /**
   * Compute the per-connection performance columns of flows (analyzer/perf). Default: with tables 'all'
   * only; `conns` asks for them with tables 'flows'. Without them those columns are NULL/0.
   */
  figures?: boolean;
}

export type LoadTables = 'all' | 'flows' | 'flags';

export interface LoadedCapture {
  captureId: number | null;
  path: string;
  /** True when the capture was already in the database and was not read again. */
  reused: boolean;
  packets: number;
  tcpPackets: number;
  partial: boolean;
  error: CaptureError | null;
  warnings: string[];
}

interface CaptureCounts {
  tcp: number;
  notTcp: number;
  unknownLinktype: number;
  malformed: number;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  flows: number;
  flags: number;
}

/** Loads each capture (skipping those already loaded) and returns what happened to each. */
export async function loadCaptures(db: Database, paths: readonly string[], opts: LoadOptions = {}): Promise<LoadedCapture[]> {
  const dict = await AddressDictionary.load(db);
  const out: LoadedCapture[] = [];
  for (let i = 0; i < paths.length; i++) {
    out.push(await loadOne(db, dict, paths[i]!, i, paths.length, opts));
  }
  return out;
}

async function existingCapture(db: Database, abs: string, size: number, mtimeMs: number): Promise<LoadedCapture | null> {
  const r = await db.connection.runAndReadAll(
    'SELECT capture_id, packets, tcp_packets, partial, error FROM captures WHERE path = $1 AND size = $2 AND mtime_ms = $3',
    [abs, size, mtimeMs],
  );
  const row = r.getRows()[0];
  if (!row) return null;
  return {
    captureId: Number(row[0]), path: abs, reused: true, packets: Number(row[1]), tcpPackets: Number(row[2]),
    partial: row[3] === true, error: null, warnings: [],
  };
}

async function nextIds(db: Database): Promise<{ captureId: number; flowId: number }> {
  const r = await db.connection.runAndReadAll(
    'SELECT (SELECT coalesce(max(capture_id), 0) + 1 FROM captures), (SELECT coalesce(max(flow_id), 0) + 1 FROM flows)',
  );
  const [c, f] = r.getRows()[0]!;
  return { captureId: Number(c), flowId: Number(f) };
}

/** gzip-compressed captures report offsets in decompressed bytes: no percentage can be given for them. */
async function isGzip(file: string): Promise<boolean> {
  const fd = await open(file, 'r').catch(() => null);
  if (!fd) return false;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fd.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fd.close();
  }
}

async function loadOne(
  db: Database, dict: AddressDictionary, file: string, index: number, count: number, opts: LoadOptions,
): Promise<LoadedCapture> {
  const abs = path.resolve(file);
  const st = await stat(abs).catch(() => null);
  if (st?.isFile()) {
    const existing = await existingCapture(db, abs, st.size, st.mtimeMs);
    if (existing) return existing;
  }
  const { captureId, flowId } = await nextIds(db);
  await db.run('BEGIN TRANSACTION');
  try {
    const progressSize = st?.isFile() && !(await isGzip(abs)) ? st.size : 0;
    const loaded = await streamCapture(db, dict, file, abs, captureId, flowId, index, count, st?.size ?? 0, st?.mtimeMs ?? 0, progressSize, opts);
    await db.run('COMMIT');
    return loaded;
  } catch (err) {
    await db.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function streamCapture(
  db: Database, dict: AddressDictionary, file: string, abs: string, captureId: number, firstFlowId: number,
  index: number, count: number, size: number, mtimeMs: number, progressSize: number, opts: LoadOptions,
): Promise<LoadedCapture> {
  const tables = opts.tables ?? 'all';
  const trackFlows = tables !== 'flags';
  const figures = opts.figures ?? tables === 'all';
  const packets = tables === 'all' ? new ChunkWriter(await db.connection.createAppender('packet_rows'), PACKET_COLUMNS) : null;
  if (tables === 'flows') await db.run(FLAG_FLOW_TABLE_SQL);
  const flagFlows = tables === 'flows' ? new ChunkWriter(await db.connection.createAppender('flag_flows', 'main', 'temp'), FLAG_FLOW_COLUMNS) : null;
  const flows = new ChunkWriter(await db.connection.createAppender('flows'), FLOW_TABLE_COLUMNS);
  const flags = new ChunkWriter(await db.connection.createAppender('tcp_analysis'), FLAG_COLUMNS);
  await dict.beginLoad(db);
  const counts: CaptureCounts = {
    tcp: 0, notTcp: 0, unknownLinktype: 0, malformed: 0, firstSec: -1, firstNsec: 0, lastSec: -1, lastNsec: 0, flows: 0, flags: 0,
  };
  const tracker = new FlowTracker(firstFlowId, (flow) => {
    writeFlow(flows, dict, flow);
    counts.flows++;
  });
  let lastFlowFrame = -1;
  const flagSource: FlagSource = createFlagSource((frame, code) => {
    flags.i32(G.capture_id, captureId);
    flags.i64(G.frame, frame);
    flags.enum8(G.flag, code);
    flags.endRow();
    counts.flags++;
    if (flagFlows && frame !== lastFlowFrame) {
      // Flags are raised synchronously for the segment being pushed, which the tracker has just placed.
      // One row per flagged frame (as packet_rows has), however many flags it raised.
      lastFlowFrame = frame;
      flagFlows.i32(FF.capture_id, captureId);
      flagFlows.i64(FF.frame, frame);
      flagFlows.i64(FF.flow_id, tracker.flow.flowId);
      flagFlows.tsNs(FF.ts, counts.lastSec, counts.lastNsec);
      flagFlows.bool(FF.from_client, tracker.fromClient);
      flagFlows.endRow();
    }
  });
  const decoder = new FrameDecoder();
  const decoded = newDecodedPacket();
  let seen = 0;

  const onPacket = (raw: RawPacket): void => {
    if (counts.firstSec < 0) {
      counts.firstSec = raw.tsSec;
      counts.firstNsec = raw.tsNsec;
    }
    counts.lastSec = raw.tsSec;
    counts.lastNsec = raw.tsNsec;
    if ((++seen & 0xffff) === 0 && opts.onProgress) {
      opts.onProgress({ path: file, index, count, packets: seen, offset: raw.fileOffset, size: progressSize });
    }
    const status = decoder.decode(raw.linktype, raw.data, raw.wireLen, decoded);
    if (status !== DecodeStatus.Tcp) {
      if (status === DecodeStatus.NotTcp) counts.notTcp++;
      else if (status === DecodeStatus.UnknownLinktype) counts.unknownLinktype++;
      else counts.malformed++;
      return;
    }
    counts.tcp++;
    if (!trackFlows) {
      flagSource.push(raw.frame, raw.tsSec, raw.tsNsec, decoded, raw.capLen);
      return;
    }
    const srcId = dict.idOf(decoded.src, decoded.ipVersion);
    const dstId = dict.idOf(decoded.dst, decoded.ipVersion);
    tracker.track(
      captureId, srcId, decoded.sport, dstId, decoded.dport, decoded.ipVersion, decoded.vlan,
      decoded.flags, decoded.seq, decoded.ack, decoded.win, decoded.payloadLen,
      decoded.tcpOffset + decoded.doff * 4 + decoded.payloadLen <= raw.capLen, raw.wireLen, raw.tsSec, raw.tsNsec,
      ipBytesOf(decoded), zeekSegmentKind(raw.data, decoded, opts.verifyChecksums === true), decoded.tunneled,
    );
    flagSource.push(raw.frame, raw.tsSec, raw.tsNsec, decoded, raw.capLen);
    if (figures) observeSegment(tracker.flow, tracker.fromClient, raw.tsSec, raw.tsNsec, decoded, flagSource.segment);
    if (packets) {
      writePacket(packets, raw, decoded, captureId, srcId, dstId, tracker.flow.flowId, tracker.fromClient);
      writeSegmentValues(packets, flagSource.segment);
      packets.endRow();
    }
  };

  const result = await readCapture(file, onPacket, opts.signal ? { signal: opts.signal } : {});
  flagSource.finish();
  tracker.finishAll();
  packets?.close();
  flagFlows?.close();
  flows.close();
  flags.close();
  dict.endLoad();

  const unreadable = result.error !== null && result.packets === 0;
  if (!unreadable) await insertCapture(db, captureId, abs, size, mtimeMs, result, counts);
  return {
    captureId: unreadable ? null : captureId, path: abs, reused: false, packets: result.packets, tcpPackets: counts.tcp,
    partial: result.partial, error: result.error, warnings: result.warnings,
  };
}

function writePacket(
  w: ChunkWriter, raw: RawPacket, d: DecodedPacket, captureId: number, srcId: number, dstId: number, flowId: number,
  fromClient: boolean,
): void {
  w.i32(P.capture_id, captureId);
  w.i64(P.frame, raw.frame);
  w.i32(P.if_id, raw.interfaceId);
  w.tsNs(P.ts, raw.tsSec, raw.tsNsec);
  w.u32(P.wire_len, raw.wireLen);
  w.u32(P.cap_len, raw.capLen);
  w.u8(P.direction, raw.flags & 3);
  w.u8(P.ip_version, d.ipVersion);
  if (d.vlan >= 0) w.i16(P.vlan, d.vlan);
  else w.null(P.vlan);
  w.u32(P.src_id, srcId);
  w.u32(P.dst_id, dstId);
  w.u8(P.ttl, d.ttl);
  if (d.ipId >= 0) w.i32(P.ip_id, d.ipId);
  else w.null(P.ip_id);
  w.u16(P.sport, d.sport);
  w.u16(P.dport, d.dport);
  w.u32(P.seq, d.seq);
  w.u32(P.ack, d.ack);
  w.u8(P.flags, d.flags);
  w.u8(P.reserved, d.reserved);
  w.u8(P.doff, d.doff);
  w.u16(P.win, d.win);
  w.u16(P.urp, d.urp);
  w.u32(P.payload_len, d.payloadLen);
  if (d.mss >= 0) w.u16(P.mss, d.mss);
  else w.null(P.mss);
  if (d.wscale >= 0) w.u8(P.wscale, d.wscale);
  else w.null(P.wscale);
  w.bool(P.sack_perm, d.sackPerm);
  if (d.tsval >= 0) {
    w.u32(P.tsval, d.tsval);
    w.u32(P.tsecr, d.tsecr);
  } else {
    w.null(P.tsval);
    w.null(P.tsecr);
  }
  if (d.sackBlocks !== null && d.sackBlocks.length > 0) w.varchar(P.sack_blocks, d.sackBlocks.join(' '));
  else w.null(P.sack_blocks);
  w.bool(P.tunneled, d.tunneled);
  w.bool(P.tcp_truncated, d.tcpTruncated);
  w.i64(P.flow_id, flowId);
  w.bool(P.from_client, fromClient);
}

/** tshark's per-segment values (analyzer/seq/segment.ts); NULL where tshark shows no field. */
function writeSegmentValues(w: ChunkWriter, s: SegmentValues): void {
  if (s.relSeq >= 0) w.u32(P.rel_seq, s.relSeq);
  else w.null(P.rel_seq);
  if (s.relAck >= 0) w.u32(P.rel_ack, s.relAck);
  else w.null(P.rel_ack);
  if (s.winScaled >= 0) w.u32(P.win_scaled, s.winScaled);
  else w.null(P.win_scaled);
  if (!Number.isNaN(s.ackRtt)) w.f64(P.ack_rtt, s.ackRtt);
  else w.null(P.ack_rtt);
  if (s.acksFrame >= 0) w.i64(P.acks_frame, s.acksFrame);
  else w.null(P.acks_frame);
  if (s.bytesInFlight >= 0) w.u32(P.bytes_in_flight, s.bytesInFlight);
  else w.null(P.bytes_in_flight);
}

function writeFlow(w: ChunkWriter, dict: AddressDictionary, f: Flow): void {
  w.i64(F.flow_id, f.flowId);
  w.i32(F.capture_id, f.captureId);
  w.u8(F.ip_version, f.ipVersion);
  if (f.vlan >= 0) w.i16(F.vlan, f.vlan);
  else w.null(F.vlan);
  w.varchar(F.client, dict.text(f.clientAddr));
  w.u16(F.cport, f.clientPort);
  w.varchar(F.server, dict.text(f.serverAddr));
  w.u16(F.sport, f.serverPort);
  w.tsNs(F.first_ts, f.firstSec, f.firstNsec);
  w.tsNs(F.last_ts, f.lastSec, f.lastNsec);
  w.f64(F.duration_s, f.lastSec - f.firstSec + (f.lastNsec - f.firstNsec) / 1e9);
  w.i64(F.packets, f.clientPackets + f.serverPackets);
  w.i64(F.bytes, f.clientBytes + f.serverBytes);
  w.i64(F.client_packets, f.clientPackets);
  w.i64(F.server_packets, f.serverPackets);
  w.i64(F.client_bytes, f.clientBytes);
  w.i64(F.server_bytes, f.serverBytes);
  w.i64(F.client_payload, f.clientPayload);
  w.i64(F.server_payload, f.serverPayload);
  w.varchar(F.state, f.zeek.state());
  w.varchar(F.history, f.zeek.history);
  if (f.rttMs >= 0) w.f64(F.rtt_ms, f.rttMs);
  else w.null(F.rtt_ms);
  if (f.clientIsn >= 0) w.u32(F.client_isn, f.clientIsn);
  else w.null(F.client_isn);
  if (f.serverIsn >= 0) w.u32(F.server_isn, f.serverIsn);
  else w.null(F.server_isn);
  w.bool(F.reused_ports, f.reused);
  writeConnColumns(w, FLOW_COLUMNS.length, f);
  w.endRow();
}

function tsLiteral(sec: number, nsec: number): string | null {
  if (sec < 0) return null;
  return `${sec}${String(nsec).padStart(9, '0')}`;
}

async function insertCapture(
  db: Database, captureId: number, abs: string, size: number, mtimeMs: number, result: ReadResult, c: CaptureCounts,
): Promise<void> {
  const first = tsLiteral(c.firstSec, c.firstNsec);
  const last = tsLiteral(c.lastSec, c.lastNsec);
  await db.connection.run(
    `INSERT INTO captures VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
       CASE WHEN $12 IS NULL THEN NULL ELSE make_timestamp_ns($12::BIGINT) END,
       CASE WHEN $13 IS NULL THEN NULL ELSE make_timestamp_ns($13::BIGINT) END,
       $14, $15, from_json($16, '["VARCHAR"]'), from_json($17, '["VARCHAR"]'), $18, $19, now()::TIMESTAMP)`,
    [
      captureId, abs, size, mtimeMs, result.format, result.compression, result.packets, c.tcp, c.notTcp,
      c.unknownLinktype, c.malformed, first, last, result.partial, result.error?.message ?? null,
      JSON.stringify(result.warnings), JSON.stringify(result.comments), c.flows, c.flags,
    ] as never,
  );
  for (const itf of result.interfaces) {
    const resol = `${itf.tsresol.base}^-${itf.tsresol.exponent}`;
    await db.connection.run(
      'INSERT INTO interfaces VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [captureId, itf.id, itf.name, itf.description, itf.linktype, itf.snaplen, resol, itf.recv, itf.drop] as never,
    );
  }
}
