/**
 * `tcplens seq CAPTURE...|DB.duckdb [--frames] [--fail-on FLAG,...] [--db FILE] [--format ...]`: Wireshark's
 * TCP analysis flags. By default one row per connection that raised any flag, with a count per flag and
 * a total, then a `total` row. `--frames` prints one row per raised flag (tshark's tcp.analysis.<flag>):
 * frame, flag, time, endpoints (sender first), connection uid and Wireshark's explanation; frames are those
 * of the merged timeline when several captures form one recording, with a leading `capture` column when
 * several recordings are loaded (--per-file, or a kept database). `--where` keeps the flags of matching connections.
 * Without --where, --db or a kept database as input, seq answers without DuckDB (seqDirect, analyzer/direct.ts).
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { SEQ_FLAGS, type SeqFlag } from '../seq/flags.js';
import { captureErrorsStatus, needsDatabase, openForCommand, passForCommand, withInputOptions, type InputOptions } from './inputs.js';
import { connectionUid } from '../perf/columns.js';
import { tsNsInRange } from '../db/value-range.js';
import type { Lens } from '../index.js';
import { EXIT_FINDING, EXIT_OK, action } from '../../common/cli-run.js';
import { parseFormat, renderRows, type OutputFormat, type Row } from './output.js';
import { FrameOutput } from './seq-frames.js';

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
 * --frames from the database: one line per raised flag, in the order of each set's merged timeline (a
 * frame of a capture set numbers the merged files, whichever file it came from), with the frame's time,
 * its endpoints (sender first), the connection's uid and Wireshark's explanation, streamed a DuckDB chunk
 * at a time. Capture paths and flag names come from small lookup tables rather than as text cells per
 * row (bench/NOTES.md).
 */
async function streamFrames(lens: Lens, withCapture: boolean, format: OutputFormat, where: string | undefined): Promise<void> {
  const names = await flagNames(lens);
  const paths = withCapture ? await capturePaths(lens) : null;
  const frameFlows = await frameFlowTable(lens);
  const sql = `SELECT a.capture_id, a.frame::DOUBLE AS frame, enum_code(a.flag)::UTINYINT AS code, epoch_ns(p.ts) AS ts,
       CASE WHEN p.from_client THEN f.client ELSE f.server END AS src,
       CASE WHEN p.from_client THEN f.cport ELSE f.sport END AS sport,
       CASE WHEN p.from_client THEN f.server ELSE f.client END AS dst,
       CASE WHEN p.from_client THEN f.sport ELSE f.cport END AS dport, f.uid
     FROM tcp_analysis a
     LEFT JOIN ${frameFlows} p USING (capture_id, frame)
     LEFT JOIN flows f ON f.flow_id = p.flow_id
     ${where === undefined ? '' : `WHERE ${where}`}
     ORDER BY (SELECT c.set_id FROM captures c WHERE c.capture_id = a.capture_id), a.frame, a.flag`;
  let result;
  try {
    result = await lens.db.stream(sql);
  } catch (err) {
    if (where !== undefined) throw new UsageError(`--where: ${(err as Error).message}`);
    throw err;
  }
  const out = new FrameOutput(format, names, paths);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const cells of chunk.getRows()) out.add(cells);
    await writeOut(out.take());
  }
  await writeOut(out.finish(paths));
}

/**
 * Where a flagged frame's flow_id is: flag_flows when the captures were loaded without packet rows
 * (the usual `seq CAPTURE`), else packet_rows (a --db, or a kept database given as input).
 */
async function frameFlowTable(lens: Lens): Promise<string> {
  const r = await lens.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE temporary AND table_name = 'flag_flows'`);
  return Number(r.rows[0]!['n']) > 0 ? 'flag_flows' : 'packet_rows';
}

async function connectionRows(
  lens: Lens, withCapture: boolean, format: OutputFormat, where: string | undefined,
): Promise<{ rows: Row[]; columns: string[] }> {
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
     ${where === undefined ? '' : `WHERE ${where}`}
     GROUP BY ALL ORDER BY f.flow_id`,
  ).catch((err: Error) => {
    throw where === undefined ? err : new UsageError(`--where: ${err.message}`);
  });
  return withTotal(r.rows, withCapture, format);
}

