/**
 * Scan detection (DESIGN.md "Scan detection", docs/scans.md): classify probes, group them into scans.
 * `findScans(db, thresholds, method)` fills the `scans` and `scan_probes` tables and returns the scans.
 */
import type { Database } from '../db/database.js';
import { detectScans, type ScanRow } from './detect.js';
import { buildProbeFlows } from './probes.js';
import { DEFAULT_THRESHOLDS, type ScanThresholds } from './thresholds.js';
import type { DetectionMethod } from './detection.js';

export { DEFAULT_THRESHOLDS, parseThresholds, type ScanThresholds } from './thresholds.js';
export { SCAN_COLUMNS, SCAN_TABLE_COLUMNS, type ScanRow } from './detect.js';
export { PROBE_TYPES, type ProbeType } from './probes.js';
export { DETECTION_METHODS, TRW, type DetectionMethod } from './detection.js';
export { TOOLS, type Tool } from './tools.js';

export async function findScans(db: Database, thresholds: ScanThresholds = DEFAULT_THRESHOLDS, method: DetectionMethod = 'threshold'): Promise<ScanRow[]> {
  await buildProbeFlows(db);
  return detectScans(db, thresholds, method);
}
