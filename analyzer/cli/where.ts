/**
 * `--where SQL` for commands that report on everything loaded (`scans`, `analyze`): the condition is
 * evaluated on the flows table (alias f, every column of flows), and what does not match is removed from
 * the throw-away database before the report runs: those connections, their packets and their flags. So every
 * section of the report, scans included, considers only the matching connections. A kept database (--db, or
 * a DB.duckdb input) is never changed: --where needs captures loaded into memory.
 */
import { UsageError } from '../../common/errors.js';
import type { Lens } from '../index.js';

export async function restrictToConnections(lens: Lens, where: string | undefined, kept: boolean): Promise<void> {
  if (where === undefined) return;
  if (kept) throw new UsageError('--where removes what does not match from the loaded tables: use it without --db and with captures, not a kept database');
  try {
    await lens.query(`CREATE TEMP TABLE where_flows AS SELECT f.flow_id FROM flows f WHERE ${where}`);
  } catch (err) {
    throw new UsageError(`--where: ${(err as Error).message}`);
  }
  await lens.query('DELETE FROM packet_rows WHERE flow_id NOT IN (SELECT flow_id FROM where_flows)');
  await lens.query(
    `DELETE FROM tcp_analysis a WHERE NOT EXISTS (SELECT 1 FROM packet_rows p WHERE p.capture_id = a.capture_id AND p.frame = a.frame)`,
  );
  await lens.query('DELETE FROM flows WHERE flow_id NOT IN (SELECT flow_id FROM where_flows)');
}
