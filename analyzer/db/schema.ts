/**
 * The DuckDB schema (DESIGN.md "DuckDB schema"). Tables written on the per-packet path are described
 * as ColumnSpec lists so the bulk writer and CREATE TABLE can never disagree.
 *
 * `packets` is a VIEW over `packet_rows` joined with the `addresses` dictionary: rows store address
 * ids (two numbers, bulk-copied) and the view gives the canonical text, so loading never makes a native
 * call per packet for a string. `src_id`/`dst_id` stay visible for fast grouping.
 */
import { SEQ_FLAGS } from '../seq/flags.js';
import { CONN_FLOW_COLUMNS } from '../perf/columns.js';
import { columnsSql, type ColumnSpec } from './column-spec.js';

/** 2: capture sets (captures.set_id, packet_rows.file_frame; `frame` numbers the set's merged timeline). */
export const SCHEMA_VERSION = 2;

export const PACKET_COLUMNS = [
  /** The file the packet was read from (captures.capture_id). */
  { name: 'capture_id', sql: 'INTEGER NOT NULL', kind: 'i32' },
  /** 1-based number in the merged timeline of its capture set: tshark's frame.number on the mergecap'd files. */
  { name: 'frame', sql: 'BIGINT NOT NULL', kind: 'i64' },
  /** 1-based number in its own file: tshark's frame.number on that file alone. */
  { name: 'file_frame', sql: 'BIGINT NOT NULL', kind: 'i64' },
  { name: 'if_id', sql: 'INTEGER', kind: 'i32' },
  { name: 'ts', sql: 'TIMESTAMP_NS', kind: 'ts_ns' },
  { name: 'wire_len', sql: 'UINTEGER', kind: 'u32' },
  { name: 'cap_len', sql: 'UINTEGER', kind: 'u32' },
  /** 0 unknown, 1 inbound, 2 outbound (pcapng epb_flags); the view shows text. */
  { name: 'direction', sql: 'UTINYINT', kind: 'u8' },
  { name: 'ip_version', sql: 'UTINYINT', kind: 'u8' },
  { name: 'vlan', sql: 'SMALLINT', kind: 'i16' },
  { name: 'src_id', sql: 'UINTEGER', kind: 'u32' },
  { name: 'dst_id', sql: 'UINTEGER', kind: 'u32' },
  { name: 'ttl', sql: 'UTINYINT', kind: 'u8' },
  { name: 'ip_id', sql: 'INTEGER', kind: 'i32' },
  { name: 'sport', sql: 'USMALLINT', kind: 'u16' },
  { name: 'dport', sql: 'USMALLINT', kind: 'u16' },
  { name: 'seq', sql: 'UINTEGER', kind: 'u32' },
  { name: 'ack', sql: 'UINTEGER', kind: 'u32' },
  { name: 'flags', sql: 'UTINYINT', kind: 'u8' },
  { name: 'reserved', sql: 'UTINYINT', kind: 'u8' },
  { name: 'doff', sql: 'UTINYINT', kind: 'u8' },
  { name: 'win', sql: 'USMALLINT', kind: 'u16' },
  { name: 'urp', sql: 'USMALLINT', kind: 'u16' },
  { name: 'payload_len', sql: 'UINTEGER', kind: 'u32' },
  { name: 'mss', sql: 'USMALLINT', kind: 'u16' },
  { name: 'wscale', sql: 'UTINYINT', kind: 'u8' },
  { name: 'sack_perm', sql: 'BOOLEAN', kind: 'bool' },
  { name: 'tsval', sql: 'UINTEGER', kind: 'u32' },
  { name: 'tsecr', sql: 'UINTEGER', kind: 'u32' },
  /** "l0 r0 l1 r1 ..." (rare: written as text, shown as UINTEGER[] by the view). */
  { name: 'sack_blocks', sql: 'VARCHAR', kind: 'varchar' },
  { name: 'tunneled', sql: 'BOOLEAN', kind: 'bool' },
  { name: 'tcp_truncated', sql: 'BOOLEAN', kind: 'bool' },
  { name: 'flow_id', sql: 'BIGINT', kind: 'i64' },
  { name: 'from_client', sql: 'BOOLEAN', kind: 'bool' },
  /** tshark's tcp.seq, tcp.ack (relative), tcp.window_size, tcp.analysis.ack_rtt (s), acks_frame, bytes_in_flight. */
  { name: 'rel_seq', sql: 'UINTEGER', kind: 'u32' },
  { name: 'rel_ack', sql: 'UINTEGER', kind: 'u32' },
  { name: 'win_scaled', sql: 'UINTEGER', kind: 'u32' },
  { name: 'ack_rtt', sql: 'DOUBLE', kind: 'f64' },
  { name: 'acks_frame', sql: 'BIGINT', kind: 'i64' },
  { name: 'bytes_in_flight', sql: 'UINTEGER', kind: 'u32' },
] as const satisfies readonly ColumnSpec[];

