/**
 * Scan detection over `scan_probe_flows` (probes.ts): a prober's probes, cut into episodes wherever it
 * stays quiet longer than the window, become a scan when they reach the thresholds (thresholds.ts), or
 * under --method trw when the random walk of detection.ts calls the source a scanner; members of a decoy
 * or distributed group (groups.ts) always. Each row says when it became detectable (detection.ts) and
 * which tool sent it (tools.ts). Also writes `scan_groups`.
 * Writes `scans` (one row per scan) and `scan_probes(scan_id, capture_id, frame, tool, tool_confidence,
 * tool_evidence)` (its probe frames, each with the tool its flow's first packet points to: tools.ts).
 *
 * Kinds: vertical = at least minPorts ports on one host; horizontal = at least minHosts hosts;
 * block = both at once (minPorts ports on two or more hosts, or minHosts hosts and minPorts ports overall).
 *
 * open_ports, per probe type, are the ports nmap itself would list as open or open|filtered:
 * syn/connect: answered with SYN/ACK; fin/null/xmas/maimon: never answered with RST while the same
 * target did RST other probes of that scan (a target that answers nothing is filtered, not open);
 * ack: answered with a RST whose window is not zero (nmap -sW's rule; nmap -sA never says open).
 */
import type { Database } from '../db/database.js';
import { PROBE_TYPES } from './probes.js';
import { createDerivedTable } from './tables.js';
import { findGroups } from './groups.js';
import { detectTimes, type DetectionMethod } from './detection.js';
import type { ScanThresholds } from './thresholds.js';

/** One `scans` row as `tcplens scans --format json` prints it. */
export interface ScanRow {
  scan_id: number;
  scanner: string;
  kind: 'vertical' | 'horizontal' | 'block';
  probe_types: string[];
  targets: number;
  target_list: string[];
  ports: number;
  port_ranges: string;
  open_ports: number[];
  /** (target, port) pairs answered with a RST / never answered. */
  closed: number;
  unanswered: number;
  probes: number;
  first_ts: string;
  last_ts: string;
  duration_s: number;
  rate_per_s: number | null;
  /** The tool most of the probes carry the signature of (tools.ts), how sure, and the fields that matched. */
  tool: string;
  tool_confidence: number;
  tool_evidence: string[];
  /** When the scan became detectable (the probe that crossed the method's line) and after how many
   *  distinct (target, port) probes (detection.ts). */
  detected_at: string | null;
  probes_to_detect: number | null;
  /** Decoy or distributed group (groups.ts) this source belongs to, else null. */
  group_id: number | null;
  group_kind: 'decoy' | 'distributed' | null;
}

export const SCAN_COLUMNS = [
  'scan_id', 'scanner', 'kind', 'probe_types', 'targets', 'target_list', 'ports', 'port_ranges', 'open_ports',
  'closed', 'unanswered', 'probes', 'first_ts', 'last_ts', 'duration_s', 'rate_per_s',
  'tool', 'tool_confidence', 'tool_evidence', 'detected_at', 'probes_to_detect', 'group_id', 'group_kind',
] as const;

/**
 * What a terminal table of scans shows: who, what kind, with what tool, against what, how fast it was found.
 * Every column of SCAN_COLUMNS stays in JSON and CSV (and with --wide).
 */
export const SCAN_TABLE_COLUMNS = [
  'scanner', 'kind', 'probe_types', 'tool', 'targets', 'target_list', 'port_ranges', 'open_ports', 'probes', 'first_ts', 'duration_s',
  'probes_to_detect', 'group_kind',
] as const;

const probeOrder = `list_position([${PROBE_TYPES.map((t) => `'${t}'`).join(', ')}], probe_type)`;

function episodesSql(t: ScanThresholds): string {
  const windowNs = Math.round(t.windowSeconds * 1e9);
  return `
WITH ordered AS (
  SELECT *, epoch_ns(first_ts) AS t_ns,
         lag(epoch_ns(first_ts)) OVER (PARTITION BY prober ORDER BY first_ts, capture_id, flow_id) AS prev_ns
  FROM scan_probe_flows
)
SELECT * EXCLUDE (probe_type),
       sum(CASE WHEN prev_ns IS NULL OR t_ns - prev_ns > ${windowNs} THEN 1 ELSE 0 END)
         OVER (PARTITION BY prober ORDER BY first_ts, capture_id, flow_id ROWS UNBOUNDED PRECEDING) AS episode,
       probe_type AS seen_type
FROM ordered`;
}

