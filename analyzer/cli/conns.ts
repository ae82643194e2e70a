/**
 * `tcplens conns CAPTURE...|DB.duckdb [--format table|json|csv|zeek] [--where SQL] [--db FILE]`: one row per
 * TCP connection, the columns of Zeek's conn.log followed by the per-direction performance figures
 * (analyzer/perf). `--format zeek` writes a conn.log TSV with Zeek's header lines, which zeek-cut reads.
 * `--where` is an SQL condition on the flows table's columns (docs/conns.md lists them).
 */
import type { Command } from 'commander';
import { captureErrorsStatus, needsDatabase, openForCommand, passForCommand, withInputOptions, type InputOptions } from './inputs.js';
import type { PassedCaptures } from '../direct.js';
import type { Lens } from '../index.js';
import { action } from '../../common/cli-run.js';
import { UsageError } from '../../common/errors.js';
import { parseFormat, renderRows, type OutputFormat, type Row } from './output.js';

/** conn.log columns in Zeek's order with their Zeek types (those tcplens fills). */
export const CONN_LOG_FIELDS = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'], ['id.resp_p', 'port'],
  ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'], ['resp_bytes', 'count'],
  ['conn_state', 'string'], ['missed_bytes', 'count'], ['history', 'string'], ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'], ['resp_ip_bytes', 'count'],
] as const;

const DIRECTION_FIGURES = [
  ['rtt_min_ms', 'double'], ['rtt_avg_ms', 'double'], ['rtt_max_ms', 'double'], ['rtt_stdev_ms', 'double'], ['rtt_samples', 'count'],
  ['rtt_median_ms', 'double'],
  ['ts_rtt_min_ms', 'double'], ['ts_rtt_avg_ms', 'double'], ['ts_rtt_max_ms', 'double'], ['ts_rtt_stdev_ms', 'double'],
  ['ts_rtt_samples', 'count'], ['data_segments', 'count'], ['retrans_segments', 'count'], ['retrans_bytes', 'count'],
  ['unique_bytes', 'count'], ['throughput_bps', 'double'], ['goodput_bps', 'double'], ['completion_s', 'double'],
  ['bif_max', 'count'], ['bif_mean', 'double'], ['zero_window_s', 'double'], ['rwnd_limited_s', 'double'],
  ['app_limited_s', 'double'], ['recovery_s', 'double'], ['network_s', 'double'], ['limited_by', 'string'],
] as const;

/** Performance columns after conn.log's: orig_* (the originator's data) and resp_*, then the verdict. */
export const PERF_FIELDS: readonly (readonly [string, string, string])[] = [
  ...DIRECTION_FIGURES.map(([n, t]) => [`orig_${n}`, t, `client_${n}`] as const),
  ...DIRECTION_FIGURES.map(([n, t]) => [`resp_${n}`, t, `server_${n}`] as const),
  ['limited_by', 'string', 'limited_by'],
];

/** What a terminal table shows (programs get every column). */
const TABLE_COLUMNS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'service', 'duration', 'orig_bytes', 'resp_bytes',
  'conn_state', 'history', 'orig_pkts', 'resp_pkts', 'orig_rtt_avg_ms', 'resp_rtt_avg_ms', 'orig_retrans_segments',
  'resp_retrans_segments', 'limited_by',
];

/** Seconds since the epoch with microseconds, as Zeek prints `time` (from nanoseconds, exactly). */
function zeekTime(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  const micros = (abs + 500n) / 1000n;
  return `${sign}${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, '0')}`;
}

/** After `ts`, each output column and the flows column it shows (null: the constant 'tcp'), in output order. */
const CONN_SOURCES: readonly (readonly [string, string | null])[] = [
  ['uid', 'uid'], ['id.orig_h', 'client'], ['id.orig_p', 'cport'], ['id.resp_h', 'server'], ['id.resp_p', 'sport'], ['proto', null],
  ['service', 'service'], ['duration', 'conn_duration_s'], ['orig_bytes', 'orig_bytes'], ['resp_bytes', 'resp_bytes'],
  ['conn_state', 'state'], ['missed_bytes', 'missed_bytes'], ['history', 'history'], ['orig_pkts', 'orig_pkts'],
  ['orig_ip_bytes', 'orig_ip_bytes'], ['resp_pkts', 'resp_pkts'], ['resp_ip_bytes', 'resp_ip_bytes'],
  ...PERF_FIELDS.map(([name, , column]) => [name, column] as const),
];

/**
 * A conn.log row from a connection's flows-table columns (`value(i)`: the column CONN_SOURCES[i] names)
 * and its first packet's time in epoch nanoseconds: the one mapping for both paths (SQL and direct), so
 * they print the same.
 */
function connRow(value: (source: number) => unknown, firstNs: bigint | number | null): Row {
  const out: Row = { ts: firstNs === null ? null : zeekTime(BigInt(firstNs)) };
  for (let i = 0; i < CONN_SOURCES.length; i++) out[CONN_SOURCES[i]![0]] = CONN_SOURCES[i]![1] === null ? 'tcp' : value(i);
  // Zeek leaves duration and the byte counts unset for a connection of one instant.
  if (!(Number(out['duration']) > 0)) {
    out['duration'] = null;
    out['orig_bytes'] = null;
    out['resp_bytes'] = null;
  }
  return out;
}

