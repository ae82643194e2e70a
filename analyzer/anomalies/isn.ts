/**
 * ISN predictability per host: the ISNs each host chose as a client (its SYNs) and as a server (its
 * SYN/ACKs), one sample per connection, graded by analyzer/isn. Connections that belong to a scan are
 * left out: a scanner's crafted probes (nmap -sS reuses one sequence number) say nothing about the
 * scanner's own TCP stack.
 */
import type { Database } from '../db/database.js';
import { assessIsn, MIN_SAMPLES, type IsnClass } from '../isn/index.js';

export interface IsnHostRow {
  host: string;
  /** 'syn': the ISNs of its SYNs (as a client); 'synack': of its SYN/ACKs (as a server). */
  role: 'syn' | 'synack';
  samples: number;
  class: IsnClass;
  gcd: number;
  rate_per_s: number | null;
  isr: number | null;
  sp: number | null;
  difficulty: string;
  reason: string;
  first_ts: string;
  last_ts: string;
}

export const ISN_COLUMNS = ['host', 'role', 'samples', 'class', 'gcd', 'rate_per_s', 'isr', 'sp', 'difficulty', 'reason'] as const;

const SAMPLES_SQL = `
WITH samples AS (
  SELECT client AS host, 'syn' AS role, first_ts AS ts, client_isn AS isn, capture_id, flow_id FROM flows WHERE client_isn IS NOT NULL
  UNION ALL
  SELECT server, 'synack', first_ts, server_isn, capture_id, flow_id FROM flows WHERE server_isn IS NOT NULL
),
kept AS (
  SELECT * FROM samples s WHERE NOT EXISTS (SELECT 1 FROM scan_flows x WHERE x.capture_id = s.capture_id AND x.flow_id = s.flow_id)
),
enough AS (SELECT host, role FROM kept GROUP BY ALL HAVING count(*) >= ${MIN_SAMPLES})
SELECT k.host, k.role, epoch_ns(k.ts) AS ts_ns, k.ts::VARCHAR AS ts_text, k.isn
FROM kept k SEMI JOIN enough e ON e.host = k.host AND e.role = k.role
ORDER BY k.host, k.role, k.ts, k.capture_id, k.flow_id`;

/** Grades every (host, role) with at least MIN_SAMPLES connections; writes nothing. */
export async function assessHosts(db: Database): Promise<IsnHostRow[]> {
  const r = await db.query(SAMPLES_SQL);
  const out: IsnHostRow[] = [];
  let i = 0;
  const rows = r.rows;
  while (i < rows.length) {
    const host = rows[i]!['host'] as string;
    const role = rows[i]!['role'] as 'syn' | 'synack';
    const samples: { ts: number; isn: number }[] = [];
    const first = rows[i]!['ts_text'] as string;
    let last = first;
    for (; i < rows.length && rows[i]!['host'] === host && rows[i]!['role'] === role; i++) {
      samples.push({ ts: Number(rows[i]!['ts_ns']) / 1e9, isn: Number(rows[i]!['isn']) });
      last = rows[i]!['ts_text'] as string;
    }
    const a = assessIsn(samples);
    if (a.class === 'insufficient') continue; // scan flows removed, fewer than MIN_SAMPLES left
    out.push({
      host, role, samples: a.samples, class: a.class, gcd: a.gcd,
      rate_per_s: a.ratePerSec === null ? null : Math.round(a.ratePerSec),
      isr: a.isr, sp: a.sp, difficulty: a.difficulty, reason: a.reason, first_ts: first, last_ts: last,
    });
  }
  return out;
}
