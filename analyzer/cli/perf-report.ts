/**
 * The performance section of `tcplens analyze` (analyzer/cli/analyze.ts REPORT_SECTIONS): the busiest
 * connections with what a performance engineer asks first (docs/conns.md): RTT, retransmissions,
 * throughput, bytes in flight, the time spent in each limit and the `limited_by` verdict. Each row shows
 * the figures of the connection's bulk direction (the side that sent more unique bytes): the direction a
 * slow transfer is slow in. `tcplens conns` has both directions of every connection.
 */
import type { ReportSection } from './analyze.js';

/** Per-direction figures of flows (analyzer/perf/columns.ts) shown for the bulk direction. */
const BULK_FIGURES = [
  'rtt_avg_ms', 'rtt_max_ms', 'rtt_samples', 'retrans_segments', 'retrans_bytes', 'unique_bytes', 'throughput_bps',
  'goodput_bps', 'bif_max', 'zero_window_s', 'rwnd_limited_s', 'app_limited_s', 'recovery_s',
] as const;

export const performanceSection: ReportSection = {
  name: 'performance',
  title: 'Connection performance (the busiest connections, figures of their bulk direction; tcplens conns has all)',
  tableColumns: ['uid', 'client', 'server', 'sport', 'bulk', 'bytes', 'rtt_avg_ms', 'retrans_segments', 'throughput_bps', 'limited_by'],
  async build(lens, opts) {
    const serverBulk = 'coalesce(server_unique_bytes, 0) >= coalesce(client_unique_bytes, 0)';
    const figures = BULK_FIGURES.map((f) => `CASE WHEN ${serverBulk} THEN server_${f} ELSE client_${f} END AS ${f}`).join(',\n              ');
    const r = await lens.query(
      `SELECT uid, client, cport, server, sport, state,
              CASE WHEN ${serverBulk} THEN 'server->client' ELSE 'client->server' END AS bulk,
              round(conn_duration_s, 6) AS duration_s, bytes,
              ${figures},
              limited_by
       FROM flows ORDER BY bytes DESC, flow_id LIMIT ${opts.top}`,
    );
    return { columns: r.columns, rows: r.rows };
  },
};
