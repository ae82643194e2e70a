/**
 * Loads captures into the database in ONE streaming pass per capture set:
 *   capture set (merged by timestamp) -> decoder -> TCP header analysable? -> connection tracking,
 *   sequence analysis -> bulk writers.
 * Every command that reads captures (seq, analyze, scans, query, export, conns, report) and the library
 * (openCaptures) load through here; nothing else runs the per-packet analysis.
 *
 * The captures named together are one recording (analyzer/pipeline/capture-set.ts): connections and
 * sequence analysis carry across their files and `frame` numbers the merged timeline; `--per-file` makes
 * each file its own set. Nothing per packet is kept after its row is written (rows go out a DuckDB vector
 * at a time), so memory is bounded by one chunk per table plus the live connections.
 *
 * Each set is loaded in its own transaction: a crash never leaves half a set in a --db. A set already
 * present (the same files: absolute path, size and mtime) is not loaded again; a set that shares a file
 * with it but differs (a file added to a rotation set) replaces it.
 */
import { open } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { UsageError, type CaptureError } from '../../common/errors.js';
import { DecodeStatus, FrameDecoder, newDecodedPacket, type DecodedPacket } from '../decode/index.js';
import { inputName, STDIN, type RawPacket, type ReadResult } from '../readers/index.js';
import { statOrNull } from '../readers/common.js';
import { readCaptureSet, type PlannedSet } from '../pipeline/capture-set.js';
import { FlowTracker, newTrackedSegment, type Flow, type TrackedSegment } from '../flows/tracker.js';
import { SequenceAnalyzer } from '../seq/index.js';
import { AddressDictionary } from './address-dictionary.js';
import { ProbeWindow } from './probe-window.js';
import { ReportWindow } from './report-window.js';
import { PacketRow, writePacketRow } from './packet-row.js';
import { ChunkWriter, columnIndex } from './chunk-writer.js';
import type { Database } from './database.js';
import { FLAG_COLUMNS, FLAG_FLOW_COLUMNS, FLAG_FLOW_TABLE_SQL, FLOW_COLUMNS, FLOW_TABLE_COLUMNS, PACKET_COLUMNS } from './schema.js';
import { writeConnColumns } from '../perf/columns.js';
import { ipBytesOf, observeSegment, zeekSegmentKind } from '../perf/observe.js';
import type { SegmentValues } from '../seq/segment.js';
import { bigintOrNull, nulledValueWarnings, StampGuard, storeError, tsNsInRange } from './value-range.js';

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
   * - 'probes': for `scans`: flows, and packet_rows only for connections that may still be probes
   *   (probe-window.ts); no sequence analysis (tcp_analysis stays empty) and no per-segment values.
   * - 'report': for `analyze`: flows, tcp_analysis, and packet_rows only for the packets its sections
   *   read (report-window.ts); no per-segment values.
   * Never anything but 'all' for a kept database: every table must be complete there.
   */
  tables?: LoadTables;
  /** Each capture is its own recording (own timeline, own connections), as before capture sets. */
  perFile?: boolean;
  /** Drop segments with a wrong TCP checksum from the connections, as Zeek does without -C. */
  verifyChecksums?: boolean;
  /**
   * Compute the per-connection performance columns of flows (analyzer/perf). Default: with tables 'all'
   * only; `conns` asks for them with tables 'flows'. Without them those columns are NULL/0.
   */
  figures?: boolean;
  /**
   * The inputs (two or more, one set) already being peeked (planCaptureSet), begun before the database
   * was ready. Only for a database without sets in it: a kept set is recognised before any read.
   */
  plan?: Promise<PlannedSet>;
}

export type LoadTables = 'all' | 'flows' | 'flags' | 'probes' | 'report';

export interface LoadedCapture {
  captureId: number | null;
  /** The recording (capture set) the capture was loaded in. */
  setId: number | null;
  /** Absolute path, or `<stdin>`. */
  path: string;
  /** True when the capture was already in the database and was not read again. */
  reused: boolean;
  packets: number;
  tcpPackets: number;
  partial: boolean;
  error: CaptureError | null;
  warnings: string[];
  /** The warnings about values no column holds, stored as NULL (value-range.ts); also in `warnings`. */
  nulled: string[];
}

