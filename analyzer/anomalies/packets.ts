/**
 * Per-packet anomalies: flag combinations no TCP stack sends, and resets a receiver would drop because
 * they fall outside its window (the signature of blind reset / injection attempts, RFC 5961).
 * Packets that belong to a detected scan are left to the scan report: a FIN or NULL scan is expected
 * to send FIN or no flags without ACK, and reporting each probe again would bury everything else.
 */
import { TCP_ACK as ACK, TCP_FIN as FIN, TCP_PSH as PSH, TCP_RST as RST, TCP_SYN as SYN, TCP_URG as URG } from '../decode/types.js';

/** Anomaly rows share one shape (see index.ts AnomalyRow). */
export const ANOMALY_SELECT = `capture_id, frame, frames, flow_id, src, dst, sport, dport, kind, detail`;

const NOT_IN_SCAN = `NOT EXISTS (SELECT 1 FROM scan_probes s WHERE s.capture_id = p.capture_id AND s.frame = p.frame)`;

/**
 * SYN+FIN, SYN+RST, FIN/PSH/URG without ACK outside a scan, no flags at all outside a scan, and the three
 * reserved bits (RFC 9293). The fourth bit beside them, once ECN's NS and now AccECN's AE (RFC 9768),
 * is a real flag and is not reported.
 */
export const INVALID_FLAGS_SQL = `
SELECT capture_id, frame, 1 AS frames, flow_id, src, dst, sport, dport,
       CASE
         WHEN (flags & ${SYN | FIN}) = ${SYN | FIN} THEN 'syn_fin'
         WHEN (flags & ${SYN | RST}) = ${SYN | RST} THEN 'syn_rst'
         WHEN (flags & ${ACK}) = 0 AND (flags & ${FIN | PSH | URG}) <> 0 AND (flags & ${SYN | RST}) = 0 THEN 'no_ack_flags'
         WHEN (flags & ${FIN | SYN | RST | PSH | ACK | URG}) = 0 THEN 'null_flags'
         ELSE 'reserved_bits'
       END AS kind,
       printf('flags 0x%02x', flags) || CASE WHEN (reserved & 14) <> 0 THEN printf(', reserved bits 0x%x', reserved & 14) ELSE '' END AS detail
FROM packets p
WHERE ((flags & ${SYN | FIN}) = ${SYN | FIN} OR (flags & ${SYN | RST}) = ${SYN | RST} OR (reserved & 14) <> 0
       OR ((flags & ${ACK}) = 0 AND (flags & ${FIN | PSH | URG}) <> 0 AND (flags & ${SYN | RST}) = 0 AND ${NOT_IN_SCAN})
       OR ((flags & ${FIN | SYN | RST | PSH | ACK | URG}) = 0 AND ${NOT_IN_SCAN}))`;

/**
 * A RST is outside the window when its sequence number is not in [rcv_nxt, rcv_nxt + window) of the
 * receiver: rcv_nxt is the last ACK number the receiver sent in this connection, window its last
 * advertised window scaled by its SYN's window scale (when both SYNs carried one; unknown scale counts
 * as the largest, 14, so an unknown scale never invents a finding). A RST before the receiver sent any
 * ACK cannot be judged and is skipped, as are probe flows (a closed port's RST answers a probe). Two
 * benign cases are let through: seq one below rcv_nxt (stacks that reset with the sequence number of
 * their already-ACKed FIN), and seq at the sender's own next sequence number as seen in the capture.
 */