export const FLOW_COLUMNS = [
  { name: 'flow_id', sql: 'BIGINT NOT NULL', kind: 'i64' },
  { name: 'capture_id', sql: 'INTEGER NOT NULL', kind: 'i32' },
  { name: 'ip_version', sql: 'UTINYINT', kind: 'u8' },
  { name: 'vlan', sql: 'SMALLINT', kind: 'i16' },
  { name: 'client', sql: 'VARCHAR', kind: 'varchar' },
  { name: 'cport', sql: 'USMALLINT', kind: 'u16' },
  { name: 'server', sql: 'VARCHAR', kind: 'varchar' },
  { name: 'sport', sql: 'USMALLINT', kind: 'u16' },
  { name: 'first_ts', sql: 'TIMESTAMP_NS', kind: 'ts_ns' },
  { name: 'last_ts', sql: 'TIMESTAMP_NS', kind: 'ts_ns' },
  { name: 'duration_s', sql: 'DOUBLE', kind: 'f64' },
  { name: 'packets', sql: 'BIGINT', kind: 'i64' },
  { name: 'bytes', sql: 'BIGINT', kind: 'i64' },
  { name: 'client_packets', sql: 'BIGINT', kind: 'i64' },
  { name: 'server_packets', sql: 'BIGINT', kind: 'i64' },
  { name: 'client_bytes', sql: 'BIGINT', kind: 'i64' },
  { name: 'server_bytes', sql: 'BIGINT', kind: 'i64' },
  { name: 'client_payload', sql: 'BIGINT', kind: 'i64' },
  { name: 'server_payload', sql: 'BIGINT', kind: 'i64' },
  { name: 'state', sql: 'VARCHAR', kind: 'varchar' },
  { name: 'history', sql: 'VARCHAR', kind: 'varchar' },
  { name: 'rtt_ms', sql: 'DOUBLE', kind: 'f64' },
  { name: 'client_isn', sql: 'UINTEGER', kind: 'u32' },
  { name: 'server_isn', sql: 'UINTEGER', kind: 'u32' },
  { name: 'reused_ports', sql: 'BOOLEAN', kind: 'bool' },
] as const satisfies readonly ColumnSpec[];

/** The flows table: the loader's columns above, then conn.log's remaining columns and the performance figures. */
export const FLOW_TABLE_COLUMNS: readonly ColumnSpec[] = [...FLOW_COLUMNS, ...CONN_FLOW_COLUMNS];

export const FLAG_COLUMNS = [
  { name: 'capture_id', sql: 'INTEGER NOT NULL', kind: 'i32' },
  { name: 'frame', sql: 'BIGINT NOT NULL', kind: 'i64' },
  /** ENUM tcp_flag over SEQ_FLAGS: the flag's code is stored, compared and exported as its name. */
  { name: 'flag', sql: 'tcp_flag NOT NULL', kind: 'enum8' },
] as const satisfies readonly ColumnSpec[];

/**
 * Only in a load without packet rows (`seq` into a throw-away database, see LoadOptions.tables): the
 * connection of each flagged frame, one row per frame as packet_rows would give it. A TEMP table, so it can
 * never end up in a kept database.
 */
