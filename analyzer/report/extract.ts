/**
 * What the report shows, read from the DuckDB tables of a loaded capture set (captures, interfaces,
 * packet_rows, flows, tcp_analysis) plus the scans and anomalies the `scans` command computes
 * (findScans, findAnomalies). Everything here is SQL over the database and a little reshaping; the page
 * (page/app.js) only draws.
 *
 * Scale: whole-capture series are binned in SQL into CAPTURE_BINS bins (the page then keeps min/max per
 * pixel); per-connection packet series keep every packet of a connection up to FULL_FLOW_PACKETS packets,
 * and beyond that, per (direction, one of FLOW_BINS time bins), the extremes of sequence, segment end,
 * ACK and window edge, plus every SYN/FIN/RST and every frame with a TCP analysis flag. So a 10M-packet
 * iperf capture embeds a few tens of thousands of rows per connection, not millions.
 */
import type { Database } from '../db/database.js';
import { SEQ_FLAGS } from '../seq/flags.js';
import { findScans, DEFAULT_THRESHOLDS, PROBE_TYPES, type ScanThresholds } from '../scans/index.js';
import { findAnomalies } from '../anomalies/index.js';
import { DuckDBTypeId } from '../db/duckdb-modules.js';
import { ColumnBlob, type ColumnRef } from './columns.js';
import { isoNsSql } from '../db/iso-time.js';

export const CAPTURE_BINS = 10_000;
export const MIN_BIN_NS = 1_000_000;
/**
 * A connection with more packets than this is reduced (see above) to FLOW_BINS = this / 10 time bins.
 * TCPLENS_REPORT_FLOW_PACKETS changes it: larger for finer pages of long transfers, small in tests.
 */
export const FULL_FLOW_PACKETS = envInt('TCPLENS_REPORT_FLOW_PACKETS', 20_000);
export const FLOW_BINS = Math.max(1, Math.floor(FULL_FLOW_PACKETS / 10));

function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
export const THROUGHPUT_BINS = 400;
const MAX_RTT_POINTS = 4_000;

export interface Table {
  columns: string[];
  rows: unknown[][];
}

/** Everything the page gets as JSON; numeric series are ColumnRefs into `main` or `flows` blobs. */
export interface ReportMeta {
  title: string;
  generated: string;
  t0ns: string;
  /** Seconds since the epoch of the first packet (the page's time axis adds relative seconds to it). */
  t0: number;
  spanS: number;
  overview: {
    captures: Table;
    interfaces: Table;
    totals: Record<string, number>;
    warnings: string[];
  };
  flows: Table;
  flags: readonly string[];
  capture: {
    binS: number;
    bins: number;
    packets: ColumnRef;
    bytes: ColumnRef;
    flags: Record<string, ColumnRef>;
    states: Record<string, ColumnRef>;
    stateCounts: Table;
  };
  scans: Table;
  probes: { probeTypes: readonly string[]; scan: ColumnRef; t: ColumnRef; type: ColumnRef; port: ColumnRef };
  anomalies: Table;
  isn: { hosts: Table; groups: { host: string; role: string }[]; group: ColumnRef; t: ColumnRef; isn: ColumnRef };
  /** Per-connection series, in the `flows` blob (decoded when a connection is first opened). */
  series: {
    offsets: ColumnRef;
    t: ColumnRef; dir: ColumnRef; seq: ColumnRef; len: ColumnRef; ack: ColumnRef; edge: ColumnRef;
    tcpFlags: ColumnRef; mask: ColumnRef;
    sackRow: ColumnRef; sackLeft: ColumnRef; sackRight: ColumnRef;
    thrOffsets: ColumnRef; thrBin: ColumnRef; thrDir: ColumnRef; thrBytes: ColumnRef;
    rttOffsets: ColumnRef; rttT: ColumnRef; rttDir: ColumnRef; rttMs: ColumnRef;
    downsampled: number[];
    /** Per flow: its start (s, relative to t0) and the throughput bin width (s). */
    flowT0: ColumnRef; thrBinS: ColumnRef;
  };
  sizes: { mainRaw: number; flowsRaw: number; seriesRows: number };
}

