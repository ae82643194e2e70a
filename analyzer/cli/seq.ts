/**
 * `tcplens seq CAPTURE...|DB.duckdb [--frames] [--fail-on FLAG,...] [--db FILE] [--format ...]`: Wireshark's
 * TCP analysis flags. By default one row per connection that raised any flag, with a count per flag and
 * a total, then a `total` row. `--frames` prints one `frame,flag` row per raised flag (tshark's
 * tcp.analysis.<flag>; frames of the merged timeline when several captures form one recording), with a
 * leading `capture` column when several recordings are loaded (--per-file, or a kept database).
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { SEQ_FLAGS, type SeqFlag } from '../seq/flags.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import type { Lens } from '../index.js';
import { EXIT_FINDING, EXIT_OK, action } from '../../common/cli-run.js';
import { parseFormat, renderRows, type OutputFormat, type Row } from './output.js';

function parseFailOn(value: string | undefined): Set<SeqFlag> | null {
  if (value === undefined) return null;
  if (value === 'any') return new Set(SEQ_FLAGS);
  const out = new Set<SeqFlag>();
  for (const name of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SEQ_FLAGS as readonly string[]).includes(name)) {
      throw new UsageError(`--fail-on: unknown flag '${name}' (one of: any, ${SEQ_FLAGS.join(', ')})`);
    }
    out.add(name as SeqFlag);
  }
  return out;
}

/** Recordings (capture sets) loaded: frame numbers are unique within one, so a capture column is needed only for several. */
async function recordingCount(lens: Lens): Promise<number> {
  const r = await lens.query('SELECT count(DISTINCT set_id) AS n FROM captures');
  return Number(r.rows[0]!['n']);
}

/** CSV quoting as output.ts does it (a path may hold a comma or a quote). */
function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes and waits for stdout to drain, so a slow reader bounds memory instead of a growing buffer. */
function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) return resolve();
    // Each wait removes both of its listeners, so millions of rows never pile up listeners on stdout.
    const onDrain = (): void => {
      process.stdout.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      process.stdout.off('drain', onDrain);
      reject(err);
    };
    process.stdout.once('drain', onDrain).once('error', onError);
  });
}

/** Flag names by ENUM code, as the database defines the tcp_flag type (a kept database included). */
async function flagNames(lens: Lens): Promise<string[]> {
  const r = await lens.query(`SELECT unnest(enum_range(NULL::tcp_flag)) AS name`);
  return r.rows.map((row) => String(row['name']));
}

/** Capture paths by capture_id. */
async function capturePaths(lens: Lens): Promise<Map<number, string>> {
  const r = await lens.query('SELECT capture_id, path FROM captures');
  return new Map(r.rows.map((row) => [Number(row['capture_id']), String(row['path'])]));
}

/**
 * --frames: one line per raised flag, streamed a DuckDB chunk at a time (a long capture can raise
 * millions of flags; they are never all held in memory). Output is the same as renderRows would
 * give for the same rows.
 *
 * The query returns numbers only (capture_id, frame as DOUBLE, the flag's ENUM code) and the text is
 * made here from small lookup tables: reading a path and a flag name as VARCHAR cells for every row
 * was most of the time on captures with millions of flags (bench/NOTES.md).
 */
async function streamFrames(lens: Lens, withCapture: boolean, format: OutputFormat): Promise<void> {
  // Lookups and widths first: another query on the connection would end the streaming result.
  const widths = format === 'table' ? await frameWidths(lens, withCapture) : [];
  const names = await flagNames(lens);
  const paths = await capturePaths(lens);
  const result = await lens.db.stream(
    `SELECT a.capture_id, a.frame::DOUBLE AS frame, enum_code(a.flag)::UTINYINT AS code
     FROM tcp_analysis a JOIN captures c USING (capture_id)
     ORDER BY a.capture_id, a.frame, a.flag`,
  );
  const columns = withCapture ? ['capture', 'frame', 'flag'] : ['frame', 'flag'];
  const line = (cells: string[]): string =>
    format === 'csv' ? cells.map(csvCell).join(',') : cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  // The capture cell of each capture as it is printed: CSV-quoted once per capture, not once per row.
  const captureCsv = new Map([...paths].map(([id, p]) => [id, `${csvCell(p)},`]));
  if (format === 'table' && widths.length > 0 && widths[0] === -1) {
    await writeOut('(none)\n');
    return;
  }
  if (format === 'json') await writeOut('[');
  else await writeOut(`${line(columns)}\n${format === 'table' ? `${line(widths.map((w) => '-'.repeat(w)))}\n` : ''}`);
  let first = true;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const captureIds = chunk.getColumnVector(0);
    const frames = chunk.getColumnVector(1);
    const codes = chunk.getColumnVector(2);
    let text = '';
    for (let r = 0; r < chunk.rowCount; r++) {
      const captureId = captureIds.getItem(r) as number;
      const frame = frames.getItem(r) as number;
      const flag = names[codes.getItem(r) as number]!;
      if (format === 'csv') {
        text += `${withCapture ? captureCsv.get(captureId)! : ''}${frame},${flag}\n`;
      } else if (format === 'json') {
        const obj = withCapture ? { capture: paths.get(captureId)!, frame, flag } : { frame, flag };
        text += `${first ? '\n  ' : ',\n  '}${JSON.stringify(obj)}`;
        first = false;
      } else {
        text += `${line(withCapture ? [paths.get(captureId)!, String(frame), flag] : [String(frame), flag])}\n`;
      }
    }
    await writeOut(text);
  }
  if (format === 'json') await writeOut(first ? ']\n' : '\n]\n');
}

