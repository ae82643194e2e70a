/**
 * Probe classification: which connection attempts are probes, of which nmap type, and how they were
 * answered. One row per flow in `scan_probe_flows`.
 *
 * A flow is a probe when its first packet is one of nmap's probe shapes (flags below, ECE/CWR ignored),
 * neither side ever sends payload (a connection that carried data either way is use, not a probe: a
 * server-first transfer such as an FTP data connection has a silent client), the prober sends at most
 * MAX_PROBER_PACKETS packets, and, for the non-SYN shapes, the target answers with nothing but RSTs.
 * A completed handshake is a connect probe only when it is also closed (FIN or RST) and it is the
 * prober's only completed connection to that endpoint (repeats are health checks, not discovery).
 * That leaves out every connection that carried data, idle pooled connections, and the ACKs that start
 * a capture in the middle of a real connection.
 *
 * | probe   | first packet | nmap    | answer meaning (nmap)                                             |
 * |---------|--------------|---------|-------------------------------------------------------------------|
 * | syn     | SYN          | -sS     | SYN/ACK open, RST closed, silence filtered; prober RSTs or never ACKs |
 * | connect | SYN          | -sT     | as syn, but the prober completes the handshake (ACK), sends no data |
 * | fin     | FIN          | -sF     | RST closed, silence open|filtered                                 |
 * | null    | none         | -sN     | same                                                              |
 * | xmas    | FIN+PSH+URG  | -sX     | same                                                              |
 * | ack     | ACK          | -sA -sW | RST unfiltered (-sW: RST with window > 0 open, window 0 closed)   |
 * | maimon  | FIN+ACK      | -sM     | RST closed, silence open|filtered (BSD-derived stacks only)       |
 * | os      | TSval 0xFFFFFFFF/TSecr 0, or SYN+ECE+CWR window 3 | -O | nmap's OS-detection probes (any flags) |
 */
import type { Database } from '../db/database.js';
import { MAX_PROBER_PACKETS } from '../db/probe-window.js';
import { TCP_ACK as ACK, TCP_CWR as CWR, TCP_ECE as ECE, TCP_FIN as FIN, TCP_PSH as PSH, TCP_RST as RST, TCP_SYN as SYN, TCP_URG as URG } from '../decode/types.js';
import { createDerivedTable } from './tables.js';
import { PROBE_TOOLS_SQL } from './tools.js';

export const PROBE_TYPES = ['syn', 'connect', 'fin', 'null', 'xmas', 'ack', 'maimon', 'os'] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/** The six classic flag bits (FIN..URG): ECE and CWR (hping3 -X/-Y, ECN) do not change the probe type. */
const CLASSIC = FIN | SYN | RST | PSH | ACK | URG;

/** The first packet's classic flags of each probe type nmap sends (docs/scans.md). */
const PROBE_FIRST_FLAGS = { syn: SYN, fin: FIN, null: 0, xmas: FIN | PSH | URG, ack: ACK, maimon: FIN | ACK } as const;
const PROBE_FLAGS = Object.values(PROBE_FIRST_FLAGS);

