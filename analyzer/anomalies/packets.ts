/**
 * Per-packet anomalies: flag combinations no TCP stack sends, and resets a receiver would drop because
 * they fall outside its window (the signature of blind reset / injection attempts, RFC 5961).
 * Packets that belong to a detected scan are left to the scan report: a FIN or NULL scan is expected
 * to send FIN or no flags without ACK, and reporting each probe again would bury everything else.
 */

/** Anomaly rows share one shape (see index.ts AnomalyRow). */
export const ANOMALY_SELECT = `capture_id, frame, frames, flow_id, src, dst, sport, dport, kind, detail`;

const NOT_IN_SCAN = `NOT EXISTS (SELECT 1 FROM scan_probes s WHERE s.capture_id = p.capture_id AND s.frame = p.frame)`;

/** SYN+FIN, SYN+RST, FIN/PSH/URG without ACK outside a scan, no flags at all outside a scan, reserved bits. */
export const INVALID_FLAGS_SQL = `
SELECT capture_id, frame, 1 AS frames, flow_id, src, dst, sport, dport,
       CASE
         WHEN (flags & 3) = 3 THEN 'syn_fin'
         WHEN (flags & 6) = 6 THEN 'syn_rst'
         WHEN (flags & 16) = 0 AND (flags & 41) <> 0 AND (flags & 6) = 0 THEN 'no_ack_flags'
         WHEN (flags & 63) = 0 THEN 'null_flags'
         ELSE 'reserved_bits'
       END AS kind,
       printf('flags 0x%02x', flags) || CASE WHEN reserved <> 0 THEN printf(', reserved bits 0x%x', reserved) ELSE '' END AS detail
FROM packets p
WHERE ((flags & 3) = 3 OR (flags & 6) = 6 OR reserved <> 0
       OR ((flags & 16) = 0 AND (flags & 41) <> 0 AND (flags & 6) = 0 AND ${NOT_IN_SCAN})
       OR ((flags & 63) = 0 AND ${NOT_IN_SCAN}))`;

/**
 * A RST is outside the window when its sequence number is not in [rcv_nxt, rcv_nxt + window) of the
 * receiver: rcv_nxt is the last ACK number the receiver sent in this connection, window its last
 * advertised window scaled by its SYN's window scale (when both SYNs carried one; unknown scale counts
 * as the largest, 14, so an unknown scale never invents a finding). A RST before the receiver sent any
 * ACK cannot be judged and is skipped, as are probe flows (a closed port's RST answers a probe).
 */
export const BLIND_RESET_SQL = `
WITH scales AS (
  SELECT capture_id, flow_id,
         arg_min(wscale, frame) FILTER (WHERE from_client AND (flags & 18) = 2) AS client_ws,
         arg_min(wscale, frame) FILTER (WHERE NOT from_client AND (flags & 18) = 18) AS server_ws,
         bool_or(from_client AND (flags & 18) = 2) AND bool_or(NOT from_client AND (flags & 18) = 18) AS saw_both_syns
  FROM packets WHERE flow_id IS NOT NULL GROUP BY ALL
),
rst_flows AS (SELECT DISTINCT capture_id, flow_id FROM packets WHERE (flags & 4) <> 0 AND flow_id IS NOT NULL),
state AS (
  SELECT p.capture_id, p.frame, p.flow_id, p.src, p.dst, p.sport, p.dport, p.flags, p.seq, p.from_client,
         last_value(CASE WHEN p.from_client AND (p.flags & 16) <> 0 THEN p.ack END IGNORE NULLS)
           OVER w AS client_ack,
         last_value(CASE WHEN p.from_client AND (p.flags & 16) <> 0 THEN p.win END IGNORE NULLS)
           OVER w AS client_win,
         last_value(CASE WHEN NOT p.from_client AND (p.flags & 16) <> 0 THEN p.ack END IGNORE NULLS)
           OVER w AS server_ack,
         last_value(CASE WHEN NOT p.from_client AND (p.flags & 16) <> 0 THEN p.win END IGNORE NULLS)
           OVER w AS server_win
  FROM packets p SEMI JOIN rst_flows r ON r.capture_id = p.capture_id AND r.flow_id = p.flow_id
  WINDOW w AS (PARTITION BY p.capture_id, p.flow_id ORDER BY p.frame ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
judged AS (
  SELECT s.*,
         CASE WHEN s.from_client THEN s.server_ack ELSE s.client_ack END AS rcv_nxt,
         CASE WHEN s.from_client THEN s.server_win ELSE s.client_win END AS rcv_win,
         CASE WHEN c.client_ws IS NOT NULL AND c.server_ws IS NOT NULL
              THEN CASE WHEN s.from_client THEN c.server_ws ELSE c.client_ws END
              WHEN c.saw_both_syns THEN 0 ELSE 14 END AS rcv_scale
  FROM state s JOIN scales c USING (capture_id, flow_id)
  WHERE (s.flags & 4) <> 0
    AND NOT EXISTS (SELECT 1 FROM scan_probe_flows f WHERE f.capture_id = s.capture_id AND f.flow_id = s.flow_id)
)
SELECT capture_id, frame, 1 AS frames, flow_id, src, dst, sport, dport, 'blind_reset' AS kind,
       printf('RST seq %d is %d bytes from the receiver''s next expected %d (window %d)', seq, rst_offset, rcv_nxt, rcv_window) AS detail
FROM (
  SELECT *, ((seq::BIGINT - rcv_nxt::BIGINT + 6442450944) % 4294967296) - 2147483648 AS rst_offset,
         rcv_win::BIGINT << LEAST(rcv_scale, 14) AS rcv_window
  FROM judged WHERE rcv_nxt IS NOT NULL AND rcv_win IS NOT NULL)
WHERE rst_offset < 0 OR rst_offset >= GREATEST(rcv_window, 1)`;