/**
 * A SYN to a closed or filtered port looks the same from nmap -sS and -sT: only the open ports tell
 * (-sT completes the handshake, -sS resets it). So within one episode, unresolved SYN probes are
 * connect probes when the episode has connect probes and no half-open SYN/ACK at all.
 */
function resolvedTypesSql(): string {
  return `
SELECT * EXCLUDE (seen_type),
       CASE WHEN seen_type = 'syn' AND answer <> 'synack'
                 AND bool_or(seen_type = 'connect') OVER episode
                 AND NOT bool_or(seen_type = 'syn' AND answer = 'synack') OVER episode
            THEN 'connect' ELSE seen_type END AS probe_type
FROM scan_episodes_raw
WINDOW episode AS (PARTITION BY prober, episode)`;
}

function scansSql(t: ScanThresholds, method: DetectionMethod): string {
  return `
WITH per_host AS (
  SELECT prober, episode, target, count(DISTINCT dport) AS host_ports
  FROM scan_episodes GROUP BY ALL
),
shape AS (
  SELECT e.prober, e.episode,
         count(DISTINCT e.target) AS targets, count(DISTINCT e.dport) AS ports,
         (SELECT max(h.host_ports) FROM per_host h WHERE h.prober = e.prober AND h.episode = e.episode) AS max_host_ports,
         (SELECT count(*) FROM per_host h WHERE h.prober = e.prober AND h.episode = e.episode AND h.host_ports >= ${t.minPorts}) AS wide_hosts
  FROM scan_episodes e GROUP BY ALL
),
-- A busy benign client is never a scanner: an episode whose prober, between its first and last probe,
-- completed more connections that carried its data than it sent probes (a browser or crawler whose
-- few failures hit many ports or hosts) is left out.
span AS (
  SELECT prober, episode, min(first_ts) AS t0, max(last_ts) AS t1, count(*) AS probe_flows
  FROM scan_episodes GROUP BY ALL
),
busy AS (
  SELECT s.prober, s.episode
  FROM span s JOIN flows f ON f.client = s.prober AND f.first_ts BETWEEN s.t0 AND s.t1 AND f.client_payload > 0
  GROUP BY s.prober, s.episode, s.probe_flows
  HAVING count(*) > s.probe_flows
),
shaped AS (
  SELECT s.*, g.group_id, g.group_kind, g.detect_capture AS group_capture, g.detect_flow AS group_flow, g.group_probes, CASE
      WHEN wide_hosts >= 2 OR (targets >= ${t.minHosts} AND ports >= ${t.minPorts}) THEN 'block'
      WHEN max_host_ports >= ${t.minPorts} THEN 'vertical'
      WHEN targets >= ${t.minHosts} THEN 'horizontal'
    END AS own_kind
  FROM shape s ANTI JOIN busy USING (prober, episode)
  LEFT JOIN scan_group_members g ON g.prober = s.prober AND g.episode = CAST(s.episode AS BIGINT)
),
-- Which episodes are scans: under --method threshold, those reaching the thresholds; under trw, those
-- the random walk called a scanner (detection.ts). A member of a decoy or distributed group (groups.ts)
-- is a scan row either way, even when its own probes stay below the thresholds. An episode with no
-- threshold kind takes the shape of its own probes.
kinds AS (
  SELECT sh.* EXCLUDE (own_kind), det.frame_capture, det.frame_flow, det.probes_to_detect,
         CASE WHEN ${method === 'threshold' ? 'own_kind IS NOT NULL' : 'det.frame_flow IS NOT NULL'} OR group_id IS NOT NULL THEN
           coalesce(own_kind, CASE WHEN targets = 1 THEN 'vertical' WHEN max_host_ports = 1 THEN 'horizontal' ELSE 'block' END)
         END AS kind
  FROM shaped sh
  LEFT JOIN scan_detection det ON det.prober = sh.prober AND det.episode = CAST(sh.episode AS BIGINT) AND det.method = '${method}'
),
-- A group member its own probes never made detectable is detected when its group's union reached the
-- thresholds, after the group's number of probes (groups.ts).
detected AS (
  SELECT k.prober, k.episode,
         CASE WHEN k.frame_flow IS NOT NULL THEN k.probes_to_detect ELSE k.group_probes END AS probes_to_detect,
         CASE WHEN k.frame_flow IS NOT NULL THEN e.first_ts ELSE ge.first_ts END AS detected_at
  FROM kinds k
  LEFT JOIN scan_episodes e ON e.capture_id = k.frame_capture AND e.flow_id = k.frame_flow
  LEFT JOIN scan_episodes ge ON ge.capture_id = k.group_capture AND ge.flow_id = k.group_flow
  WHERE k.kind IS NOT NULL
),
port_answers AS (
  SELECT prober, episode, target, dport, probe_type,
         bool_or(answer = 'synack') AS synack, bool_or(answer = 'rst') AS rst, bool_or(rst_window) AS rst_window
  FROM scan_episodes GROUP BY ALL
),
target_rsts AS (
  SELECT prober, episode, target, probe_type, bool_or(rst) AS any_rst FROM port_answers GROUP BY ALL
),
verdicts AS (
  SELECT a.*, CASE
      WHEN a.probe_type IN ('syn', 'connect') THEN a.synack
      WHEN a.probe_type = 'ack' THEN a.rst_window
      WHEN a.probe_type = 'os' THEN false
      ELSE NOT a.rst AND r.any_rst
    END AS is_open
  FROM port_answers a JOIN target_rsts r USING (prober, episode, target, probe_type)
),
endpoint AS (
  SELECT prober, episode, target, dport, bool_or(is_open) AS is_open, bool_or(rst) AS rst, bool_or(synack) AS synack
  FROM verdicts GROUP BY ALL
),
answers AS (
  SELECT prober, episode,
         list(DISTINCT dport ORDER BY dport) FILTER (WHERE is_open) AS open_ports,
         count(*) FILTER (WHERE rst AND NOT synack AND NOT is_open) AS closed,
         count(*) FILTER (WHERE NOT rst AND NOT synack) AS unanswered
  FROM endpoint GROUP BY ALL
),
islands AS (
  SELECT prober, episode, dport, dport - row_number() OVER (PARTITION BY prober, episode ORDER BY dport) AS island
  FROM (SELECT DISTINCT prober, episode, dport FROM scan_episodes)
),
ranges AS (
  SELECT prober, episode, string_agg(CASE WHEN lo = hi THEN lo::VARCHAR ELSE lo::VARCHAR || '-' || hi::VARCHAR END, ',' ORDER BY lo) AS port_ranges
  FROM (SELECT prober, episode, min(dport) AS lo, max(dport) AS hi FROM islands GROUP BY prober, episode, island)
  GROUP BY ALL
),
-- The scan's tool: the one most probes carry (unknown only when nothing matched); its confidence is the
-- probes' mean confidence times the share of probes that carry it.
tool_counts AS (
  SELECT prober, episode, tool, count(*) AS n, avg(tool_confidence) AS conf,
         list_sort(list_distinct(flatten(list(tool_evidence)))) AS evidence,
         sum(count(*)) OVER (PARTITION BY prober, episode) AS total
  FROM scan_episodes GROUP BY prober, episode, tool
),
tools AS (
  SELECT prober, episode, tool, round(conf * n / total, 2) AS tool_confidence, evidence AS tool_evidence
  FROM tool_counts
  QUALIFY row_number() OVER (PARTITION BY prober, episode ORDER BY tool = 'unknown', n DESC, tool) = 1
),
totals AS (
  SELECT prober, episode,
         list(DISTINCT probe_type ORDER BY ${probeOrder}) AS probe_types,
         list(DISTINCT target ORDER BY target) AS target_list,
         sum(len(probe_frames)) AS probes, min(first_ts) AS first_ts, max(last_ts) AS last_ts
  FROM scan_episodes GROUP BY ALL
)
SELECT CAST(row_number() OVER (ORDER BY t.first_ts, k.prober) AS INTEGER) AS scan_id,
       k.prober AS scanner, k.kind, t.probe_types, k.targets, t.target_list, k.ports, r.port_ranges,
       coalesce(a.open_ports, []) AS open_ports, a.closed, a.unanswered, t.probes, t.first_ts, t.last_ts,
       round((epoch_ns(t.last_ts) - epoch_ns(t.first_ts)) / 1e9, 6) AS duration_s,
       CASE WHEN t.last_ts > t.first_ts THEN round(t.probes / ((epoch_ns(t.last_ts) - epoch_ns(t.first_ts)) / 1e9), 6) END AS rate_per_s,
       tl.tool, CAST(tl.tool_confidence AS DOUBLE) AS tool_confidence, tl.tool_evidence,
       d.detected_at, d.probes_to_detect,
       k.group_id, k.group_kind,
       k.episode
FROM kinds k
JOIN totals t USING (prober, episode)
JOIN answers a USING (prober, episode)
JOIN ranges r USING (prober, episode)
JOIN tools tl USING (prober, episode)
JOIN detected d USING (prober, episode)
WHERE k.kind IS NOT NULL`;
}