export interface ReportData {
  meta: ReportMeta;
  main: ColumnBlob;
  flowBlob: ColumnBlob;
}

export interface ExtractOptions {
  title: string;
  thresholds?: ScanThresholds;
}

const TWO32 = 4294967296;

async function columnsOf(db: Database, sql: string): Promise<Record<string, unknown[]>> {
  const reader = await db.connection.runAndReadAll(sql);
  return reader.getColumnsObjectJS() as Record<string, unknown[]>;
}

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));

/** A result as a Table with timestamps as ISO text and 64-bit integers as numbers (JSON-safe). */
async function table(db: Database, sql: string): Promise<Table> {
  const reader = await db.connection.runAndReadAll(sql);
  const columns = reader.columnNames();
  const types = reader.columnTypes().map((t) => t.typeId);
  const rows = reader.getRowsJS().map((row) => row.map((v, i) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return Number(v);
    if (types[i] === DuckDBTypeId.TIMESTAMP_NS || types[i] === DuckDBTypeId.TIMESTAMP) return String(v);
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'bigint' ? Number(x) : x));
    if (typeof v === 'object') return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)));
    return v;
  }));
  return { columns, rows };
}

/** Every column of a table as [name, expression], timestamps as ISO text (one timestamp format). */
async function isoExprs(db: Database, name: string, alias = ''): Promise<[string, string][]> {
  const r = await db.query(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '${name}' ORDER BY column_index`);
  const a = alias ? `${alias}.` : '';
  return r.rows.map((row) => {
    const c = String(row['column_name']);
    return [c, String(row['data_type']).startsWith('TIMESTAMP') ? isoNsSql(`${a}"${c}"`) : `${a}"${c}"`];
  });
}

/** SELECT * but with one timestamp format. */
async function isoSelect(db: Database, name: string, alias = ''): Promise<string> {
  return (await isoExprs(db, name, alias)).map(([c, e]) => `${e} AS "${c}"`).join(', ');
}

/**
 * Zeek conn.log's columns first, each from the first flows column that exists (another engineer adds
 * uid, orig_bytes and friends to flows; until then the closest tcplens column stands in), then every
 * other flows column under its own name (flow_id, rtt_ms, limited_by, ...).
 */
const ZEEK_COLUMNS: [string, string[]][] = [
  ['ts', ['ts', 'first_ts']], ['uid', ['uid']],
  ['id.orig_h', ['orig_h', 'client']], ['id.orig_p', ['orig_p', 'cport']],
  ['id.resp_h', ['resp_h', 'server']], ['id.resp_p', ['resp_p', 'sport']],
  ['duration', ['duration', 'duration_s']],
  ['orig_bytes', ['orig_bytes', 'client_payload']], ['resp_bytes', ['resp_bytes', 'server_payload']],
  ['conn_state', ['conn_state', 'state']], ['history', ['history']],
  ['orig_pkts', ['orig_pkts', 'client_packets']], ['orig_ip_bytes', ['orig_ip_bytes', 'client_bytes']],
  ['resp_pkts', ['resp_pkts', 'server_packets']], ['resp_ip_bytes', ['resp_ip_bytes', 'server_bytes']],
];

function zeekSelect(exprs: [string, string][]): string {
  const exprOf = new Map(exprs);
  const used = new Set<string>();
  const out: string[] = [];
  for (const [zeek, candidates] of ZEEK_COLUMNS) {
    const source = candidates.find((c) => exprOf.has(c) && !used.has(c));
    if (!source) continue;
    used.add(source);
    out.push(`${exprOf.get(source)} AS "${zeek}"`);
  }
  for (const [c, e] of exprs) if (!used.has(c)) out.push(`${e} AS "${c}"`);
  return out.join(', ');
}

async function hasTable(db: Database, name: string): Promise<boolean> {
  const r = await db.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = '${name}'`);
  return Number(r.rows[0]!['n']) > 0;
}

