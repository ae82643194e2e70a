/**
 * Loads captures into the database in ONE streaming pass per capture set (pipeline/set-pass.ts) whose
 * sink is the bulk writers: flows, flags, and the packet rows the load keeps.
 * Every command that answers with SQL (analyze, scans, query, export, report; seq and conns with --where
 * or --db) and the library (openCaptures) load through here; seq and conns without SQL take the same
 * pass's flows and flags directly (analyzer/direct.ts).
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
import type { RawPacket } from '../readers/index.js';
import type { DecodedPacket } from '../decode/index.js';
import type { PlannedSet } from '../pipeline/capture-set.js';
import { identify, loadedCapture, passSet, recordingsOf, type InputIdentity, type LoadedCapture, type LoadProgress, type PassedFile, type PassState } from '../pipeline/set-pass.js';
import { AddressDictionary } from './address-dictionary.js';
import { ProbeWindow } from './probe-window.js';
import { ReportWindow } from './report-window.js';
import { PacketRow, writePacketRow } from './packet-row.js';
import { ChunkWriter } from './chunk-writer.js';
import { columnIndex } from './column-spec.js';
import type { Database } from './database.js';
import { FLAG_COLUMNS, FLAG_FLOW_COLUMNS, FLAG_FLOW_TABLE_SQL, FLOW_TABLE_COLUMNS, PACKET_COLUMNS } from './schema.js';
import { writeFlowRow } from './flow-row.js';
import type { SegmentValues } from '../seq/segment.js';
import { bigintOrNull, storeError, tsNsInRange } from './value-range.js';

export type { LoadedCapture, LoadProgress } from '../pipeline/set-pass.js';

const P = columnIndex(PACKET_COLUMNS);
const G = columnIndex(FLAG_COLUMNS);
const FF = columnIndex(FLAG_FLOW_COLUMNS);

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

/** Loads the captures (as one set, or one set per file) and returns what happened to each file. */
export async function loadCaptures(db: Database, inputs: readonly string[], opts: LoadOptions = {}): Promise<LoadedCapture[]> {
  const sets = recordingsOf(inputs, opts.perFile === true);
  const dict = await AddressDictionary.load(db);
  const out: LoadedCapture[] = [];
  for (const set of sets) out.push(...(await loadSet(db, dict, set, opts)));
  return out;
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

async function loadSet(db: Database, dict: AddressDictionary, inputs: readonly string[], opts: LoadOptions): Promise<LoadedCapture[]> {
  // A plan begun before the database opened has taken every input's stat (1,000 files: ~10 ms): reuse it.
  const planned = opts.plan ? new Map((await opts.plan).members.map((m) => [m.input, m.stat])) : null;
  const ids = inputs.map((i) => identify(i, planned?.get(i)));
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
  let lastFlowFrame = -1;
  // The last frame that raised a flag: the report's sections read the packet rows of flagged frames.
  let lastFlaggedFrame = -1;
  const row = new PacketRow();
  const place = { captureId: 0, frame: 0, srcId: 0, dstId: 0, flowId: 0, fromClient: false };

  /** A packet row for the segment just analysed, where the load keeps one (all, or the windows' choice). */
  const writePacket = (raw: RawPacket, decoded: DecodedPacket, pass: PassState): void => {
    const { tracker, segment, at } = pass;
    const packets = w.packets!;
    const probe = probeWindow === null || probeWindow.keep(tracker.flow.flowId, segment.srcAddr, segment.sport, segment.payloadLen);
    if (!probe && reportWindow === null) return;
    place.captureId = at.captureId;
    place.frame = at.frame;
    place.srcId = segment.srcAddr;
    place.dstId = segment.dstAddr;
    place.flowId = tracker.flow.flowId;
    place.fromClient = tracker.fromClient;
    if (reportWindow !== null) {
      reportWindow.row.fill(raw, decoded, place);
      reportWindow.offer(probe || lastFlaggedFrame === at.frame);
      return;
    }
    row.fill(raw, decoded, place);
    writePacketRow(packets, row);
    if (segmentValues) writeSegmentValues(packets, pass.seq.segment);
    else writeNoSegmentValues(packets);
    packets.endRow();
  };

  const files = await passSet(ids, dict, {
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.plan ? { plan: opts.plan } : {}),
    trackFlows: tables !== 'flags',
    analyzeSequences: tables !== 'probes',
    figures: opts.figures ?? tables === 'all',
    verifyChecksums: opts.verifyChecksums === true,
    firstCaptureId: first.captureId,
    firstFlowId: first.flowId,
  }, {
    flowEnded: (flow) => {
      writeFlowRow(w.flows, dict, flow);
      reportWindow?.release(flow.flowId);
    },
    flagRaised: (frame, code, pass) => {
      const { at, tracker } = pass;
      w.flags.i32(G.capture_id, at.captureId);
      w.flags.i64(G.frame, frame);
      w.flags.enum8(G.flag, code);
      w.flags.endRow();
      lastFlaggedFrame = frame;
      if (w.flagFlows && frame !== lastFlowFrame) {
        // One row per flagged frame (as packet_rows has), however many flags it raised; the tracker has
        // just placed the segment.
        lastFlowFrame = frame;
        w.flagFlows.i32(FF.capture_id, at.captureId);
        w.flagFlows.i64(FF.frame, frame);
        w.flagFlows.i64(FF.flow_id, tracker.flow.flowId);
        w.flagFlows.tsNs(FF.ts, at.sec, at.nsec);
        w.flagFlows.bool(FF.from_client, tracker.fromClient);
        w.flagFlows.endRow();
      }
    },
    segmentDone: w.packets === null ? null : writePacket,
  });
  w.packets?.close();
  w.flagFlows?.close();
  w.flows.close();
  w.flags.close();
  dict.endLoad();

  const rows: CaptureRow[] = [];
  for (const f of files) if (f.captureId !== null) rows.push({ captureId: f.captureId, setId: first.setId, file: f });
  await insertCaptures(db, rows);
  return files.map((f) => loadedCapture(f, first.setId));
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

function tsLiteral(sec: number, nsec: number): string | null {
  if (!tsNsInRange(sec)) return null;
  return `${sec}${String(nsec).padStart(9, '0')}`;
}

interface CaptureRow {
  captureId: number;
  setId: number;
  file: PassedFile;
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
  const captures = rows.map(({ captureId, setId, file: { identity: id, result, counts: c } }) => ({
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
  const interfaces = rows.flatMap(({ captureId, file: { result } }) => result.interfaces.map((itf) => ({
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
