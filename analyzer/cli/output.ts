import { UsageError } from '../../common/errors.js';

/** Result formats every result-printing command takes (`--format`). */
export type OutputFormat = 'table' | 'json' | 'csv';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'csv') return value;
  throw new UsageError(`--format must be table, json or csv, not '${value}'`);
}

export type Row = Record<string, unknown>;

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

function csvCell(v: unknown): string {
  const text = cellText(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Renders rows with the given column order; `json` prints the rows as they are (raw data). */
export function renderRows(rows: Row[], columns: string[], format: OutputFormat): string {
  if (format === 'json') return `${toJson(rows)}\n`;
  if (format === 'csv') {
    const lines = [columns.join(',')];
    for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(','));
    return `${lines.join('\n')}\n`;
  }
  const cells = rows.map((row) => columns.map((c) => cellText(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((t, i) => t.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}