export async function extractReport(db: Database, opts: ExtractOptions): Promise<ReportData> {
  const main = new ColumnBlob();
  const flowBlob = new ColumnBlob();
  const span = (await db.query(`SELECT CAST(min(epoch_ns(ts)) AS VARCHAR) AS t0, CAST(max(epoch_ns(ts)) - min(epoch_ns(ts)) AS DOUBLE) AS span FROM packet_rows`)).rows[0]!;
  const t0ns = span['t0'] === null ? '0' : String(span['t0']);
  const spanNs = Math.max(1, num(span['span']) || 0);
  const t0 = Number(BigInt(t0ns) / 1000n) / 1e6;
  const rel = (ts: string) => `(CAST(epoch_ns(${ts}) - ${t0ns} AS DOUBLE) / 1e9)`;

  // Overview.
  const captures = await table(db, `SELECT ${await isoSelect(db, 'captures')} FROM captures ORDER BY capture_id`);
  const interfaces = await table(db, `SELECT * FROM interfaces ORDER BY capture_id, if_id`);
  const totalsRow = (await db.query(`SELECT
      (SELECT coalesce(sum(packets), 0) FROM captures) AS packets,
      (SELECT count(*) FROM packet_rows) AS tcp_packets,
      (SELECT coalesce(sum(wire_len), 0) FROM packet_rows) AS tcp_bytes,
      (SELECT coalesce(sum("drop"), 0) FROM interfaces) AS drops,
      (SELECT count(*) FILTER (WHERE "drop" IS NOT NULL) FROM interfaces) AS interfaces_with_drop_counts,
      (SELECT count(*) FROM flows) AS connections,
      (SELECT count(*) FROM tcp_analysis) AS flags`)).rows[0]!;
  const totals = Object.fromEntries(Object.entries(totalsRow).map(([k, v]) => [k, num(v)]));
  const warnRows = (await db.query(`SELECT path, error, warnings FROM captures ORDER BY capture_id`)).rows;
  const warnings: string[] = [];
  for (const w of warnRows) {
    if (w['error']) warnings.push(`${String(w['path'])}: ${String(w['error'])}`);
    for (const text of (w['warnings'] as string[] | null) ?? []) if (text !== w['error']) warnings.push(`${String(w['path'])}: ${text}`);
  }

  // Connections: every flows column there is, by name.
  await db.run(`CREATE OR REPLACE TEMP TABLE rpt_flows AS
    SELECT *, CAST(row_number() OVER (ORDER BY flow_id) - 1 AS INTEGER) AS idx FROM flows`);
  const flows = await table(db, `SELECT ${zeekSelect(await isoExprs(db, 'flows', 'f'))} FROM rpt_flows f ORDER BY idx`);

  // Whole capture over time.
  // At most CAPTURE_BINS bins, none shorter than MIN_BIN_NS: a 50 ms capture gets 50 bins, not 10,000 empty ones.
  const binNs = Math.max(MIN_BIN_NS, Math.ceil((spanNs + 1) / CAPTURE_BINS));
  const bins = Math.ceil((spanNs + 1) / binNs);
  const binOf = (tsExpr: string) => `CAST((epoch_ns(${tsExpr}) - ${t0ns}) // ${binNs} AS INTEGER)`;
  const dense = (bs: unknown[], vs: unknown[]) => {
    const out = new Float64Array(bins);
    for (let i = 0; i < bs.length; i++) {
      const b = num(bs[i]);
      if (b >= 0 && b < bins) out[b]! += num(vs[i]);
    }
    return out;
  };
  const perBin = await columnsOf(db, `SELECT ${binOf('ts')} AS b, count(*)::DOUBLE AS n, sum(wire_len)::DOUBLE AS bytes FROM packet_rows GROUP BY 1`);
  const packetsRef = main.add('u32', dense(perBin['b']!, perBin['n']!));
  const bytesRef = main.add('f64', dense(perBin['b']!, perBin['bytes']!));
  const flagBins = await columnsOf(db, `SELECT ${binOf('p.ts')} AS b, a.flag::VARCHAR AS flag, count(*)::DOUBLE AS n
      FROM tcp_analysis a JOIN packet_rows p USING (capture_id, frame) GROUP BY 1, 2`);
  const flagRefs: Record<string, ColumnRef> = {};
  for (const flag of SEQ_FLAGS) {
    const idx = flagBins['flag']!.map((f, i) => (f === flag ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    flagRefs[flag] = main.add('u32', dense(idx.map((i) => flagBins['b']![i]), idx.map((i) => flagBins['n']![i])));
  }
  const stateBins = await columnsOf(db, `SELECT ${binOf('first_ts')} AS b, coalesce(state, '?') AS state, count(*)::DOUBLE AS n FROM flows GROUP BY 1, 2`);
  const stateRefs: Record<string, ColumnRef> = {};
  for (const state of [...new Set(stateBins['state']!.map(String))].sort()) {
    const idx = stateBins['state']!.map((s, i) => (String(s) === state ? i : -1)).filter((i) => i >= 0);
    stateRefs[state] = main.add('u32', dense(idx.map((i) => stateBins['b']![i]), idx.map((i) => stateBins['n']![i])));
  }
  const stateCounts = await table(db, `SELECT coalesce(state, '?') AS state, count(*) AS connections, sum(packets) AS packets, sum(bytes) AS bytes FROM flows GROUP BY 1 ORDER BY 2 DESC, 1`);

  // Scans and anomalies, exactly as `tcplens scans` computes them.
  const thresholds = opts.thresholds ?? DEFAULT_THRESHOLDS;
  await findScans(db, thresholds);
  await findAnomalies(db, thresholds);
  const scans = await table(db, `SELECT ${await isoSelect(db, 'scans')} FROM scans ORDER BY scan_id`);
  const probeCols = await columnsOf(db, `
    SELECT sp.scan_id::INTEGER AS scan, ${rel('p.ts')} AS t,
           (list_position([${PROBE_TYPES.map((t) => `'${t}'`).join(', ')}], e.probe_type) - 1)::INTEGER AS type, p.dport::INTEGER AS port
    FROM scan_probes sp
    JOIN packet_rows p USING (capture_id, frame)
    LEFT JOIN scan_episodes e ON e.capture_id = p.capture_id AND e.flow_id = p.flow_id
    ORDER BY sp.scan_id, p.ts, sp.frame`);
  const probes = {
    probeTypes: PROBE_TYPES,
    scan: main.add('u32', probeCols['scan']!.map(num)),
    t: main.add('f64', probeCols['t']!.map(num)),
    type: main.add('u8', probeCols['type']!.map((v) => (v === null ? 255 : num(v)))),
    port: main.add('u16', probeCols['port']!.map(num)),
  };
  const anomalies = await table(db, `SELECT * FROM anomalies ORDER BY kind, capture_id, frame, src`);
  const isnHosts = await table(db, `SELECT ${await isoSelect(db, 'isn_hosts')} FROM isn_hosts ORDER BY samples DESC, host, role`);
  const groups = isnHosts.rows.map((r) => ({ host: String(r[0]), role: String(r[1]) }));
  const scanFlows = (await hasTable(db, 'scan_flows')) ? 'scan_flows' : '(SELECT NULL::INTEGER AS capture_id, NULL::BIGINT AS flow_id WHERE false)';
  const isnCols = await columnsOf(db, `
    WITH s AS (
      SELECT client AS host, 'syn' AS role, first_ts AS ts, client_isn AS isn, capture_id, flow_id FROM flows WHERE client_isn IS NOT NULL
      UNION ALL
      SELECT server, 'synack', first_ts, server_isn, capture_id, flow_id FROM flows WHERE server_isn IS NOT NULL
    ), g AS (SELECT host, role, CAST(row_number() OVER (ORDER BY samples DESC, host, role) - 1 AS INTEGER) AS gi FROM isn_hosts)
    SELECT g.gi AS g, ${rel('s.ts')} AS t, s.isn::DOUBLE AS isn
    FROM s JOIN g USING (host, role)
    WHERE NOT EXISTS (SELECT 1 FROM ${scanFlows} x WHERE x.capture_id = s.capture_id AND x.flow_id = s.flow_id)
    ORDER BY g.gi, s.ts`);
  const isn = {
    hosts: isnHosts, groups,
    group: main.add('u32', isnCols['g']!.map(num)),
    t: main.add('f64', isnCols['t']!.map(num)),
    isn: main.add('u32', isnCols['isn']!.map(num)),
  };

  const series = await extractFlowSeries(db, flowBlob, t0ns);
  const meta: ReportMeta = {
    title: opts.title,
    generated: new Date().toISOString(),
    t0ns, t0, spanS: spanNs / 1e9,
    overview: { captures, interfaces, totals, warnings },
    flows,
    flags: SEQ_FLAGS,
    capture: { binS: binNs / 1e9, bins, packets: packetsRef, bytes: bytesRef, flags: flagRefs, states: stateRefs, stateCounts },
    scans, probes, anomalies, isn,
    series: series.refs,
    sizes: { mainRaw: main.rawBytes, flowsRaw: flowBlob.rawBytes, seriesRows: series.rows },
  };
  return { meta, main, flowBlob };
}

/** Offsets (length n + 1) of rows grouped by flow index, rows sorted by index. */
function offsetsOf(idx: number[], flows: number): number[] {
  const off = new Array<number>(flows + 1).fill(0);
  for (const i of idx) off[i + 1]!++;
  for (let i = 0; i < flows; i++) off[i + 1]! += off[i]!;
  return off;
}

async function extractFlowSeries(db: Database, blob: ColumnBlob, t0ns: string): Promise<{ refs: ReportMeta['series']; rows: number }> {
  const flowCount = num((await db.query(`SELECT count(*) AS n FROM rpt_flows`)).rows[0]!['n']);
  const retransMask = ['retransmission', 'fast_retransmission', 'spurious_retransmission']
    .map((f) => 1 << SEQ_FLAGS.indexOf(f as (typeof SEQ_FLAGS)[number])).reduce((a, b) => a | b, 0);
  // Per connection and direction: ISN (SYN's sequence number, else the first one seen) and window
  // scale (used only when both SYNs carried the option, as TCP and Wireshark do).
  await db.run(`CREATE OR REPLACE TEMP TABLE rpt_dirs AS
    WITH d AS (
      SELECT p.flow_id, CASE WHEN p.from_client THEN 0 ELSE 1 END AS dir,
             coalesce(arg_min(p.seq, p.frame) FILTER (WHERE p.flags & 2 <> 0), arg_min(p.seq, p.frame)) AS isn,
             arg_min(p.wscale, p.frame) FILTER (WHERE p.flags & 2 <> 0) AS ws,
             min(epoch_ns(p.ts)) AS t0, max(epoch_ns(p.ts)) AS t1, count(*) AS n
      FROM packet_rows p WHERE p.flow_id IS NOT NULL GROUP BY 1, 2
    )
    SELECT f.idx, d.flow_id, d.dir, d.isn::BIGINT AS isn, o.isn::BIGINT AS other_isn,
           CASE WHEN d.ws IS NOT NULL AND o.ws IS NOT NULL THEN d.ws ELSE 0 END AS scale
    FROM d JOIN rpt_flows f ON f.flow_id = d.flow_id LEFT JOIN d o ON o.flow_id = d.flow_id AND o.dir <> d.dir`);
  await db.run(`CREATE OR REPLACE TEMP TABLE rpt_flow_span AS
    SELECT f.idx, min(epoch_ns(p.ts)) AS t0, greatest(max(epoch_ns(p.ts)) - min(epoch_ns(p.ts)), 1) AS dur, count(*) AS n
    FROM packet_rows p JOIN rpt_flows f ON f.flow_id = p.flow_id GROUP BY 1`);
  await db.run(`CREATE OR REPLACE TEMP TABLE rpt_pk AS
    WITH masks AS (
      SELECT capture_id, frame, bit_or(1::INTEGER << enum_code(flag)::INTEGER) AS mask FROM tcp_analysis GROUP BY ALL
    )
    SELECT d.idx, p.capture_id, p.frame, CASE WHEN p.from_client THEN 0 ELSE 1 END AS dir,
           CAST(epoch_ns(p.ts) - ${t0ns} AS DOUBLE) / 1e9 AS t,
           CAST(epoch_ns(p.ts) - s.t0 AS DOUBLE) / s.dur AS frac, s.n AS flow_packets,
           (p.seq::BIGINT - d.isn + ${TWO32}) % ${TWO32} AS rseq, p.payload_len AS len,
           CASE WHEN p.flags & 16 <> 0 AND d.other_isn IS NOT NULL THEN (p.ack::BIGINT - d.other_isn + ${TWO32}) % ${TWO32} END AS rack,
           p.win::BIGINT << d.scale AS wbytes, p.flags, coalesce(m.mask, 0) AS mask, p.sack_blocks, d.other_isn
    FROM packet_rows p
    JOIN rpt_dirs d ON d.flow_id = p.flow_id AND d.dir = CASE WHEN p.from_client THEN 0 ELSE 1 END
    JOIN rpt_flow_span s ON s.idx = d.idx
    LEFT JOIN masks m ON m.capture_id = p.capture_id AND m.frame = p.frame`);
  const big = await db.query(`SELECT idx FROM rpt_flow_span WHERE n > ${FULL_FLOW_PACKETS} ORDER BY idx`);
  const rows = await columnsOf(db, `
    WITH ext AS (
      SELECT idx, dir, CAST(floor(frac * ${FLOW_BINS}) AS INTEGER) AS bin,
             arg_min(frame, rseq) AS a, arg_max(frame, rseq + len) AS b, arg_min(frame, rack) AS c,
             arg_max(frame, rack) AS d, arg_max(frame, rack + wbytes) AS e, any_value(capture_id) AS capture_id
      FROM rpt_pk WHERE flow_packets > ${FULL_FLOW_PACKETS} GROUP BY 1, 2, 3
    ), keep AS (
      SELECT DISTINCT capture_id, unnest([a, b, c, d, e]) AS frame FROM ext
    )
    SELECT idx, t, dir, rseq::DOUBLE AS seq, len::DOUBLE AS len, rack::DOUBLE AS ack, (rack + wbytes)::DOUBLE AS edge,
           flags::INTEGER AS flags, mask::INTEGER AS mask, sack_blocks, other_isn::DOUBLE AS other_isn
    FROM rpt_pk p
    WHERE flow_packets <= ${FULL_FLOW_PACKETS} OR mask <> 0 OR flags & 7 <> 0
       OR EXISTS (SELECT 1 FROM keep k WHERE k.capture_id = p.capture_id AND k.frame = p.frame)
    ORDER BY idx, t, frame`);
  const idx = rows['idx']!.map(num);
  const sackRow: number[] = [];
  const sackLeft: number[] = [];
  const sackRight: number[] = [];
  rows['sack_blocks']!.forEach((s, i) => {
    if (typeof s !== 'string' || s === '') return;
    const other = num(rows['other_isn']![i]);
    const edges = s.trim().split(/\s+/).map(Number);
    for (let k = 0; k + 1 < edges.length; k += 2) {
      sackRow.push(i);
      sackLeft.push((edges[k]! - other + TWO32) % TWO32);
      sackRight.push((edges[k + 1]! - other + TWO32) % TWO32);
    }
  });
  const thr = await columnsOf(db, `
    SELECT p.idx, CAST(least(floor(frac * ${THROUGHPUT_BINS}), ${THROUGHPUT_BINS - 1}) AS INTEGER) AS bin, dir, sum(len)::DOUBLE AS bytes
    FROM rpt_pk p WHERE len > 0 GROUP BY ALL ORDER BY 1, 2, 3`);
  const rtt = await columnsOf(db, `
    WITH data AS (
      SELECT idx, dir, frame, t, (rseq + len) % ${TWO32} AS rend FROM rpt_pk WHERE len > 0 AND mask & ${retransMask} = 0
    ), acks AS (
      SELECT idx, 1 - dir AS dir, t, rack FROM rpt_pk WHERE rack IS NOT NULL
    ), samples AS (
      SELECT d.idx, d.dir, d.t, (min(a.t) - d.t) * 1000 AS ms
      FROM data d JOIN acks a ON a.idx = d.idx AND a.dir = d.dir AND a.rack = d.rend AND a.t >= d.t
      GROUP BY d.idx, d.dir, d.frame, d.t
    ), counted AS (
      SELECT s.*, count(*) OVER (PARTITION BY s.idx, s.dir) AS n,
             CAST(floor((s.t - min(s.t) OVER w) / greatest(max(s.t) OVER w - min(s.t) OVER w, 1e-9) * ${MAX_RTT_POINTS / 2}) AS INTEGER) AS bin
      FROM samples s WINDOW w AS (PARTITION BY s.idx, s.dir)
    ), ranked AS (
      SELECT *, row_number() OVER (PARTITION BY idx, dir, bin ORDER BY ms) AS lo,
                row_number() OVER (PARTITION BY idx, dir, bin ORDER BY ms DESC) AS hi
      FROM counted
    )
    SELECT idx, t, dir, ms FROM ranked WHERE n <= ${MAX_RTT_POINTS} OR lo = 1 OR hi = 1 ORDER BY idx, t`);
  const span = await columnsOf(db, `SELECT f.idx, CAST(s.t0 - ${t0ns} AS DOUBLE) / 1e9 AS t0, s.dur::DOUBLE / 1e9 / ${THROUGHPUT_BINS} AS bin_s
    FROM rpt_flows f LEFT JOIN rpt_flow_span s USING (idx) ORDER BY f.idx`);
  const refs: ReportMeta['series'] = {
    offsets: blob.add('u32', offsetsOf(idx, flowCount)),
    t: blob.add('f64', rows['t']!.map(num)),
    dir: blob.add('u8', rows['dir']!.map(num)),
    seq: blob.add('u32', rows['seq']!.map(num)),
    len: blob.add('u32', rows['len']!.map(num)),
    ack: blob.add('f64', rows['ack']!.map(num)),
    edge: blob.add('f64', rows['edge']!.map(num)),
    tcpFlags: blob.add('u8', rows['flags']!.map(num)),
    mask: blob.add('u32', rows['mask']!.map(num)),
    sackRow: blob.add('u32', sackRow),
    sackLeft: blob.add('u32', sackLeft),
    sackRight: blob.add('u32', sackRight),
    thrOffsets: blob.add('u32', offsetsOf(thr['idx']!.map(num), flowCount)),
    thrBin: blob.add('u16', thr['bin']!.map(num)),
    thrDir: blob.add('u8', thr['dir']!.map(num)),
    thrBytes: blob.add('f64', thr['bytes']!.map(num)),
    rttOffsets: blob.add('u32', offsetsOf(rtt['idx']!.map(num), flowCount)),
    rttT: blob.add('f64', rtt['t']!.map(num)),
    rttDir: blob.add('u8', rtt['dir']!.map(num)),
    rttMs: blob.add('f64', rtt['ms']!.map(num)),
    downsampled: big.rows.map((r) => num(r['idx'])),
    flowT0: blob.add('f64', span['t0']!.map(num)),
    thrBinS: blob.add('f64', span['bin_s']!.map(num)),
  };
  return { refs, rows: idx.length };
}