export const BLIND_RESET_SQL = `
WITH rsts AS (SELECT capture_id, frame, flow_id, src, dst, sport, dport, flags, seq, ack, from_client
         FROM packets WHERE (flags & ${RST}) <> 0 AND flow_id IS NOT NULL),
-- Each RST is judged against its flow as it stood just before it. Only RST frames need that state: ASOF
-- joins find, per RST, the latest earlier segment of each kind (linear, also for a flood of RSTs in one
-- flow), and one running max per side gives where each side's own sequence space stood.
flow_packets AS (SELECT p.* FROM packets p SEMI JOIN (SELECT DISTINCT capture_id, flow_id FROM rsts) r USING (capture_id, flow_id)),
acks AS (SELECT capture_id, flow_id, frame, from_client, ack, win FROM flow_packets WHERE (flags & ${ACK}) <> 0),
-- seq + length (+1 for SYN or FIN) of each side's segments: the highest so far, not the last (a RST
-- carries snd_nxt even while older data is being retransmitted)
nxt AS (
  SELECT capture_id, flow_id, frame, from_client,
         max((seq::BIGINT + payload_len + CASE WHEN (flags & ${SYN | FIN}) <> 0 THEN 1 ELSE 0 END) % 4294967296)
           OVER (PARTITION BY capture_id, flow_id, from_client ORDER BY frame ROWS UNBOUNDED PRECEDING) AS nxt
  FROM flow_packets WHERE (flags & ${RST}) = 0
),
scales AS (
  SELECT capture_id, flow_id,
         arg_min(wscale, frame) FILTER (WHERE from_client AND (flags & ${SYN | ACK}) = ${SYN}) AS client_ws,
         arg_min(wscale, frame) FILTER (WHERE NOT from_client AND (flags & ${SYN | ACK}) = ${SYN | ACK}) AS server_ws,
         bool_or(from_client AND (flags & ${SYN | ACK}) = ${SYN}) AND bool_or(NOT from_client AND (flags & ${SYN | ACK}) = ${SYN | ACK}) AS saw_both_syns
  FROM flow_packets
  GROUP BY ALL
),
client_syns AS (SELECT capture_id, flow_id, frame, seq FROM flow_packets WHERE from_client AND (flags & ${SYN | ACK}) = ${SYN}),
state AS (
  SELECT r.capture_id, r.frame, r.flow_id, r.src, r.dst, r.sport, r.dport, r.flags, r.seq, r.ack, r.from_client,
         ca.ack AS client_ack, ca.win AS client_win, sa.ack AS server_ack, sa.win AS server_win,
         cn.nxt AS client_nxt, sn.nxt AS server_nxt, cs.seq AS client_syn_seq
  FROM rsts r
  ASOF LEFT JOIN (SELECT * FROM acks WHERE from_client) ca
    ON ca.capture_id = r.capture_id AND ca.flow_id = r.flow_id AND r.frame > ca.frame
  ASOF LEFT JOIN (SELECT * FROM acks WHERE NOT from_client) sa
    ON sa.capture_id = r.capture_id AND sa.flow_id = r.flow_id AND r.frame > sa.frame
  ASOF LEFT JOIN (SELECT * FROM nxt WHERE from_client) cn
    ON cn.capture_id = r.capture_id AND cn.flow_id = r.flow_id AND r.frame > cn.frame
  ASOF LEFT JOIN (SELECT * FROM nxt WHERE NOT from_client) sn
    ON sn.capture_id = r.capture_id AND sn.flow_id = r.flow_id AND r.frame > sn.frame
  ASOF LEFT JOIN client_syns cs
    ON cs.capture_id = r.capture_id AND cs.flow_id = r.flow_id AND r.frame > cs.frame
),
judged AS (
  SELECT s.*,
         CASE WHEN s.from_client THEN s.server_ack ELSE s.client_ack END AS rcv_nxt,
         CASE WHEN s.from_client THEN s.server_win ELSE s.client_win END AS rcv_win,
         CASE WHEN s.from_client THEN s.client_nxt ELSE s.server_nxt END AS snd_nxt,
         CASE WHEN c.client_ws IS NOT NULL AND c.server_ws IS NOT NULL
              THEN CASE WHEN s.from_client THEN c.server_ws ELSE c.client_ws END
              WHEN c.saw_both_syns THEN 0 ELSE 14 END AS rcv_scale
  FROM state s JOIN scales c USING (capture_id, flow_id)
)
-- A RST answering a SYN must acknowledge exactly that SYN (RFC 9293 3.10.7.3, SYN-SENT): one that does
-- not was forged by someone who saw the SYN's ports but not its sequence number.
SELECT capture_id, frame, 1 AS frames, flow_id, src, dst, sport, dport, 'blind_reset' AS kind,
       printf('RST answering a SYN acknowledges %d, not the SYN''s %d', ack, (client_syn_seq::BIGINT + 1) % 4294967296) AS detail
FROM judged
WHERE NOT from_client AND (flags & ${ACK}) <> 0 AND client_ack IS NULL AND client_syn_seq IS NOT NULL
  AND ack::BIGINT <> (client_syn_seq::BIGINT + 1) % 4294967296
UNION ALL
SELECT capture_id, frame, 1 AS frames, flow_id, src, dst, sport, dport, 'blind_reset' AS kind,
       printf('RST seq %d is %d bytes from the receiver''s next expected %d (window %d)', seq, rst_offset, rcv_nxt, rcv_window) AS detail
FROM (
  SELECT *, ((seq::BIGINT - rcv_nxt::BIGINT + 6442450944) % 4294967296) - 2147483648 AS rst_offset,
         rcv_win::BIGINT << LEAST(rcv_scale, 14) AS rcv_window
  FROM judged j WHERE rcv_nxt IS NOT NULL AND rcv_win IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM scan_probe_flows f WHERE f.capture_id = j.capture_id AND f.flow_id = j.flow_id))
WHERE (rst_offset < -1 OR rst_offset >= GREATEST(rcv_window, 1))
  -- A RST at the sender's own next sequence number is the real endpoint (the capture missed the ACKs
  -- that would have moved the window); a blind attacker cannot know that number.
  AND (snd_nxt IS NULL OR abs(((seq::BIGINT - snd_nxt + 6442450944) % 4294967296) - 2147483648) > 1)`;
