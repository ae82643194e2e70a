/**
 * `tcplens report`: one offline HTML page (docs/report.md). extractReport reads the database,
 * assembleHtml inlines everything; writeReport writes the file (0600, like every tcplens output).
 */
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { RuntimeError } from '../../common/errors.js';
import type { Database } from '../db/database.js';
import type { ScanThresholds } from '../scans/index.js';
import { assembleHtml } from './assemble.js';
import { extractReport } from './extract.js';

export { extractReport, type ReportMeta } from './extract.js';
export { assembleHtml } from './assemble.js';
export { isoNsSql, isoFromDuckText, isoFromEpochNs } from '../db/iso-time.js';

export interface ReportResult {
  file: string;
  bytes: number;
  connections: number;
  seriesRows: number;
}

export async function buildReportHtml(db: Database, opts: { title: string; thresholds?: ScanThresholds }): Promise<{ html: string; connections: number; seriesRows: number }> {
  const data = await extractReport(db, opts);
  return { html: assembleHtml(data), connections: data.meta.flows.rows.length, seriesRows: data.meta.sizes.seriesRows };
}

/** Writes the page next to its final name first, so a failed run never leaves half a report. */
export async function writeReport(db: Database, file: string, opts: { title: string; thresholds?: ScanThresholds }): Promise<ReportResult> {
  const { html, connections, seriesRows } = await buildReportHtml(db, opts);
  const tmp = `${file}.partial-${process.pid}`;
  try {
    writeFileSync(tmp, html, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new RuntimeError(`${file}: cannot write the report (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return { file, bytes: Buffer.byteLength(html), connections, seriesRows };
}
