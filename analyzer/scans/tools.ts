/**
 * Which tool sent a probe, from the header fields of its first packet and from how the prober's probes
 * relate to each other. Every signature was read from the tool's source and checked on real runs of
 * Debian's nmap 7.93, masscan 1.3.2, zmap 2.1.1 and hping3 3.0.0-alpha-2 (fixtures/scans/make.sh):
 *
 * | tool    | signature (first match wins)                                                              |
 * |---------|-------------------------------------------------------------------------------------------|
 * | nmap    | an OS-detection probe (probes.ts type 'os': TSval 0xFFFFFFFF with TSecr 0, or the ECN probe) |
 * | zmap    | IPv4 ID 54321 (packet.c make_ip_header); window 65535 and TTL 255 at the sender back it up |
 * | masscan | IPv4 ID = low 16 bits of dst_ip ^ dst_port ^ seq (templ-pkt.c tcp_create_packet; the seq is its SYN cookie) |
 * | nmap    | raw scan engine: window 1024, 2048, 3072 or 4096; a SYN carries only an MSS option, other probes none; one source port and one sequence number reused across probes |
 * | hping3  | window 512, no TCP options (its defaults); source port +1 per packet                         |
 * | connect | a SYN with the operating system's usual options (MSS, SACK permitted, window scale): connect() |
 * | unknown | none of these                                                                             |
 *
 * tool_confidence (0..1) is higher when the relational marks (reused or stepping source ports, reused
 * sequence numbers) back up the single-packet fields; tool_evidence lists the fields that matched.
 */
import { TCP_SYN } from '../decode/types.js';

/** Tool names in the order the table above lists them. */
export const TOOLS = ['nmap', 'masscan', 'zmap', 'hping3', 'connect', 'unknown'] as const;
export type Tool = (typeof TOOLS)[number];

const NMAP_WINDOWS = '(1024, 2048, 3072, 4096)';

/**
 * How many probes of one connect() scan may share a source port and still count as "a new port per
 * probe". Linux picks each connect()'s ephemeral port by a hash of the destination, so 1,000 probes
 * over ~28,000 ports give about 18 pairs by the birthday bound (seen in CI: 0.79 instead of 0.8);
 * nmap's raw engine reuses one port for hundreds.
 */
const CONNECT_SPORT_COLLISIONS = 3;

/** An IPv4 address text as its 32-bit number (NULL for IPv6). */
const v4Number = (col: string) =>
  `CASE WHEN ip_version = 4 THEN (CAST(split_part(${col}, '.', 1) AS BIGINT) << 24) | (CAST(split_part(${col}, '.', 2) AS BIGINT) << 16)
                               | (CAST(split_part(${col}, '.', 3) AS BIGINT) << 8) | CAST(split_part(${col}, '.', 4) AS BIGINT) END`;

/** scan_probe_flows_kept (probes.ts) plus tool, tool_confidence and tool_evidence per probe flow. */
export const PROBE_TOOLS_SQL = `
WITH ctx AS (
  SELECT *,
         (p0.flags & ${TCP_SYN}) <> 0 AS is_syn,
         count(*) OVER (PARTITION BY prober, pport) AS sport_uses,
         count(*) OVER (PARTITION BY prober, p0.seq) > 1 AS seq_reused,
         coalesce(CAST(pport AS INTEGER) - lag(pport) OVER w = 1, false) OR coalesce(lead(pport) OVER w - CAST(pport AS INTEGER) = 1, false) AS sport_step,
         ${v4Number('target')} AS target_v4
  FROM scan_probe_flows_kept
  WINDOW w AS (PARTITION BY prober ORDER BY first_ts, capture_id, flow_id)
),
tooled AS (
  SELECT *, sport_uses > 1 AS sport_reused, CASE
      WHEN probe_type = 'os' THEN 'nmap'
      WHEN ip_version = 4 AND p0.ip_id = 54321 THEN 'zmap'
      WHEN ip_version = 4 AND p0.ip_id = (xor(xor(target_v4, dport), p0.seq) & 65535) THEN 'masscan'
      WHEN p0.win IN ${NMAP_WINDOWS} AND ((is_syn AND p0.doff = 6 AND p0.mss IS NOT NULL) OR (NOT is_syn AND p0.doff = 5)) THEN 'nmap'
      WHEN p0.win = 512 AND p0.doff = 5 THEN 'hping3'
      WHEN is_syn AND p0.mss IS NOT NULL AND p0.sack_perm AND p0.wscale IS NOT NULL THEN 'connect'
      ELSE 'unknown'
    END AS tool
  FROM ctx
)
SELECT * EXCLUDE (is_syn, sport_uses, sport_reused, seq_reused, sport_step, target_v4),
       CASE tool
         WHEN 'nmap' THEN CASE WHEN probe_type = 'os' THEN 0.99 WHEN sport_reused AND seq_reused THEN 0.95 WHEN sport_reused OR seq_reused THEN 0.8 ELSE 0.6 END
         WHEN 'zmap' THEN CASE WHEN p0.win = 65535 THEN 0.95 ELSE 0.7 END
         WHEN 'masscan' THEN CASE WHEN p0.win = 1024 THEN 0.95 ELSE 0.8 END
         WHEN 'hping3' THEN CASE WHEN sport_step THEN 0.9 ELSE 0.6 END
         WHEN 'connect' THEN CASE WHEN sport_uses <= ${CONNECT_SPORT_COLLISIONS} THEN 0.8 ELSE 0.6 END
         ELSE 0.0
       END AS tool_confidence,
       list_filter([
         CASE WHEN tool = 'nmap' AND probe_type = 'os' AND p0.tsval = 4294967295 THEN 'os-probe:tsval=0xFFFFFFFF,tsecr=0' END,
         CASE WHEN tool = 'nmap' AND probe_type = 'os' AND p0.win = 3 THEN 'os-probe:syn+ece+cwr,win=3' END,
         CASE WHEN tool = 'zmap' THEN 'ip_id=54321' END,
         CASE WHEN tool = 'masscan' THEN 'ip_id=(dst^dport^seq)&0xffff' END,
         CASE WHEN tool IN ('zmap', 'masscan', 'nmap', 'hping3') AND probe_type <> 'os' THEN 'win=' || p0.win END,
         CASE WHEN tool IN ('zmap', 'masscan') AND p0.ttl >= 192 THEN 'ttl>=192' END,
         CASE WHEN tool = 'nmap' AND probe_type <> 'os' AND is_syn THEN 'options=mss' END,
         CASE WHEN tool IN ('nmap', 'hping3') AND probe_type <> 'os' AND NOT is_syn OR tool = 'hping3' THEN 'options=none' END,
         CASE WHEN tool = 'nmap' AND probe_type <> 'os' AND sport_reused THEN 'sport-reused' END,
         CASE WHEN tool = 'nmap' AND probe_type <> 'os' AND seq_reused THEN 'seq-reused' END,
         CASE WHEN tool = 'hping3' AND sport_step THEN 'sport+1-per-probe' END,
         CASE WHEN tool = 'connect' THEN 'options=mss,sack_perm,wscale' || CASE WHEN p0.tsval IS NOT NULL THEN ',ts' ELSE '' END END,
         CASE WHEN tool = 'connect' AND sport_uses <= ${CONNECT_SPORT_COLLISIONS} THEN 'sport-new-per-probe' END
       ], e -> e IS NOT NULL) AS tool_evidence
FROM tooled`;
