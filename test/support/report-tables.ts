/** `analyze`'s report of captures loaded one way, with every row of the tables its sections summarise. */
import { openCaptures, type LoadTables } from '../../analyzer/index.js';
import { REPORT_SECTIONS } from '../../analyzer/cli/analyze.js';

/** Every section of the report, and every row of the tables they summarise (loaded as `analyze` loads: with the performance figures). */
export async function reportOf(files: readonly string[], tables: LoadTables): Promise<Record<string, unknown>> {
  const lens = await openCaptures(files, { tables, figures: true });
  try {
    const out: Record<string, unknown> = {};
    for (const section of REPORT_SECTIONS) out[section.name] = (await section.build(lens, { top: 1000 })).rows;
    out['all_anomalies'] = (await lens.query('SELECT * FROM anomalies ORDER BY ALL')).rows;
    out['all_isn'] = (await lens.query('SELECT * FROM isn_hosts ORDER BY ALL')).rows;
    out['flag_flows'] = (await lens.query(
      'SELECT a.capture_id, a.frame, a.flag::VARCHAR AS flag, p.flow_id FROM tcp_analysis a LEFT JOIN packet_rows p USING (capture_id, frame) ORDER BY ALL',
    )).rows;
    return out;
  } finally {
    await lens.close();
  }
}
