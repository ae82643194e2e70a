/**
 * How results are printed: `--format table|json|csv`. JSON and CSV are for programs and keep raw values
 * (numbers as numbers, timestamps as ISO 8601 UTC text with nanoseconds). The table is for a person:
 *
 * - it fits the terminal: `process.stdout.columns` on a terminal, else 80; `TCPLENS_COLUMNS=N` (or
 *   `COLUMNS=N`) sets the width, e.g. for a pipe into a wide pager; the widest columns are shortened with
 *   an ellipsis until the table fits; `--wide` (any command) shows every cell in full;
 * - numbers are read by their column's name: byte counts in B/KiB/MiB/GiB, durations in µs/ms/s, rates to
 *   3 significant digits with their unit (pps, bit/s, /s), other counts with thousands separators,
 *   identifiers (ids, frames, ports, sequence numbers) as they are, a `flags` column of TCP flag bits in
 *   tcpdump's notation ([S], [S.], [F.], [R.], [P.]);
 * - an empty result is `(none)`.
 */
import { UsageError } from '../../common/errors.js';

/** Result formats every result-printing command takes (`--format`). */
export type OutputFormat = 'table' | 'json' | 'csv';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'csv') return value;
  throw new UsageError(`--format must be table, json or csv, not '${value}'`);
}

export type Row = Record<string, unknown>;

/** Table settings of this process: bin/tcplens.ts sets `wide` from the global `--wide`. */
export const tableSettings = { wide: false };

/** The width tables must fit: TCPLENS_COLUMNS, COLUMNS, the terminal's width, else 80. */
export function terminalColumns(): number {
  for (const name of ['TCPLENS_COLUMNS', 'COLUMNS']) {
    const n = Number(process.env[name]);
    if (Number.isInteger(n) && n >= 20) return n;
  }
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  return 80;
}

export const NONE = '(none)';

/** JSON with bigint as a number when it is exact, else as a string (DuckDB returns BIGINT as bigint). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v),
    2,
  );
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(cellText).join(' ');
  if (typeof v === 'object') return toJson(v).replace(/\s+/g, ' ');
  return String(v);
}

/** One CSV cell: NULL as empty, quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvCell(v: unknown): string {
  const text = cellText(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// ------------------------------------------------------------------ numbers for people

/** Made on first use: creating an Intl.NumberFormat loads ICU data, 20-28 ms of every start-up otherwise. */
let thousands: Intl.NumberFormat | null = null;
function withThousands(n: number): string {
  thousands ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return thousands.format(n);
}

/** 3 significant digits, no exponent, no trailing zeros: 51.759834 -> "51.8", 1234567 -> "1,230,000". */
export function sig3(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n))));
  const rounded = Number(n.toPrecision(3));
  return digits === 0 ? withThousands(rounded) : String(Number(rounded.toFixed(digits)));
}

export function formatCount(n: number): string {
  return Number.isInteger(n) ? withThousands(n) : sig3(n);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export function formatBytes(n: number): string {
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${withThousands(n)} B` : `${sig3(Math.sign(n) * v)} ${BYTE_UNITS[i]}`;
}

export function formatSeconds(s: number): string {
  const a = Math.abs(s);
  if (a === 0) return '0 s';
  if (a < 1e-3) return `${sig3(s * 1e6)} µs`;
  if (a < 1) return `${sig3(s * 1e3)} ms`;
  return `${sig3(s)} s`;
}

export function formatRate(n: number, unit: string): string {
  if (unit === 'bit/s') {
    const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
    let v = n;
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    return `${sig3(v)} ${units[i]}`;
  }
  // Counts per second: k, M, G past a thousand (21.2 M/s, 51.8 /s).
  const prefixes = ['', 'k', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${sig3(v)} ${prefixes[i]}${unit.startsWith('/') && i > 0 ? unit : unit}`;
}

/** TCP flag bits (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128) as tcpdump prints them. */
export function tcpFlagsText(bits: number): string {
  let s = '';
  if (bits & 2) s += 'S';
  if (bits & 1) s += 'F';
  if (bits & 8) s += 'P';
  if (bits & 4) s += 'R';
  if (bits & 32) s += 'U';
  if (bits & 64) s += 'E';
  if (bits & 128) s += 'W';
  if (bits & 16) s += '.';
  return `[${s || 'none'}]`;
}

type Kind = 'id' | 'bytes' | 'seconds' | 'ms' | 'bps' | 'pps' | 'per_s' | 'flags' | 'count';

/** How a column's numbers read, from its name. */
export function columnKind(name: string): Kind {
  const n = name.toLowerCase();
  if (n === 'flags' || n === 'tcp_flags') return 'flags';
  if (/(^|_)(id|ids)$/.test(n) || /^(frame|file_frame|cport|sport|dport|port|seq|ack|rel_seq|rel_ack|isn|client_isn|server_isn|gcd|tsval|tsecr|urp|win|mss|wscale|ttl|vlan|linktype|ip_version|isr|sp|doff|episode|acks_frame|snaplen|mtime_ms)$/.test(n)) return 'id';
  if (/(bit_?rate|bps|bits_per_s)$/.test(n)) return 'bps';
  if (/(pps|packets_per_s)$/.test(n)) return 'pps';
  if (/(rate_per_s|per_s|_rate)$/.test(n)) return 'per_s';
  if (/(^|_)(bytes|payload|size|sent|received|captured|on_wire|wire_len|cap_len|payload_len|in_flight)$/.test(n)) return 'bytes';
  if (/_ms$/.test(n)) return 'ms';
  if (/(_s|_seconds|^duration|^seconds)$/.test(n)) return 'seconds';
  return 'count';
}

/** Columns that say a row is a packet, so its `flags` are TCP flag bits (elsewhere `flags` counts analysis flags). */
const PACKET_COLUMNS = ['seq', 'ack', 'sport', 'dport', 'src', 'dst', 'win'];
function flagsAreBits(columns: string[]): boolean {
  return columns.some((c) => PACKET_COLUMNS.includes(c));
}

/** One cell as a person reads it (table format only). */
export function humanCell(column: string, v: unknown, tcpBits = true): string {
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) return cellText(v);
  const kind = columnKind(column);
  switch (kind === 'flags' && !tcpBits ? 'count' : kind) {
    case 'id': return String(v);
    case 'flags': return Number.isInteger(v) && v >= 0 && v < 256 ? tcpFlagsText(v) : String(v);
    case 'bytes': return formatBytes(v);
    case 'seconds': return formatSeconds(v);
    case 'ms': return formatSeconds(v / 1000);
    case 'bps': return formatRate(v, 'bit/s');
    case 'pps': return formatRate(v, 'pps');
    case 'per_s': return formatRate(v, '/s');
    default: return formatCount(v);
  }
}

