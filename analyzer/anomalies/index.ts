/**
 * TCP anomaly findings (docs/scans.md "Anomalies"): invalid flag combinations, blind resets, zero and
 * tiny windows, half-open SYN floods, predictable ISNs. `findAnomalies(db)` fills the `anomalies` table
 * (one row per finding) and `isn_hosts` (every graded ISN generator, predictable or not) and returns the
 * findings. It runs scan detection first when that has not run: packets of scans are not anomalies.
 */
import type { Database } from '../db/database.js';
import { findScans } from '../scans/index.js';
import { createDerivedTable, createEmptyDerivedTable } from '../scans/tables.js';
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

const ISN_TABLE_COLUMNS = `host VARCHAR, role VARCHAR, samples INTEGER, class VARCHAR, gcd UBIGINT, rate_per_s DOUBLE,
  isr INTEGER, sp INTEGER, difficulty VARCHAR, reason VARCHAR, first_ts TIMESTAMP_NS, last_ts TIMESTAMP_NS`;
const ISN_INSERT_BATCH = 500;

/** Writes every graded generator into `isn_hosts`, in batches of bound parameters (no quoting by hand). */
async function writeIsnHosts(db: Database, hosts: IsnHostRow[]): Promise<void> {
  await createEmptyDerivedTable(db, 'isn_hosts', ISN_TABLE_COLUMNS);
  for (let i = 0; i < hosts.length; i += ISN_INSERT_BATCH) {
    const batch = hosts.slice(i, i + ISN_INSERT_BATCH);
    const values: unknown[] = [];
    for (const h of batch) {
      values.push(h.host, h.role, h.samples, h.class, h.gcd, h.rate_per_s, h.isr, h.sp, h.difficulty, h.reason, h.first_ts, h.last_ts);
    }
    const row = `(${Array(12).fill('?').join(', ')})`;
    await db.query(`INSERT INTO isn_hosts VALUES ${batch.map(() => row).join(', ')}`, values);
  }
}

/** Predictable generators as anomaly rows (one per host and role). */
const ISN_ANOMALY_SQL = `
SELECT NULL::INTEGER AS capture_id, NULL::BIGINT AS frame, samples AS frames, NULL::BIGINT AS flow_id, host AS src,
       NULL::VARCHAR AS dst, NULL::USMALLINT AS sport, NULL::USMALLINT AS dport, 'isn_predictable' AS kind,
       printf('%s ISNs are %s: %s; SP %s (%s)', CASE role WHEN 'syn' THEN 'SYN' ELSE 'SYN/ACK' END, class, reason,
              coalesce(sp::VARCHAR, '?'), difficulty) AS detail
FROM isn_hosts WHERE class IN ('constant', 'incremental', 'time-dependent')`;

export async function findAnomalies(db: Database, thresholds: ScanThresholds = DEFAULT_THRESHOLDS): Promise<AnomalyRow[]> {
  if (!(await tableExists(db, 'scan_flows'))) await findScans(db, thresholds);
  const hosts = await assessHosts(db);
  await writeIsnHosts(db, hosts);
  const parts = [INVALID_FLAGS_SQL, BLIND_RESET_SQL, SYN_FLOOD_SQL, ZERO_WINDOW_SQL, TINY_WINDOW_SQL, ISN_ANOMALY_SQL]
    .map((sql) => `SELECT ${ANOMALY_SELECT} FROM (${sql})`);
  await createDerivedTable(db, 'anomalies', `SELECT * FROM (${parts.join('\nUNION ALL BY NAME\n')}) ORDER BY kind, capture_id, frame, src`);
  const r = await db.query(`SELECT ${ANOMALY_COLUMNS.join(', ')} FROM anomalies ORDER BY list_position([${ANOMALY_KINDS.map((k) => `'${k}'`).join(', ')}], kind), capture_id, frame, src`);
  return r.rows as unknown as AnomalyRow[];
}