/** One row per decoy or distributed group: its sources (every one also a scan row) and what they probed. */
const SCAN_GROUPS_SQL = `
SELECT group_id, any_value(group_kind) AS kind, count(*) AS sources, list(scanner ORDER BY scanner) AS source_list,
       list_sort(list_distinct(flatten(list(target_list)))) AS target_list, sum(probes) AS probes,
       min(first_ts) AS first_ts, max(last_ts) AS last_ts, list(scan_id ORDER BY scan_id) AS scan_ids
FROM scans WHERE group_id IS NOT NULL GROUP BY group_id ORDER BY group_id`;

const SCAN_PROBES_SQL = `
SELECT s.scan_id, e.capture_id, CAST(unnest(e.probe_frames) AS BIGINT) AS frame,
       e.tool, CAST(e.tool_confidence AS DOUBLE) AS tool_confidence, e.tool_evidence
FROM scan_episodes e JOIN scans_with_episode s ON s.scanner = e.prober AND s.episode = e.episode
ORDER BY s.scan_id, e.capture_id, frame`;

/**
 * Builds scan_probe_flows' episodes, `scans` and `scan_probes`; returns the scans in scan_id order.
 * Needs `scan_probe_flows` (buildProbeFlows).
 */
export async function detectScans(db: Database, thresholds: ScanThresholds, method: DetectionMethod = 'threshold'): Promise<ScanRow[]> {
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_episodes_raw AS ${episodesSql(thresholds)}`);
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_episodes AS ${resolvedTypesSql()}`);
  await findGroups(db, thresholds);
  await detectTimes(db, thresholds);
  await db.query(`CREATE OR REPLACE TEMP TABLE scans_with_episode AS ${scansSql(thresholds, method)}`);
  await createDerivedTable(db, 'scans', `SELECT * EXCLUDE (episode) FROM scans_with_episode`);
  await createDerivedTable(db, 'scan_groups', SCAN_GROUPS_SQL);
  await createDerivedTable(db, 'scan_probes', SCAN_PROBES_SQL);
  // The connections that make up scans: other analyses (anomalies, ISNs) leave them out.
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_flows AS
    SELECT DISTINCT e.capture_id, e.flow_id FROM scan_episodes e
    JOIN scans_with_episode s ON s.scanner = e.prober AND s.episode = e.episode`);
  const r = await db.query(`SELECT * FROM scans ORDER BY scan_id`);
  return r.rows.map((row) => ({
    ...row,
    open_ports: (row['open_ports'] as unknown[]).map(Number),
    probe_types: row['probe_types'] as string[],
    target_list: row['target_list'] as string[],
    tool_evidence: row['tool_evidence'] as string[],
  })) as unknown as ScanRow[];
}