export const PROBE_FLOWS_SQL = `
WITH firsts AS (
  -- flow ids are unique in the database; one connection of a capture set can span files (capture ids)
  SELECT flow_id, arg_min(capture_id, frame) AS capture_id,
         arg_min(src, frame) AS prober, arg_min(dst, frame) AS target,
         arg_min(sport, frame) AS pport, arg_min(dport, frame) AS dport,
         arg_min(flags & ${CLASSIC}, frame) AS f0, arg_min(ip_version, frame) AS ip_version,
         -- the first packet's header fields: the scanner's tool leaves its marks there (tools.ts)
         arg_min(struct_pack(flags, seq, ip_id, ttl, win, doff, mss, wscale, sack_perm, tsval, tsecr), frame) AS p0
  FROM packets
  WHERE flow_id IS NOT NULL
  GROUP BY flow_id
),
per_flow AS (
  SELECT f.capture_id, f.flow_id, f.prober, f.target, f.pport, f.dport, f.f0, f.ip_version, f.p0,
         -- nmap's OS detection (-O): TSval 0xFFFFFFFF with TSecr 0 on its SEQ and T2-T7 probes, and its ECN
         -- probe (SYN+ECE+CWR, window 3): whatever their flags, they are probes of type 'os'
         coalesce((f.p0.tsval = 4294967295 AND f.p0.tsecr = 0) OR ((f.p0.flags & ${SYN | ECE | CWR}) = ${SYN | ECE | CWR} AND f.p0.win = 3), false) AS os_probe,
         count(*) FILTER (WHERE p.src = f.prober AND p.sport = f.pport) AS prober_packets,
         coalesce(sum(p.payload_len) FILTER (WHERE p.src = f.prober AND p.sport = f.pport), 0) AS prober_payload,
         coalesce(sum(p.payload_len) FILTER (WHERE p.src = f.target), 0) AS target_payload,
         bool_or((p.flags & ${FIN | RST}) <> 0) AS closed,
         bool_or((p.flags & ${SYN | ACK}) = ${SYN | ACK}) FILTER (WHERE p.src = f.target) AS synack,
         bool_or((p.flags & ${RST}) <> 0) FILTER (WHERE p.src = f.target) AS rst,
         bool_or((p.flags & ${RST}) <> 0 AND p.win > 0) FILTER (WHERE p.src = f.target) AS rst_window,
         bool_or((p.flags & ${RST}) = 0) FILTER (WHERE p.src = f.target) AS target_not_rst,
         -- the prober's handshake-completing ACK: a pure ACK sent after the SYN (connect scan)
         bool_or((p.flags & ${CLASSIC}) = ${ACK}) FILTER (WHERE p.src = f.prober AND p.sport = f.pport) AS prober_acked,
         list(p.frame ORDER BY p.frame) FILTER (WHERE p.src = f.prober AND p.sport = f.pport AND (p.flags & ${CLASSIC}) = f.f0) AS probe_frames,
         min(p.ts) AS first_ts, max(p.ts) FILTER (WHERE p.src = f.prober) AS last_ts
  FROM firsts f JOIN packets p ON p.flow_id = f.flow_id
  WHERE f.f0 IN (${PROBE_FLAGS.join(', ')}) OR (f.p0.tsval = 4294967295 AND f.p0.tsecr = 0) OR ((f.p0.flags & ${SYN | ECE | CWR}) = ${SYN | ECE | CWR} AND f.p0.win = 3)
  GROUP BY ALL
)
SELECT capture_id, flow_id, prober, target, pport, dport, ip_version, p0,
       CASE WHEN os_probe THEN 'os' ELSE CASE f0 WHEN ${SYN} THEN CASE WHEN coalesce(prober_acked AND synack, false) THEN 'connect' ELSE 'syn' END
               ${(['fin', 'null', 'xmas', 'ack', 'maimon'] as const).map((t) => `WHEN ${PROBE_FIRST_FLAGS[t]} THEN '${t}'`).join(' ')} END END AS probe_type,
       CASE WHEN coalesce(synack, false) THEN 'synack' WHEN coalesce(rst, false) THEN 'rst' ELSE 'none' END AS answer,
       coalesce(rst_window, false) AS rst_window,
       probe_frames, first_ts, last_ts
FROM per_flow
WHERE prober_payload = 0 AND target_payload = 0
  AND prober_packets <= ${MAX_PROBER_PACKETS}
  AND (f0 = ${SYN} OR os_probe OR NOT coalesce(target_not_rst, false))
  -- a completed handshake is a connect probe only once closed (FIN or RST): an idle pooled connection is not
  AND (f0 <> ${SYN} OR NOT coalesce(prober_acked AND synack, false) OR closed)
  AND len(probe_frames) > 0
`;

/**
 * Repeated connect probes to one endpoint are a health check or a pooled connection being tested, not
 * discovery: a scanner learns a port is open once. Such connections leave scan_probe_flows.
 */
const REPEATED_CONNECTS_SQL = `
SELECT * FROM scan_probe_flows_all
QUALIFY probe_type <> 'connect'
     OR count(*) FILTER (WHERE probe_type = 'connect') OVER (PARTITION BY prober, target, dport) = 1`;

/** Builds `scan_probe_flows` from `packets` (needs flows assigned: packets.flow_id). */
export async function buildProbeFlows(db: Database): Promise<void> {
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_probe_flows_all AS ${PROBE_FLOWS_SQL}`);
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_probe_flows_kept AS ${REPEATED_CONNECTS_SQL}`);
  await createDerivedTable(db, 'scan_probe_flows', PROBE_TOOLS_SQL);
}
