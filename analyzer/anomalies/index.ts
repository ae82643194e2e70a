/**
 * TCP anomaly findings (docs/scans.md "Anomalies"): invalid flag combinations, blind resets, zero and
 * tiny windows, half-open SYN floods, predictable ISNs. `findAnomalies(db)` fills the `anomalies` table
 * (one row per finding) and `isn_hosts` (every graded ISN generator, predictable or not) and returns the
 * findings. It runs scan detection first when that has not run: packets of scans are not anomalies.
 */
import type { Database } from '../db/database.js';
import { findScans } from '../scans/index.js';
import { createDerivedTable } from '../scans/tables.js';
import { DEFAULT_THRESHOLDS, type ScanThresholds } from '../scans/thresholds.js';
import { SYN_FLOOD_SQL, TINY_WINDOW_SQL, ZERO_WINDOW_SQL } from './connections.js';
import { assessHosts, type IsnHostRow } from './isn.js';
import { ANOMALY_SELECT, BLIND_RESET_SQL, INVALID_FLAGS_SQL } from './packets.js';

export { ISN_COLUMNS, type IsnHostRow } from './isn.js';

export const ANOMALY_KINDS = [
  'syn_fin', 'syn_rst', 'no_ack_flags', 'null_flags', 'reserved_bits', 'blind_reset',
  'syn_flood', 'zero_window', 'tiny_window', 'isn_predictable',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalyRow {
  kind: AnomalyKind;
  capture_id: number | null;
  /** First frame of the finding (null for per-host findings). */
  frame: number | null;
  /** Frames (or connections, for syn_flood; ISN samples for isn_predictable) behind it. */
  frames: number;
  flow_id: number | null;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  detail: string;
}

export const ANOMALY_COLUMNS = ['kind', 'capture_id', 'frame', 'frames', 'flow_id', 'src', 'dst', 'sport', 'dport', 'detail'] as const;

async function tableExists(db: Database, name: string): Promise<boolean> {
  const r = await db.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = '${name}'`);
  return Number(r.rows[0]!['n']) > 0;
}

function isnRows(hosts: IsnHostRow[]): string {
  const predictable = hosts.filter((h) => h.class === 'constant' || h.class === 'incremental' || h.class === 'time-dependent');
  if (predictable.length === 0) return '';
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  return predictable
    .map((h) => `SELECT NULL::INTEGER AS capture_id, NULL::BIGINT AS frame, ${h.samples} AS frames, NULL::BIGINT AS flow_id, ${quote(h.host)} AS src,
      NULL::VARCHAR AS dst, NULL::USMALLINT AS sport, NULL::USMALLINT AS dport, 'isn_predictable' AS kind, ${quote(`${h.role === 'syn' ? 'SYN' : 'SYN/ACK'} ISNs are ${h.class}: ${h.reason}; SP ${h.sp ?? '?'} (${h.difficulty})`)} AS detail`)
    .join('\nUNION ALL\n');
}

export async function findAnomalies(db: Database, thresholds: ScanThresholds = DEFAULT_THRESHOLDS): Promise<AnomalyRow[]> {
  if (!(await tableExists(db, 'scan_flows'))) await findScans(db, thresholds);
  const hosts = await assessHosts(db);
  await createDerivedTable(db, 'isn_hosts', hosts.length === 0
    ? `SELECT NULL::VARCHAR AS host, NULL::VARCHAR AS role, 0 AS samples, NULL::VARCHAR AS class, 0::UBIGINT AS gcd,
              NULL::DOUBLE AS rate_per_s, NULL::INTEGER AS isr, NULL::INTEGER AS sp, NULL::VARCHAR AS difficulty, NULL::VARCHAR AS reason WHERE false`
    : `SELECT * FROM (VALUES ${hosts.map((h) => `(${[h.host, h.role].map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')}, ${h.samples}, '${h.class}', ${h.gcd}, ${h.rate_per_s ?? 'NULL'}, ${h.isr ?? 'NULL'}, ${h.sp ?? 'NULL'}, '${h.difficulty.replace(/'/g, "''")}', '${h.reason.replace(/'/g, "''")}')`).join(', ')})
         AS t(host, role, samples, class, gcd, rate_per_s, isr, sp, difficulty, reason)`);
  const parts = [INVALID_FLAGS_SQL, BLIND_RESET_SQL, SYN_FLOOD_SQL, ZERO_WINDOW_SQL, TINY_WINDOW_SQL].map((sql) => `SELECT ${ANOMALY_SELECT} FROM (${sql})`);
  const isn = isnRows(hosts);
  if (isn) parts.push(isn);
  await createDerivedTable(db, 'anomalies', `SELECT * FROM (${parts.join('\nUNION ALL BY NAME\n')}) ORDER BY kind, capture_id, frame, src`);
  const r = await db.query(`SELECT ${ANOMALY_COLUMNS.join(', ')} FROM anomalies ORDER BY list_position([${ANOMALY_KINDS.map((k) => `'${k}'`).join(', ')}], kind), capture_id, frame, src`);
  return r.rows as unknown as AnomalyRow[];
}