async function connectionRows(lens: Lens, where: string | undefined): Promise<Row[]> {
  let r;
  try {
    r = await lens.query(
      `SELECT epoch_ns(f.first_ts) AS first_ts_ns, f.*
       FROM flows f
       WHERE ${where ?? 'TRUE'}
       ORDER BY f.first_ts, f.flow_id`,
    );
  } catch (err) {
    if (where !== undefined) throw new UsageError(`--where: ${(err as Error).message}`);
    throw err;
  }
  return r.rows.map((row) => connRow((i) => row[CONN_SOURCES[i]![1]!], row['first_ts_ns'] as bigint | number | null));
}

/** conns without SQL or a database (analyzer/direct.ts): every connection as it ends, then in the SQL's order. */
async function connectionRowsDirect(inputs: string[], opts: InputOptions & { verifyChecksums?: boolean }): Promise<{ rows: Row[]; passed: PassedCaptures }> {
  const ended: { firstNs: bigint | null; flowId: number; row: Row }[] = [];
  // Where each source column sits in a flows row, looked up once.
  let at: number[] | null = null;
  const passed = await passForCommand(inputs, { ...opts, figures: true }, {
    flowEnded: (flow, values) => {
      const v = values();
      at ??= CONN_SOURCES.map(([, column]) => (column === null ? -1 : v.indexOf(column)));
      const firstNs = v.get('first_ts') as bigint | null;
      const cells = v.values;
      const index = at;
      ended.push({ firstNs, flowId: flow.flowId, row: connRow((i) => cells[index[i]!], firstNs) });
    },
  });
  // ORDER BY first_ts, flow_id (NULLS LAST, DuckDB's default)
  const byTime = (a: bigint | null, b: bigint | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0);
  ended.sort((a, b) => byTime(a.firstNs, b.firstNs) || a.flowId - b.flowId);
  return { rows: ended.map((e) => e.row), passed };
}

function zeekCell(v: unknown, type: string): string {
  if (v === null || v === undefined) return '-';
  if (type === 'interval') return Number(v).toFixed(6);
  if (type === 'double') return Number(v).toFixed(6);
  const text = String(v);
  if (text === '') return '(empty)';
  // Zeek escapes its separator and non-printable bytes as \xNN.
  return text.replace(/[\t\n\\]|[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Zeek's local time stamp for #open/#close: YYYY-MM-DD-HH-MM-SS. */
function zeekStamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** A conn.log as Zeek writes it (ASCII writer, tab separated, with header lines). */
export function renderZeek(rows: Row[]): string {
  const fields = [...CONN_LOG_FIELDS, ...PERF_FIELDS.map(([n, t]) => [n, t] as const)];
  const lines = [
    '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn',
    `#open\t${zeekStamp(new Date())}`,
    `#fields\t${fields.map(([n]) => n).join('\t')}`,
    `#types\t${fields.map(([, t]) => t).join('\t')}`,
  ];
  for (const row of rows) lines.push(fields.map(([n, t]) => zeekCell(row[n], t)).join('\t'));
  lines.push(`#close\t${zeekStamp(new Date())}`);
  return `${lines.join('\n')}\n`;
}

function parseConnsFormat(value: string): OutputFormat | 'zeek' {
  return value === 'zeek' ? 'zeek' : parseFormat(value);
}

export function registerConns(program: Command): void {
  withInputOptions(program.command('conns'))
    .description("one row per TCP connection: Zeek conn.log's columns, RTT, retransmissions, throughput and what limits it")
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--where <sql>', 'only connections matching this SQL condition on the flows columns')
    .option('--verify-checksums', "drop segments with a wrong TCP checksum, as Zeek does without -C (a 'C' in the history)")
    .option('--format <format>', 'table, json, csv or zeek (conn.log TSV)', 'table')
    .action(action(async (inputs: string[], opts: { where?: string; verifyChecksums?: boolean; db?: string; perFile?: boolean; format: string }) => {
      const format = parseConnsFormat(opts.format);
      const print = (rows: Row[]): void => {
        if (format === 'zeek') process.stdout.write(renderZeek(rows));
        else {
          const all = ['ts', ...CONN_LOG_FIELDS.slice(1).map(([n]) => n), ...PERF_FIELDS.map(([n]) => n)];
          process.stdout.write(renderRows(rows, format === 'table' ? TABLE_COLUMNS : all, format));
        }
      };
      if (!needsDatabase(inputs, opts)) {
        const { rows, passed } = await connectionRowsDirect(inputs, opts);
        print(rows);
        return captureErrorsStatus(passed);
      }
      const lens = await openForCommand(inputs, { ...opts, tables: 'flows', figures: true });
      try {
        print(await connectionRows(lens, opts.where));
        return captureErrorsStatus(lens);
      } finally {
        await lens.close();
      }
    }));
}