/** The per-connection table: its rows (one per flagged connection, by flow_id) and a `total` row. */
function withTotal(rows: Row[], withCapture: boolean, format: OutputFormat): { rows: Row[]; columns: string[] } {
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

/** --fail-on: the status once the flags raised are known. */
function failOnStatus(status: number, failOn: Set<SeqFlag> | null, raised: Iterable<string>): number {
  if (status !== EXIT_OK || !failOn) return status;
  for (const flag of raised) if (failOn.has(flag as SeqFlag)) return EXIT_FINDING;
  return status;
}

interface SeqOptions extends InputOptions {
  frames?: boolean;
  where?: string;
}

/**
 * seq without SQL or a database (analyzer/direct.ts): the same rows as the SQL below gives, made as the
 * pass hands over flags and connections. --frames rows are written as they come when a capture column is
 * certainly not needed (one recording).
 */
async function seqDirect(inputs: string[], opts: SeqOptions, format: OutputFormat, failOn: Set<SeqFlag> | null): Promise<number> {
  const raised = new Set<string>();
  const frames = opts.frames ? new FrameOutput(format, SEQ_FLAGS, opts.perFile && inputs.length > 1 ? undefined : null) : null;
  // Per connection with a flag: the count of each flag (by code), until the connection ends.
  const counts = new Map<number, number[]>();
  const rows: Row[] = [];
  const uids = new Map<number, string>();
  const passed = await passForCommand(inputs, opts, {
    flagRaised: (code, at) => {
      raised.add(SEQ_FLAGS[code]!);
      const flow = at.flow;
      if (frames === null) {
        let c = counts.get(flow.flowId);
        if (c === undefined) counts.set(flow.flowId, (c = new Array<number>(SEQ_FLAGS.length).fill(0)));
        c[code]!++;
        return;
      }
      let uid = uids.get(flow.flowId);
      if (uid === undefined) uids.set(flow.flowId, (uid = connectionUid(flow)));
      const client = at.address(flow.clientAddr);
      const server = at.address(flow.serverAddr);
      const ts = tsNsInRange(at.sec) ? BigInt(at.sec) * 1_000_000_000n + BigInt(at.nsec) : null;
      frames.add(at.fromClient
        ? [at.captureId, at.frame, code, ts, client, flow.clientPort, server, flow.serverPort, uid]
        : [at.captureId, at.frame, code, ts, server, flow.serverPort, client, flow.clientPort, uid]);
      if (frames.pending > 65536) process.stdout.write(frames.take());
    },
    flowEnded: (flow, values) => {
      uids.delete(flow.flowId);
      const c = counts.get(flow.flowId);
      if (c === undefined) return;
      counts.delete(flow.flowId);
      const v = values();
      const row: Row = {
        flow_id: flow.flowId, capture: flow.captureId, client: v.get('client'), cport: v.get('cport'), server: v.get('server'),
        sport: v.get('sport'), state: v.get('state'),
      };
      let total = 0;
      SEQ_FLAGS.forEach((f, code) => {
        row[f] = c[code]!;
        total += c[code]!;
      });
      row['total'] = total;
      rows.push(row);
    },
  });
  const withCapture = passed.recordings > 1;
  if (frames) {
    await writeOut(frames.finish(withCapture ? passed.paths : null));
  } else {
    rows.sort((a, b) => (a['flow_id'] as number) - (b['flow_id'] as number));
    for (const row of rows) row['capture'] = passed.paths.get(row['capture'] as number)!;
    const out = withTotal(rows, withCapture, format);
    process.stdout.write(renderRows(out.rows, out.columns, format));
  }
  return failOnStatus(captureErrorsStatus(passed), failOn, raised);
}

export function registerSeq(program: Command): void {
  withInputOptions(program.command('seq'))
    .description("TCP sequence analysis flags (Wireshark's tcp.analysis.*): per connection, or per frame with --frames")
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--frames', 'one row per raised flag: frame,flag')
    .option('--fail-on <flags>', `exit 4 when any of these flags is raised (comma list, or "any")`)
    .option('--where <sql>', 'only flags on connections matching this SQL condition on the flows columns (alias f)')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (inputs: string[], opts: SeqOptions & { failOn?: string; format: string }) => {
      const format = parseFormat(opts.format);
      const failOn = parseFailOn(opts.failOn);
      if (!needsDatabase(inputs, opts)) return seqDirect(inputs, opts, format, failOn);
      // Only tcp_analysis and flows are queried: a throw-away database loads just those.
      const lens = await openForCommand(inputs, { ...opts, tables: 'flows' });
      try {
        const withCapture = (await recordingCount(lens)) > 1;
        if (opts.frames) {
          await streamFrames(lens, withCapture, format, opts.where);
        } else {
          const { rows, columns } = await connectionRows(lens, withCapture, format, opts.where);
          process.stdout.write(renderRows(rows, columns, format));
        }
        const status = captureErrorsStatus(lens);
        if (status !== EXIT_OK || !failOn) return status;
        const r = await lens.query(`SELECT DISTINCT flag::VARCHAR AS flag FROM tcp_analysis`);
        return failOnStatus(status, failOn, r.rows.map((row) => String(row['flag'])));
      } finally {
        await lens.close();
      }
    }));
}