// ------------------------------------------------------------------ tables that fit

const ELLIPSIS = '…';
/** A text column is never shortened below this (or its header, when longer). */
const MIN_COLUMN = 12;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}${ELLIPSIS}`;
}

/**
 * Column widths that fit `total` characters (2 spaces between columns): the widest column gives up one
 * character at a time until the table fits or every column is at its minimum: numbers are never cut,
 * timestamps keep 30 characters (all of them), text keeps at least 12 (an IPv4 address, most names).
 */
export function fitWidths(natural: number[], headers: string[], total: number, numeric: boolean[] = []): number[] {
  const widths = [...natural];
  const gaps = 2 * Math.max(0, widths.length - 1);
  const mins = widths.map((w, i) => (numeric[i] ? w : Math.min(w, Math.max(MIN_COLUMN, headers[i]!.length, /_ts$|^ts$/.test(headers[i]!) ? 30 : 0))));
  let sum = widths.reduce((a, b) => a + b, 0) + gaps;
  while (sum > total) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > mins[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]!--;
    sum--;
  }
  return widths;
}

/** Paths keep their end (the file name) when shortened; other text keeps its start. */
function clipFor(column: string, text: string, width: number): string {
  if (text.length <= width || !/^(path|file|capture|source_file)$/.test(column)) return clip(text, width);
  return `${ELLIPSIS}${text.slice(text.length - Math.max(0, width - 1))}`;
}

/**
 * When even shortened columns cannot fit (a scan row has 16 of them), each row is printed as a record,
 * one `column  value` line per column (psql's expanded display), values wrapped to the width.
 */
function renderRecords(cells: string[][], columns: string[], width: number, wide: boolean): string {
  const keyWidth = Math.max(...columns.map((c) => c.length));
  const valueWidth = Math.max(10, width - keyWidth - 2);
  const out: string[] = [];
  cells.forEach((row, r) => {
    const title = `-[ row ${r + 1} ]`;
    out.push(`${title}${'-'.repeat(Math.max(0, Math.min(width, keyWidth + 2 + valueWidth) - title.length))}`);
    row.forEach((value, i) => {
      const pieces = wide || value.length <= valueWidth ? [value] : wrap(value, valueWidth);
      pieces.forEach((piece, k) => out.push(`${(k === 0 ? columns[i]! : '').padEnd(keyWidth)}  ${piece}`.trimEnd()));
    });
  });
  return `${out.join('\n')}\n`;
}

/** Breaks text into lines of at most `width`, at spaces or commas when it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width && lines.length < 1000) {
    let cut = Math.max(rest.lastIndexOf(' ', width), rest.lastIndexOf(',', width - 1) + 1);
    if (cut <= 0) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** A table for a person: aligned, numbers right-aligned, fitted to the terminal unless --wide. */
export function renderTable(rows: Row[], columns: string[], opts: { width?: number; wide?: boolean } = {}): string {
  if (rows.length === 0) return `${NONE}\n`;
  const bits = flagsAreBits(columns);
  const cells = rows.map((row) => columns.map((c) => humanCell(c, row[c], bits).replace(/[\r\n\t]+/g, ' ')));
  const numeric = columns.map((c) => rows.every((row) => row[c] === null || row[c] === undefined || typeof row[c] === 'number' || typeof row[c] === 'bigint'));
  const natural = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const wide = opts.wide ?? tableSettings.wide;
  const total = opts.width ?? terminalColumns();
  let widths = natural;
  if (!wide) {
    widths = fitWidths(natural, columns, total, numeric);
    if (widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1) > total) return renderRecords(cells, columns, total, false);
  }
  const line = (r: string[]) => r.map((t, i) => {
    const text = clipFor(columns[i]!, t, widths[i]!);
    return numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  }).join('  ').trimEnd();
  const header = columns.map((c, i) => clip(c, widths[i]!).padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[header, line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}

/** A line of text (a section title) wrapped to the terminal, unless --wide. */
export function fitText(text: string, opts: { width?: number; wide?: boolean } = {}): string {
  if (opts.wide ?? tableSettings.wide) return text;
  return wrap(text, opts.width ?? terminalColumns()).join('\n');
}

/** Renders rows with the given column order; `json` prints the rows as they are (raw data). */
export function renderRows(rows: Row[], columns: string[], format: OutputFormat): string {
  if (format === 'json') return `${toJson(rows)}\n`;
  if (format === 'csv') {
    const lines = [columns.join(',')];
    for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(','));
    return `${lines.join('\n')}\n`;
  }
  return renderTable(rows, columns);
}