export const FLAG_FLOW_COLUMNS = [
  { name: 'capture_id', sql: 'INTEGER NOT NULL', kind: 'i32' },
  { name: 'frame', sql: 'BIGINT NOT NULL', kind: 'i64' },
  { name: 'flow_id', sql: 'BIGINT', kind: 'i64' },
  /** The frame's time and direction, for `seq --frames` rows (packet_rows has them in a kept database). */
  { name: 'ts', sql: 'TIMESTAMP_NS', kind: 'ts_ns' },
  { name: 'from_client', sql: 'BOOLEAN', kind: 'bool' },
] as const satisfies readonly ColumnSpec[];

export const FLAG_FLOW_TABLE_SQL = `CREATE TEMP TABLE IF NOT EXISTS flag_flows (${columnsSql(FLAG_FLOW_COLUMNS)})`;

export const ADDRESS_COLUMNS = [
  { name: 'addr_id', sql: 'UINTEGER NOT NULL', kind: 'u32' },
  { name: 'addr', sql: 'VARCHAR NOT NULL', kind: 'varchar' },
  { name: 'ip_version', sql: 'UTINYINT', kind: 'u8' },
] as const satisfies readonly ColumnSpec[];

/** Statements that create the schema; all idempotent so reopening a --db runs them again safely. */
export const SCHEMA_SQL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tcplens_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS captures (
     capture_id INTEGER PRIMARY KEY, path VARCHAR NOT NULL, size BIGINT, mtime_ms DOUBLE, format VARCHAR,
     compression VARCHAR, packets BIGINT, tcp_packets BIGINT, not_tcp BIGINT, unknown_linktype BIGINT,
     malformed BIGINT, first_ts TIMESTAMP_NS, last_ts TIMESTAMP_NS, partial BOOLEAN, error VARCHAR,
     warnings VARCHAR[], comments VARCHAR[], flows BIGINT, flags BIGINT, loaded_at TIMESTAMP, set_id INTEGER)`,
  `CREATE TABLE IF NOT EXISTS interfaces (
     capture_id INTEGER, if_id INTEGER, name VARCHAR, description VARCHAR, linktype INTEGER, snaplen BIGINT,
     tsresol VARCHAR, recv BIGINT, "drop" BIGINT)`,
  `CREATE TABLE IF NOT EXISTS addresses (${columnsSql(ADDRESS_COLUMNS)})`,
  `CREATE TABLE IF NOT EXISTS packet_rows (${columnsSql(PACKET_COLUMNS)})`,
  `CREATE TABLE IF NOT EXISTS flows (${columnsSql(FLOW_TABLE_COLUMNS)})`,
  `CREATE TYPE IF NOT EXISTS tcp_flag AS ENUM (${SEQ_FLAGS.map((f) => `'${f}'`).join(', ')})`,
  `CREATE TABLE IF NOT EXISTS tcp_analysis (${columnsSql(FLAG_COLUMNS)})`,
  `CREATE OR REPLACE VIEW packets AS
     SELECT p.capture_id, p.frame, p.if_id, p.ts, p.wire_len, p.cap_len,
            CASE p.direction WHEN 1 THEN 'in' WHEN 2 THEN 'out' END AS direction,
            p.ip_version, p.vlan, s.addr AS src, d.addr AS dst, p.src_id, p.dst_id, p.ttl, p.ip_id,
            p.sport, p.dport, p.seq, p.ack, p.flags, p.reserved, p.doff, p.win, p.urp, p.payload_len,
            p.mss, p.wscale, p.sack_perm, p.tsval, p.tsecr,
            CAST(string_split(p.sack_blocks, ' ') AS UINTEGER[]) AS sack_blocks,
            p.tunneled, p.tcp_truncated, p.flow_id, p.from_client,
            p.rel_seq, p.rel_ack, p.win_scaled, p.ack_rtt, p.acks_frame, p.bytes_in_flight, c.path AS source_file, p.file_frame
     FROM packet_rows p
     JOIN addresses s ON s.addr_id = p.src_id
     JOIN addresses d ON d.addr_id = p.dst_id
     JOIN captures c ON c.capture_id = p.capture_id`,
  `INSERT OR IGNORE INTO tcplens_meta VALUES ('schema_version', '${SCHEMA_VERSION}')`,
];

/** Tables (and the view) a user sees, in the order reports and exports list them. */
export const USER_TABLES = ['captures', 'interfaces', 'packets', 'flows', 'tcp_analysis'] as const;
