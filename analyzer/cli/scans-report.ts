/**
 * The scan, anomaly and ISN sections of `tcplens analyze` (analyzer/cli/analyze.ts REPORT_SECTIONS):
 * each builds its rows from the loaded database, running detection first when it has not run.
 */
import type { ReportSection } from './analyze.js';
import { ANOMALY_KINDS, findAnomalies } from '../anomalies/index.js';
import type { Database } from '../db/database.js';
import { findScans, SCAN_COLUMNS, SCAN_TABLE_COLUMNS } from '../scans/index.js';

/** Databases whose anomalies (and isn_hosts) this process already built during the current report. */
const analyzed = new WeakSet<Database>();

async function ensureAnomalies(db: Database): Promise<void> {
  if (analyzed.has(db)) return;
  await findAnomalies(db);
  analyzed.add(db);
}

/** One row per scan, as `tcplens scans` prints it. */
export const scansSection: ReportSection = {
  name: 'scans',
  title: 'Scans (vertical: many ports on one host; horizontal: many hosts; block: both)',
  tableColumns: SCAN_TABLE_COLUMNS,
  async build(lens) {
    const scans = await findScans(lens.db);
    analyzed.delete(lens.db); // new scans: anomalies must be found again
    return { columns: [...SCAN_COLUMNS], rows: scans as unknown as Record<string, unknown>[] };
  },
};

/** One row per anomaly kind found: how many findings, frames and sources, and the first one's detail. */
export const anomaliesSection: ReportSection = {
  name: 'anomalies',
  title: 'TCP anomalies (invalid flags, blind resets, SYN floods, zero and tiny windows, predictable ISNs)',
  async build(lens) {
    await ensureAnomalies(lens.db);
    const order = `list_position([${ANOMALY_KINDS.map((k) => `'${k}'`).join(', ')}], kind)`;
    const r = await lens.query(
      `SELECT kind, count(*) AS findings, sum(frames) AS frames, count(DISTINCT src) AS sources,
              arg_min(detail, ${order}) AS example
       FROM anomalies GROUP BY kind ORDER BY ${order}`,
    );
    return { columns: r.columns, rows: r.rows };
  },
};

/** Every graded ISN generator, the predictable ones first, at most --top rows. */
export const isnSection: ReportSection = {
  name: 'isn',
  title: 'ISN predictability per host (nmap-style GCD, rate, SP; constant/incremental/time-dependent/random)',
  async build(lens, opts) {
    await ensureAnomalies(lens.db);
    const r = await lens.query(
      `SELECT host, role, samples, class, gcd, rate_per_s, sp, difficulty, reason FROM isn_hosts
       ORDER BY class = 'random', sp NULLS FIRST, samples DESC, host, role LIMIT ${opts.top}`,
    );
    return { columns: r.columns, rows: r.rows };
  },
};

/** The three sections in report order; analyze adds them after its sequence-analysis flags section. */
export const SCAN_REPORT_SECTIONS: readonly ReportSection[] = [scansSection, anomaliesSection, isnSection];
