/**
 * The per-connection columns this module adds to `flows`: the rest of Zeek's conn.log (uid, service,
 * orig/resp_bytes by sequence numbers, missed_bytes, IP bytes) and, per direction (client_ = the
 * originator's data, server_ = the responder's), the performance figures of analyzer/perf/direction.ts.
 * The loader appends them after its own columns (schema.ts) and calls writeConnColumns for each flow.
 */
import type { ColumnSink, ColumnSpec } from '../db/column-spec.js';
import type { Flow } from '../flows/tracker.js';
import type { DirectionPerf } from './direction.js';
import { serviceForPort } from './service.js';

const DIRECTION_COLUMNS = [
  ['rtt_min_ms', 'DOUBLE'], ['rtt_avg_ms', 'DOUBLE'], ['rtt_max_ms', 'DOUBLE'], ['rtt_stdev_ms', 'DOUBLE'], ['rtt_samples', 'BIGINT'],
  ['rtt_median_ms', 'DOUBLE'],
  ['ts_rtt_min_ms', 'DOUBLE'], ['ts_rtt_avg_ms', 'DOUBLE'], ['ts_rtt_max_ms', 'DOUBLE'], ['ts_rtt_stdev_ms', 'DOUBLE'],
  ['ts_rtt_samples', 'BIGINT'],
  ['data_segments', 'BIGINT'], ['retrans_segments', 'BIGINT'], ['retrans_bytes', 'BIGINT'], ['unique_bytes', 'BIGINT'],
  ['throughput_bps', 'DOUBLE'], ['goodput_bps', 'DOUBLE'], ['completion_s', 'DOUBLE'],
  ['bif_max', 'BIGINT'], ['bif_mean', 'DOUBLE'],
  ['zero_window_s', 'DOUBLE'], ['rwnd_limited_s', 'DOUBLE'], ['app_limited_s', 'DOUBLE'], ['recovery_s', 'DOUBLE'],
  ['network_s', 'DOUBLE'], ['limited_by', 'VARCHAR'],
] as const;

const KIND = { DOUBLE: 'f64', BIGINT: 'i64', VARCHAR: 'varchar' } as const;

function directionSpecs<P extends string>(prefix: P): ColumnSpec[] {
  return DIRECTION_COLUMNS.map(([name, sql]) => ({ name: `${prefix}_${name}`, sql, kind: KIND[sql] }));
}

/** Appended to FLOW_COLUMNS, in this order. */
export const CONN_FLOW_COLUMNS: readonly ColumnSpec[] = [
  { name: 'uid', sql: 'VARCHAR', kind: 'varchar' },
  { name: 'service', sql: 'VARCHAR', kind: 'varchar' },
  /** conn.log's duration: Zeek stops the clock when both sides have closed (duration_s runs to the last packet). */
  { name: 'conn_duration_s', sql: 'DOUBLE', kind: 'f64' },
  { name: 'orig_bytes', sql: 'BIGINT', kind: 'i64' },
  { name: 'resp_bytes', sql: 'BIGINT', kind: 'i64' },
  { name: 'missed_bytes', sql: 'BIGINT', kind: 'i64' },
  /** Packets as Zeek counts them (without segments it drops: a cut header, a wrong checksum when verifying). */
  { name: 'orig_pkts', sql: 'BIGINT', kind: 'i64' },
  { name: 'resp_pkts', sql: 'BIGINT', kind: 'i64' },
  { name: 'orig_ip_bytes', sql: 'BIGINT', kind: 'i64' },
  { name: 'resp_ip_bytes', sql: 'BIGINT', kind: 'i64' },
  ...directionSpecs('client'),
  ...directionSpecs('server'),
  /** The verdict of the direction that sent more payload. */
  { name: 'limited_by', sql: 'VARCHAR', kind: 'varchar' },
];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A Zeek-style uid ("C" + 16 base-62 characters). Zeek draws its uids at random; ours are a hash of what
 * identifies the connection (capture, start time, endpoints), so the same capture always gives the same uid.
 */