async function frameWidths(lens: Lens, withCapture: boolean): Promise<number[]> {
  const r = await lens.query(
    `SELECT max(length(c.path)) AS p, max(length(a.frame::VARCHAR)) AS f, max(length(a.flag::VARCHAR)) AS g
     FROM tcp_analysis a JOIN captures c USING (capture_id)`,
  );
  const row = r.rows[0]!;
  if (row['f'] === null || row['f'] === undefined) return withCapture ? [-1, -1, -1] : [-1, -1]; // no flag at all: (none)
  const w = [Math.max(7, Number(row['p'] ?? 0)), Math.max(5, Number(row['f'] ?? 0)), Math.max(4, Number(row['g'] ?? 0))];
  return withCapture ? w : w.slice(1);
}

/**
 * Where a flagged frame's flow_id is: flag_flows when the captures were loaded without packet rows
 * (the usual `seq CAPTURE`), else packet_rows (a --db, or a kept database given as input).
 */
async function frameFlowTable(lens: Lens): Promise<string> {
  const r = await lens.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE temporary AND table_name = 'flag_flows'`);
  return Number(r.rows[0]!['n']) > 0 ? 'flag_flows' : 'packet_rows';
}

async function connectionRows(lens: Lens, withCapture: boolean, format: OutputFormat): Promise<{ rows: Row[]; columns: string[] }> {
  const frameFlows = await frameFlowTable(lens);
  const counts = SEQ_FLAGS.map((f) => `count(*) FILTER (WHERE a.flag = '${f}') AS ${f}`).join(',\n       ');
  const r = await lens.query(
    `SELECT f.flow_id, c.path AS capture, f.client, f.cport, f.server, f.sport, f.state,
       ${counts},
       count(*) AS total
     FROM tcp_analysis a
     JOIN ${frameFlows} p USING (capture_id, frame)
     JOIN flows f ON f.flow_id = p.flow_id
     JOIN captures c ON c.capture_id = f.capture_id
     GROUP BY ALL ORDER BY f.flow_id`,
  );
  const rows = r.rows;
  const total: Row = { flow_id: 'total', total: 0 };
  for (const f of SEQ_FLAGS) total[f] = 0;
  for (const row of rows) {
    for (const f of SEQ_FLAGS) total[f] = (total[f] as number) + Number(row[f]);
    total['total'] = (total['total'] as number) + Number(row['total']);
  }
  // A terminal table shows only the flags that occur; programs get every flag column.
  const flagColumns = format === 'table' ? SEQ_FLAGS.filter((f) => (total[f] as number) > 0) : [...SEQ_FLAGS];
  const columns = [...(withCapture ? ['capture'] : []), 'flow_id', 'client', 'cport', 'server', 'sport', 'state', ...flagColumns, 'total'];
  return { rows: format === 'json' || (format === 'table' && rows.length === 0) ? rows : [...rows, total], columns };
}

export function registerSeq(program: Command): void {
  withInputOptions(program.command('seq'))
    .description("TCP sequence analysis flags (Wireshark's tcp.analysis.*): per connection, or per frame with --frames")
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--frames', 'one row per raised flag: frame,flag')
    .option('--fail-on <flags>', `exit 4 when any of these flags is raised (comma list, or "any")`)
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (inputs: string[], opts: { frames?: boolean; failOn?: string; db?: string; perFile?: boolean; format: string }) => {
      const format = parseFormat(opts.format);
      const failOn = parseFailOn(opts.failOn);
      // Only tcp_analysis (and flows, without --frames) is queried: a throw-away database loads just those.
      const lens = await openForCommand(inputs, { ...opts, tables: opts.frames ? 'flags' : 'flows' });
      try {
        const withCapture = (await recordingCount(lens)) > 1;
        if (opts.frames) {
          await streamFrames(lens, withCapture, format);
        } else {
          const { rows, columns } = await connectionRows(lens, withCapture, format);
          process.stdout.write(renderRows(rows, columns, format));
        }
        let status = captureErrorsStatus(lens);
        if (status === EXIT_OK && failOn) {
          const r = await lens.query(`SELECT DISTINCT flag::VARCHAR AS flag FROM tcp_analysis`);
          if (r.rows.some((row) => failOn.has(row['flag'] as SeqFlag))) status = EXIT_FINDING;
        }
        return status;
      } finally {
        await lens.close();
      }
    }));
}