/** What the pass counts for each file of a set (the captures row). */
interface FileCounts {
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

function newCounts(): FileCounts {
  return { tcp: 0, notTcp: 0, unknownLinktype: 0, malformed: 0, firstSec: -1, firstNsec: 0, lastSec: -1, lastNsec: 0, flows: 0, flags: 0 };
}

/** One input as the loader identifies it: a regular file by path, size and mtime; a stream by nothing. */
interface InputIdentity {
  input: string;
  abs: string;
  size: number;
  mtimeMs: number;
  /** A regular file: can be recognised in a kept database. Streams are always read. */
  stable: boolean;
  /** Handed to the reader, which then takes no stat of its own (null: standard input, or none could be had). */
  stat: Stats | null;
}

/** Loads the captures (as one set, or one set per file) and returns what happened to each file. */
export async function loadCaptures(db: Database, inputs: readonly string[], opts: LoadOptions = {}): Promise<LoadedCapture[]> {
  if (inputs.filter((i) => i === STDIN).length > 1) throw new UsageError('standard input (-) can be read only once');
  const dict = await AddressDictionary.load(db);
  const sets = opts.perFile ? inputs.map((i) => [i]) : [inputs];
  const out: LoadedCapture[] = [];
  for (const set of sets) out.push(...(await loadSet(db, dict, set, opts)));
  return out;
}

/** `known`: the input's stat when the set's plan took it already (undefined: take it here). */
async function identify(input: string, known?: Stats | null): Promise<InputIdentity> {
  if (input === STDIN) return { input, abs: inputName(input), size: 0, mtimeMs: 0, stable: false, stat: null };
  const abs = path.resolve(input);
  const st = known === undefined ? statOrNull(abs) : known;
  return { input, abs, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0, stable: st?.isFile() ?? false, stat: st };
}

/** The set already in the database with exactly these files, as LoadedCaptures; null when there is none. */
async function existingSet(db: Database, ids: InputIdentity[]): Promise<LoadedCapture[] | null> {
  if (!ids.every((i) => i.stable)) return null;
  const r = await db.connection.runAndReadAll(
    `SELECT set_id, capture_id, path, size, mtime_ms, packets, tcp_packets, partial FROM captures
     WHERE set_id IN (SELECT set_id FROM captures WHERE path = $1) ORDER BY capture_id`,
    [ids[0]!.abs],
  );
  const rows = r.getRows();
  if (rows.length === 0) return null;
  const bySet = new Map<number, typeof rows>();
  for (const row of rows) {
    const members = bySet.get(Number(row[0]));
    if (members) members.push(row);
    else bySet.set(Number(row[0]), [row]);
  }
  for (const [setId, members] of bySet) {
    if (members.length !== ids.length) continue;
    // In the order the inputs were given, as for a set loaded now.
    const matched = ids.map((id) => members.find((m) => m[2] === id.abs && Number(m[3]) === id.size && Number(m[4]) === id.mtimeMs));
    if (matched.some((m) => m === undefined)) continue;
    return matched.map((m) => ({
      captureId: Number(m![1]), setId, path: String(m![2]), reused: true, packets: Number(m![5]), tcpPackets: Number(m![6]),
      partial: m![7] === true, error: null, warnings: [], nulled: [],
    }));
  }
  return null;
}

/** Removes every set that holds one of these files: the new set replaces it (a file added to a rotation set). */
async function dropSetsWith(db: Database, ids: InputIdentity[]): Promise<void> {
  const paths = ids.filter((i) => i.stable).map((i) => i.abs);
  if (paths.length === 0) return;
  const sets = `SELECT set_id FROM captures WHERE path IN (SELECT unnest(from_json($1, '["VARCHAR"]')))`;
  const captures = `SELECT capture_id FROM captures WHERE set_id IN (${sets})`;
  for (const table of ['packet_rows', 'tcp_analysis', 'flows', 'interfaces']) {
    await db.connection.run(`DELETE FROM ${table} WHERE capture_id IN (${captures})`, [JSON.stringify(paths)] as never);
  }
  await db.connection.run(`DELETE FROM captures WHERE set_id IN (${sets})`, [JSON.stringify(paths)] as never);
}

async function nextIds(db: Database): Promise<{ captureId: number; flowId: number; setId: number }> {
  const r = await db.connection.runAndReadAll(
    `SELECT (SELECT coalesce(max(capture_id), 0) + 1 FROM captures), (SELECT coalesce(max(flow_id), 0) + 1 FROM flows),
            (SELECT coalesce(max(set_id), 0) + 1 FROM captures)`,
  );
  const [c, f, s] = r.getRows()[0]!;
  return { captureId: Number(c), flowId: Number(f), setId: Number(s) };
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

async function loadSet(db: Database, dict: AddressDictionary, inputs: readonly string[], opts: LoadOptions): Promise<LoadedCapture[]> {
  // A plan begun before the database opened has taken every input's stat (1,000 files: ~10 ms): reuse it.
  const planned = opts.plan ? new Map((await opts.plan).members.map((m) => [m.input, m.stat])) : null;
  const ids = await Promise.all(inputs.map((i) => identify(i, planned?.get(i))));
  const existing = db.empty ? null : await existingSet(db, ids);
  if (existing) return existing;
  await db.run('BEGIN TRANSACTION');
  try {
    if (!db.empty) await dropSetsWith(db, ids);
    db.empty = false;
    const loaded = await streamSet(db, dict, ids, opts);
    await db.run('COMMIT');
    return loaded;
  } catch (err) {
    await db.run('ROLLBACK').catch(() => undefined);
    throw storeError(ids.map((i) => i.abs).join(', '), err);
  }
}

/** Everything the per-packet pass writes to, for one set. */
interface SetWriters {
  packets: ChunkWriter | null;
  flagFlows: ChunkWriter | null;
  flows: ChunkWriter;
  flags: ChunkWriter;
}

async function openWriters(db: Database, tables: LoadTables): Promise<SetWriters> {
  const packets = tables === 'all' || tables === 'probes' || tables === 'report' ? new ChunkWriter(await db.connection.createAppender('packet_rows'), PACKET_COLUMNS) : null;
  if (tables === 'flows') await db.run(FLAG_FLOW_TABLE_SQL);
  const flagFlows = tables === 'flows' ? new ChunkWriter(await db.connection.createAppender('flag_flows', 'main', 'temp'), FLAG_FLOW_COLUMNS) : null;
  const flows = new ChunkWriter(await db.connection.createAppender('flows'), FLOW_TABLE_COLUMNS);
  const flags = new ChunkWriter(await db.connection.createAppender('tcp_analysis'), FLAG_COLUMNS);
  return { packets, flagFlows, flows, flags };
}

async function streamSet(db: Database, dict: AddressDictionary, ids: InputIdentity[], opts: LoadOptions): Promise<LoadedCapture[]> {
  const tables = opts.tables ?? 'all';
  const trackFlows = tables !== 'flags';
  const figures = opts.figures ?? tables === 'all';
  const analyzeSequences = tables !== 'probes';
  const first = await nextIds(db);
  const probeWindow = tables === 'probes' || tables === 'report' ? new ProbeWindow(first.flowId) : null;
  const w = await openWriters(db, tables);
  // Segment values (rel_seq, ...) only in a complete table: the windowed loads read none of them.
  const segmentValues = tables === 'all';
  const reportWindow = tables === 'report' ? new ReportWindow(first.flowId, (row) => {
    writePacketRow(w.packets!, row);
    writeNoSegmentValues(w.packets!);
    w.packets!.endRow();
  }) : null;
  await dict.beginLoad(db);
  const byInput = new Map(ids.map((i) => [i.input, i]));
  // Filled when the set's canonical order is known (before the first packet).
  let order: InputIdentity[] = [];
  // Per file, made at the file's first packet (fileStarts), not all when the order is known: their time
  // fields start as small integers (-1) and become doubles with the first timestamp, which makes V8 retire
  // the objects' shape; 1,000 objects made before that kept the retired shape, and every packet of a
  // 1,000-file set paid for it (0.4-0.5 s per million packets; bench/NOTES.md, capture sets).
  let counts: (FileCounts | undefined)[] = [];
  // Per file: timestamps no TIMESTAMP_NS holds (value-range.ts), and the last good one.
  let stamps: (StampGuard | undefined)[] = [];
  const fileStarts = (file: number): FileCounts => {
    stamps[file] = new StampGuard();
    return (counts[file] = newCounts());
  };
  // Progress percentages only for plain files (gzip offsets are in decompressed bytes), and only when shown.
  const sizeOf = new Map<string, number>();
  if (opts.onProgress) for (const i of ids) sizeOf.set(i.input, i.stable && !(await isGzip(i.abs)) ? i.size : 0);
  let progressSizes: number[] = [];
  const captureIdOf = (file: number): number => first.captureId + file;

  const tracker = new FlowTracker(first.flowId, (flow) => {
    writeFlow(w.flows, dict, flow);
    counts[flow.captureId - first.captureId]!.flows++;
    reportWindow?.release(flow.flowId);
  });
  // The file, frame and time of the segment being analyzed: flags are raised synchronously inside push().
  const current = { file: 0, frame: 0, sec: 0, nsec: 0 };
  let lastFlowFrame = -1;
  // The last frame that raised a flag: the report's sections read the packet rows of flagged frames.
  let lastFlaggedFrame = -1;
  const seq = new SequenceAnalyzer({
    collect: false,
    onFlag: (frame, code) => {
      const captureId = captureIdOf(current.file);
      w.flags.i32(G.capture_id, captureId);
      w.flags.i64(G.frame, frame);
      w.flags.enum8(G.flag, code);
      w.flags.endRow();
      counts[current.file]!.flags++;
      lastFlaggedFrame = frame;
      if (w.flagFlows && frame !== lastFlowFrame) {
        // One row per flagged frame (as packet_rows has), however many flags it raised; the tracker has
        // just placed the segment.
        lastFlowFrame = frame;
        w.flagFlows.i32(FF.capture_id, captureId);
        w.flagFlows.i64(FF.frame, frame);
        w.flagFlows.i64(FF.flow_id, tracker.flow.flowId);
        w.flagFlows.tsNs(FF.ts, current.sec, current.nsec);
        w.flagFlows.bool(FF.from_client, tracker.fromClient);
        w.flagFlows.endRow();
      }
    },
  });
  const decoder = new FrameDecoder();
  const decoded = newDecodedPacket();
  const segment = newTrackedSegment();
  const row = new PacketRow();
  const place = { captureId: 0, frame: 0, srcId: 0, dstId: 0, flowId: 0, fromClient: false };
  let seen = 0;

  const onPacket = (raw: RawPacket, file: number, frame: number): void => {
    const c = counts[file] ?? fileStarts(file);
    const guard = stamps[file]!;
    const tsOk = guard.check(raw.frame, raw.fileOffset, raw.tsSec, raw.tsNsec);
    if (tsOk) {
      if (c.firstSec < 0) {
        c.firstSec = raw.tsSec;
        c.firstNsec = raw.tsNsec;
      }
      c.lastSec = raw.tsSec;
      c.lastNsec = raw.tsNsec;
    }
    if ((++seen & 0xffff) === 0 && opts.onProgress) {
      opts.onProgress({ path: order[file]!.abs, index: file, count: order.length, packets: seen, offset: raw.fileOffset, size: progressSizes[file]! });
    }
    const status = decoder.decode(raw.linktype, raw.data, raw.wireLen, decoded);
    if (status !== DecodeStatus.Tcp) {
      if (status === DecodeStatus.NotTcp) c.notTcp++;
      else if (status === DecodeStatus.UnknownLinktype) c.unknownLinktype++;
      else c.malformed++;
      return;
    }
    c.tcp++;
    current.file = file;
    current.frame = frame;
    current.sec = raw.tsSec;
    current.nsec = raw.tsNsec;
    // The captured length goes with the segment: a TCP header the snaplen cut before its window field is
    // not analyzed (tshark cannot dissect it either); the row still records what was captured.
    if (!trackFlows) {
      seq.push(frame, raw.tsSec, raw.tsNsec, decoded, raw.capLen);
      return;
    }
    fillSegment(segment, decoded, raw, captureIdOf(file), dict, opts.verifyChecksums === true);
    if (!tsOk) {
      // Connection timers must not see centuries pass on one flipped byte: the last good stamp stands in.
      segment.sec = guard.sec;
      segment.nsec = guard.nsec;
    }
    tracker.track(segment);
    if (analyzeSequences) seq.push(frame, raw.tsSec, raw.tsNsec, decoded, raw.capLen);
    if (figures) observeSegment(tracker.flow, tracker.fromClient, segment.sec, segment.nsec, decoded, seq.segment);
    if (w.packets === null) return;
    const probe = probeWindow === null || probeWindow.keep(tracker.flow.flowId, segment.srcAddr, segment.sport, segment.payloadLen);
    if (!probe && reportWindow === null) return;
    place.captureId = captureIdOf(file);
    place.frame = frame;
    place.srcId = segment.srcAddr;
    place.dstId = segment.dstAddr;
    place.flowId = tracker.flow.flowId;
    place.fromClient = tracker.fromClient;
    if (reportWindow !== null) {
      reportWindow.row.fill(raw, decoded, place);
      reportWindow.offer(probe || lastFlaggedFrame === frame);
      return;
    }
    row.fill(raw, decoded, place);
    writePacketRow(w.packets, row);
    if (segmentValues) writeSegmentValues(w.packets, seq.segment);
    else writeNoSegmentValues(w.packets);
    w.packets.endRow();
  };

  const files = await readCaptureSet(ids.map((i) => i.input), onPacket, {
    stats: ids.map((i) => i.stat),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.plan ? { plan: opts.plan } : {}),
    onOrder: (ordered) => {
      order = ordered.map((o) => byInput.get(o.input)!);
      counts = new Array<FileCounts | undefined>(order.length);
      stamps = new Array<StampGuard | undefined>(order.length);
      progressSizes = order.map((o) => sizeOf.get(o.input) ?? 0);
    },
  });
  tracker.finishAll();
  w.packets?.close();
  w.flagFlows?.close();
  w.flows.close();
  w.flags.close();
  dict.endLoad();

  // In the order the inputs were given (capture ids follow the canonical order).
  const out: LoadedCapture[] = [];
  const rows: CaptureRow[] = [];
  const position = new Map(ids.map((i, n) => [i.input, n]));
  for (const f of [...files].sort((a, b) => position.get(a.input)! - position.get(b.input)!)) {
    const id = order[f.index]!;
    const result = f.result;
    // A file that gave no packet never started.
    const fileCounts = counts[f.index] ?? newCounts();
    const nulled = nulledValueWarnings(stamps[f.index] ?? new StampGuard(), result.interfaces);
    result.warnings.push(...nulled);
    const unreadable = result.error !== null && result.packets === 0;
    const captureId = captureIdOf(f.index);
    if (!unreadable) rows.push({ captureId, setId: first.setId, id, result, counts: fileCounts });
    out.push({
      captureId: unreadable ? null : captureId, setId: unreadable ? null : first.setId, path: f.name, reused: false,
      packets: result.packets, tcpPackets: fileCounts.tcp, partial: result.partial, error: result.error, warnings: result.warnings,
      nulled,
    });
  }
  await insertCaptures(db, rows);
  return out;
}

/** The per-packet values of one segment, as the connection tracker needs them (one reused object). */
function fillSegment(s: TrackedSegment, d: DecodedPacket, raw: RawPacket, captureId: number, dict: AddressDictionary, verifyChecksums: boolean): void {
  s.captureId = captureId;
  s.srcAddr = dict.idOf(d.src, d.ipVersion);
  s.sport = d.sport;
  s.dstAddr = dict.idOf(d.dst, d.ipVersion);
  s.dport = d.dport;
  s.ipVersion = d.ipVersion;
  s.vlan = d.vlan;
  s.flags = d.flags;
  s.seq = d.seq;
  s.ack = d.ack;
  s.win = d.win;
  // The tracker keeps Zeek's view: bytes PPPoE's length field cut are payload (the IP length says so).
  s.payloadLen = d.payloadLen + d.lengthFieldCut;
  // A segment read from a reassembled datagram (tcpOffset -1) was captured whole: only fragments captured
  // whole are reassembled, though the decoder keeps just the datagram's head.
  s.payloadCaptured = d.tcpOffset < 0 || d.tcpOffset + d.doff * 4 + s.payloadLen <= raw.capLen;
  s.kind = zeekSegmentKind(raw.data, d, verifyChecksums);
  s.wireLen = raw.wireLen;
  s.ipBytes = ipBytesOf(d);
  s.tunnelId = d.tunnelId;
  s.sec = raw.tsSec;
  s.nsec = raw.tsNsec;
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

/** The per-segment columns of a load without sequence analysis ('probes'): NULL, as where tshark shows no field. */
const SEGMENT_VALUE_COLUMNS = [P.rel_seq, P.rel_ack, P.win_scaled, P.ack_rtt, P.acks_frame, P.bytes_in_flight];
function writeNoSegmentValues(w: ChunkWriter): void {
  for (const c of SEGMENT_VALUE_COLUMNS) w.null(c);
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
  if (!tsNsInRange(sec)) return null;
  return `${sec}${String(nsec).padStart(9, '0')}`;
}

interface CaptureRow {
  captureId: number;
  setId: number;
  id: InputIdentity;
  result: ReadResult;
  counts: FileCounts;
}

/** The captures' and interfaces' columns as from_json types, in table order (one statement per set, not per file). */
const CAPTURE_JSON = {
  capture_id: 'INTEGER', path: 'VARCHAR', size: 'BIGINT', mtime_ms: 'DOUBLE', format: 'VARCHAR', compression: 'VARCHAR',
  packets: 'BIGINT', tcp_packets: 'BIGINT', not_tcp: 'BIGINT', unknown_linktype: 'BIGINT', malformed: 'BIGINT',
  first_ns: 'VARCHAR', last_ns: 'VARCHAR', partial: 'BOOLEAN', error: 'VARCHAR', warnings: ['VARCHAR'],
  comments: ['VARCHAR'], flows: 'BIGINT', flags: 'BIGINT', set_id: 'INTEGER',
};
const INTERFACE_JSON = {
  capture_id: 'INTEGER', if_id: 'INTEGER', name: 'VARCHAR', description: 'VARCHAR', linktype: 'INTEGER', snaplen: 'BIGINT',
  tsresol: 'VARCHAR', recv: 'BIGINT', drop: 'BIGINT',
};

/**
 * One row per file of the set in captures, one per interface in interfaces: each table in ONE statement
 * (a set of 1,000 files would otherwise pay 2,000 statements).
 */
async function insertCaptures(db: Database, rows: CaptureRow[]): Promise<void> {
  if (rows.length === 0) return;
  const captures = rows.map(({ captureId, setId, id, result, counts: c }) => ({
    capture_id: captureId, path: id.abs, size: id.stable ? id.size : null, mtime_ms: id.stable ? id.mtimeMs : null,
    format: result.format, compression: result.compression, packets: result.packets, tcp_packets: c.tcp, not_tcp: c.notTcp,
    unknown_linktype: c.unknownLinktype, malformed: c.malformed, first_ns: tsLiteral(c.firstSec, c.firstNsec),
    last_ns: tsLiteral(c.lastSec, c.lastNsec), partial: result.partial, error: result.error?.message ?? null,
    warnings: result.warnings, comments: result.comments, flows: c.flows, flags: c.flags, set_id: setId,
  }));
  await db.connection.run(
    `INSERT INTO captures
     SELECT r.capture_id, r.path, r.size, r.mtime_ms, r.format, r.compression, r.packets, r.tcp_packets, r.not_tcp,
            r.unknown_linktype, r.malformed,
            CASE WHEN r.first_ns IS NULL THEN NULL ELSE make_timestamp_ns(r.first_ns::BIGINT) END,
            CASE WHEN r.last_ns IS NULL THEN NULL ELSE make_timestamp_ns(r.last_ns::BIGINT) END,
            r.partial, r.error, r.warnings, r.comments, r.flows, r.flags, now()::TIMESTAMP, r.set_id
     FROM (SELECT unnest(from_json($1, '${JSON.stringify([CAPTURE_JSON])}')) AS r)`,
    [JSON.stringify(captures)] as never,
  );
  const interfaces = rows.flatMap(({ captureId, result }) => result.interfaces.map((itf) => ({
    capture_id: captureId, if_id: itf.id, name: itf.name, description: itf.description, linktype: itf.linktype,
    snaplen: itf.snaplen, tsresol: `${itf.tsresol.base}^-${itf.tsresol.exponent}`, recv: bigintOrNull(itf.recv), drop: bigintOrNull(itf.drop),
  })));
  if (interfaces.length === 0) return;
  await db.connection.run(
    `INSERT INTO interfaces
     SELECT r.capture_id, r.if_id, r.name, r.description, r.linktype, r.snaplen, r.tsresol, r.recv, r.drop
     FROM (SELECT unnest(from_json($1, '${JSON.stringify([INTERFACE_JSON])}')) AS r)`,
    [JSON.stringify(interfaces)] as never,
  );
}