export function connectionUid(f: Flow): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const mix = (v: number): void => {
    h1 = Math.imul(h1 ^ (v >>> 0), 0x01000193);
    h2 = Math.imul(h2 ^ (v >>> 0), 0x5bd1e995) ^ (h2 >>> 13);
  };
  for (const v of [f.captureId, f.flowId, f.firstSec, f.firstNsec, f.clientAddr, f.clientPort, f.serverAddr, f.serverPort]) {
    mix(v);
    mix(Math.floor(v / 4294967296));
  }
  let a = h1 >>> 0;
  let b = h2 >>> 0;
  let out = 'C';
  for (let i = 0; i < 16; i++) {
    const src = i % 2 === 0 ? a : b;
    out += BASE62[src % 62];
    if (i % 2 === 0) a = Math.floor(a / 62) ^ Math.imul(b, 31) >>> 0;
    else b = Math.floor(b / 62) ^ Math.imul(a, 17) >>> 0;
    a >>>= 0;
    b >>>= 0;
  }
  return out;
}

function num(w: ColumnSink, col: number, v: number, scale = 1): void {
  if (Number.isFinite(v)) w.f64(col, v * scale);
  else w.null(col);
}

function writeDirection(w: ColumnSink, col: number, d: DirectionPerf, duration: number, connStart: number): number {
  const rttMs = (s: typeof d.ackRtt): void => {
    num(w, col++, s.count > 0 ? s.min : Number.NaN, 1000);
    num(w, col++, s.mean, 1000);
    num(w, col++, s.count > 0 ? s.max : Number.NaN, 1000);
    num(w, col++, s.stdev, 1000);
    w.i64(col++, s.count);
  };
  rttMs(d.ackRtt);
  num(w, col++, d.ackRtt.median, 1000);
  rttMs(d.tsRtt);
  w.i64(col++, d.dataSegments);
  w.i64(col++, d.retransSegments);
  w.i64(col++, d.retransBytes);
  w.i64(col++, d.uniqueBytes);
  num(w, col++, duration > 0 ? (d.dataBytes * 8) / duration : Number.NaN);
  num(w, col++, duration > 0 ? (d.uniqueBytes * 8) / duration : Number.NaN);
  const done = d.lastAckAdvance >= 0 ? d.lastAckAdvance : d.lastDataTime;
  num(w, col++, d.dataSegments > 0 && done >= 0 ? done - connStart : Number.NaN);
  w.i64(col++, d.bifMax);
  num(w, col++, d.bifMean);
  num(w, col++, d.zeroWindowTime);
  num(w, col++, d.rwndLimitedTime);
  num(w, col++, d.appLimitedTime);
  num(w, col++, d.recoveryTime);
  num(w, col++, d.networkTime);
  w.varchar(col++, d.limitedBy());
  return col;
}

/** Writes CONN_FLOW_COLUMNS for one flow, starting at column index `first`. */
export function writeConnColumns(w: ColumnSink, first: number, f: Flow): void {
  let col = first;
  w.varchar(col++, connectionUid(f));
  const service = serviceForPort(f.serverPort);
  if (service !== null) w.varchar(col++, service);
  else w.null(col++);
  w.f64(col++, f.connLastSec - f.firstSec + (f.connLastNsec - f.firstNsec) / 1e9);
  w.i64(col++, f.zeek.size(true));
  w.i64(col++, f.zeek.size(false));
  w.i64(col++, f.zeek.missedBytes);
  w.i64(col++, f.origPkts);
  w.i64(col++, f.respPkts);
  w.i64(col++, f.clientIpBytes);
  w.i64(col++, f.serverIpBytes);
  const perf = f.perf;
  if (perf === null) {
    // Not computed (a load that does not need them, e.g. `seq`): NULL, never a made-up zero.
    for (; col < first + CONN_FLOW_COLUMNS.length; col++) w.null(col);
    return;
  }
  const duration = f.lastSec - f.firstSec + (f.lastNsec - f.firstNsec) / 1e9;
  const start = perf.firstTime;
  col = writeDirection(w, col, perf.client, duration, start);
  col = writeDirection(w, col, perf.server, duration, start);
  const main = perf.server.dataBytes > perf.client.dataBytes ? perf.server : perf.client;
  w.varchar(col, main.limitedBy());
}
