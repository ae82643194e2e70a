/**
 * Per-frame comparison of the packets table's tshark columns (rel_seq, rel_ack, win_scaled, ack_rtt,
 * acks_frame, bytes_in_flight) with tshark 4.0's tcp.seq, tcp.ack, tcp.window_size and
 * tcp.analysis.{ack_rtt, acks_frame, bytes_in_flight} on the same file. Ours come from the public library
 * (openCaptures + SQL on `packets`), exactly what `tcplens query` runs.
 */
import { openCaptures } from '../../analyzer/index.js';
import { tshark } from '../support/tshark.js';

export const VALUE_COLUMNS = ['rel_seq', 'rel_ack', 'win_scaled', 'ack_rtt', 'acks_frame', 'bytes_in_flight'] as const;
const TSHARK_FIELDS = [
  'tcp.seq', 'tcp.ack', 'tcp.window_size', 'tcp.analysis.ack_rtt', 'tcp.analysis.acks_frame', 'tcp.analysis.bytes_in_flight',
];
/** ack_rtt agrees when within 1 µs (tshark prints nanoseconds; both sides are computed from the same timestamps). */
const RTT_TOLERANCE_S = 1e-6;

export interface ColumnAgreement {
  /** Frames where either tool has a value, and where both have the same value. */
  either: number;
  equal: number;
  /** First differing frames, "frame: tshark/ours". */
  examples: string[];
}

export interface ValuesAgreement {
  path: string;
  columns: ColumnAgreement[];
}

function cell(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/** The first value of a tshark field (a frame of a tunnel can hold two TCP headers: the inner one is last). */
function lastValue(text: string): string {
  const parts = text.split(',');
  return parts[parts.length - 1]!;
}

export async function compareValues(file: string, displayPath = file): Promise<ValuesAgreement> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number'];
  for (const f of TSHARK_FIELDS) args.push('-e', f);
  const theirs = new Map<number, string[]>();
  const { stdout } = await tshark(args);
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const cells = line.split('\t');
    const values = TSHARK_FIELDS.map((_, i) => lastValue(cells[i + 1] ?? ''));
    if (values.some((v) => v !== '')) theirs.set(Number(cells[0]), values);
  }
  const ours = new Map<number, string[]>();
  const lens = await openCaptures([file]);
  try {
    const r = await lens.query(`SELECT frame, ${VALUE_COLUMNS.join(', ')} FROM packets ORDER BY frame`);
    for (const row of r.rows) ours.set(Number(row['frame']), VALUE_COLUMNS.map((c) => cell(row[c])));
  } finally {
    await lens.close();
  }
  const columns: ColumnAgreement[] = VALUE_COLUMNS.map(() => ({ either: 0, equal: 0, examples: [] }));
  const frames = [...new Set([...theirs.keys(), ...ours.keys()])].sort((a, b) => a - b);
  for (const frame of frames) {
    const t = theirs.get(frame);
    const o = ours.get(frame);
    VALUE_COLUMNS.forEach((name, i) => {
      const tv = t?.[i] ?? '';
      const ov = o?.[i] ?? '';
      if (tv === '' && ov === '') return;
      const c = columns[i]!;
      c.either++;
      const same = name === 'ack_rtt'
        ? tv !== '' && ov !== '' && Math.abs(Number(tv) - Number(ov)) <= RTT_TOLERANCE_S
        : tv === ov;
      if (same) c.equal++;
      else if (c.examples.length < 5) c.examples.push(`${frame}: ${tv || '-'}/${ov || '-'}`);
    });
  }
  return { path: displayPath, columns };
}

/** Sums per column over files. */
export function totals(files: ValuesAgreement[]): { either: number; equal: number }[] {
  return VALUE_COLUMNS.map((_, i) => {
    const t = { either: 0, equal: 0 };
    for (const f of files) {
      t.either += f.columns[i]!.either;
      t.equal += f.columns[i]!.equal;
    }
    return t;
  });
}

export function markdownTable(files: ValuesAgreement[]): string {
  const lines = ['| column | tshark field | frames with a value (either tool) | equal | share |', '|---|---|---:|---:|---:|'];
  totals(files).forEach((t, i) => {
    const share = t.either === 0 ? 1 : t.equal / t.either;
    lines.push(`| ${VALUE_COLUMNS[i]} | ${TSHARK_FIELDS[i]} | ${t.either} | ${t.equal} | ${(share * 100).toFixed(3)}% |`);
  });
  return lines.join('\n');
}

/** Files with differences, most first. */
export function differences(files: ValuesAgreement[]): string[] {
  const out: { n: number; text: string }[] = [];
  for (const f of files) {
    const parts: string[] = [];
    let n = 0;
    f.columns.forEach((c, i) => {
      if (c.equal === c.either) return;
      n += c.either - c.equal;
      parts.push(`${VALUE_COLUMNS[i]} ${c.equal}/${c.either} (tshark/ours: ${c.examples.join('; ')})`);
    });
    if (parts.length > 0) out.push({ n, text: `${f.path}: ${parts.join('; ')}` });
  }
  return out.sort((a, b) => b.n - a.n).map((d) => d.text);
}
