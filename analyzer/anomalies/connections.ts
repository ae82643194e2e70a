/**
 * Per-connection and per-server anomalies: windows that stall or starve a connection, and half-open
 * SYN floods. Flows that are scan probes (scan_probe_flows) are left out: nmap's and hping3's probes
 * carry tiny fixed windows (1024, 512) on purpose.
 */
import { TCP_ACK as ACK, TCP_RST as RST, TCP_SYN as SYN } from '../decode/types.js';

/**
 * An endpoint that never offers more than one full Ethernet-sized segment of (scaled) window forces its
 * peer into sub-MSS segments (silly window syndrome, RFC 1122 4.2.3.3): the lever of small-window
 * denial-of-service tools such as Sockstress.
 */
export const TINY_WINDOW_BYTES = 1460;
/** ... over at least this many segments (a handful of packets is not a pattern). */
export const TINY_WINDOW_MIN_SEGMENTS = 4;
/** A server port with at least this many half-open connections ... */
export const FLOOD_MIN_HALF_OPEN = 100;
/** ... that outnumber its completed handshakes at least this many times over is under a SYN flood. */
export const FLOOD_MIN_RATIO = 4;

const NOT_PROBE = `NOT EXISTS (SELECT 1 FROM scan_probe_flows f WHERE f.capture_id = p.capture_id AND f.flow_id = p.flow_id)`;

/** Connections where a side advertised a zero window (Wireshark's tcp.analysis.zero_window). */
export const ZERO_WINDOW_SQL = `
SELECT p.capture_id, min(a.frame) AS frame, count(*) AS frames, p.flow_id,
       arg_min(p.src, a.frame) AS src, arg_min(p.dst, a.frame) AS dst, arg_min(p.sport, a.frame) AS sport, arg_min(p.dport, a.frame) AS dport,
       'zero_window' AS kind,
       printf('%d zero-window advertisement(s) over %.3f s', count(*), (epoch_ns(max(p.ts)) - epoch_ns(min(p.ts))) / 1e9) AS detail
FROM tcp_analysis a JOIN packets p ON p.capture_id = a.capture_id AND p.frame = a.frame
WHERE a.flag = 'zero_window' AND p.flow_id IS NOT NULL AND ${NOT_PROBE}
GROUP BY p.capture_id, p.flow_id, p.from_client`;

/** A direction whose scaled window never exceeds TINY_WINDOW_BYTES (and is not zero throughout). */
export const TINY_WINDOW_SQL = `
WITH scales AS (
  SELECT capture_id, flow_id,
         arg_min(wscale, frame) FILTER (WHERE from_client AND (flags & ${SYN | ACK}) = ${SYN}) AS client_ws,
         arg_min(wscale, frame) FILTER (WHERE NOT from_client AND (flags & ${SYN | ACK}) = ${SYN | ACK}) AS server_ws
  FROM packets WHERE flow_id IS NOT NULL GROUP BY ALL
  -- Without both SYNs the window scale is unknown and a small raw window may be a large real one.
  HAVING bool_or(from_client AND (flags & ${SYN | ACK}) = ${SYN}) AND bool_or(NOT from_client AND (flags & ${SYN | ACK}) = ${SYN | ACK})
),
segments AS (
  SELECT p.capture_id, p.flow_id, p.from_client, p.frame, p.src, p.dst, p.sport, p.dport,
         p.win::BIGINT << CASE WHEN s.client_ws IS NOT NULL AND s.server_ws IS NOT NULL
                               THEN LEAST(CASE WHEN p.from_client THEN s.client_ws ELSE s.server_ws END, 14) ELSE 0 END AS adv_window
  FROM packets p JOIN scales s USING (capture_id, flow_id)
  WHERE (p.flags & ${SYN | RST}) = 0 AND (p.flags & ${ACK}) <> 0 AND ${NOT_PROBE}
)
SELECT capture_id, min(frame) AS frame, count(*) AS frames, flow_id,
       arg_min(src, frame) AS src, arg_min(dst, frame) AS dst, arg_min(sport, frame) AS sport, arg_min(dport, frame) AS dport,
       'tiny_window' AS kind,
       printf('window never above %d bytes over %d segments', max(adv_window), count(*)) AS detail
FROM segments
GROUP BY capture_id, flow_id, from_client
HAVING count(*) >= ${TINY_WINDOW_MIN_SEGMENTS} AND max(adv_window) > 0 AND max(adv_window) <= ${TINY_WINDOW_BYTES}`;

/**
 * Half-open: the client's SYN and nothing more from it (Zeek history has 'S' and none of A, D, F, R from
 * the originator), whether or not the server answered. Completed: the client ACKed (history 'A').
 */
export const SYN_FLOOD_SQL = `
WITH per_server AS (
  SELECT f.capture_id, f.server, f.sport,
         count(*) FILTER (WHERE f.history LIKE '%S%' AND NOT regexp_matches(f.history, '[ADFR]')) AS half_open,
         count(*) FILTER (WHERE regexp_matches(f.history, 'A')) AS completed,
         count(DISTINCT f.client) FILTER (WHERE f.history LIKE '%S%' AND NOT regexp_matches(f.history, '[ADFR]')) AS sources,
         min(f.first_ts) AS first_ts, max(f.last_ts) AS last_ts,
         min(f.flow_id) AS first_flow
  FROM flows f
  WHERE NOT EXISTS (SELECT 1 FROM scan_flows s WHERE s.capture_id = f.capture_id AND s.flow_id = f.flow_id)
  GROUP BY ALL
)
SELECT capture_id, NULL::BIGINT AS frame, half_open AS frames, NULL::BIGINT AS flow_id,
       NULL::VARCHAR AS src, server AS dst, NULL::USMALLINT AS sport, sport AS dport, 'syn_flood' AS kind,
       printf('%d half-open connections from %d sources, %d completed, over %.3f s', half_open, sources, completed,
              (epoch_ns(last_ts) - epoch_ns(first_ts)) / 1e9) AS detail
FROM per_server
WHERE half_open >= ${FLOOD_MIN_HALF_OPEN} AND half_open >= ${FLOOD_MIN_RATIO} * completed`;
