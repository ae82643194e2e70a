/**
 * tcplens as a library: open captures (or a kept database), read typed connections and sequence-analysis
 * flags, run any SQL, close. The CLI commands are thin layers over this.
 *
 *   const lens = await openCaptures(['a.pcap'], { db: 'a.duckdb' });
 *   for (const f of await lens.flows()) console.log(f.client, f.server, f.state, f.history);
 *   await lens.close();
 */
import type { CaptureError } from '../common/errors.js';
import { Database, type QueryResult } from './db/database.js';
import { inputsAreDatabase, planCaptureSet } from './pipeline/capture-set.js';
import { STDIN } from './readers/index.js';
import { loadCaptures, type LoadedCapture, type LoadProgress, type LoadTables } from './db/loader.js';
import type { SeqFlag } from './seq/flags.js';

export type { QueryResult } from './db/database.js';
export type { LoadedCapture, LoadProgress, LoadTables } from './db/loader.js';
export { CaptureError, RuntimeError, UsageError } from '../common/errors.js';
export { passCaptures, type FlagPlace, type PassConsumer, type PassedCaptures, type PassOptions } from './direct.js';
export { SEQ_FLAGS } from './seq/flags.js';

export interface OpenCapturesOptions {
  /** Keep the database in this file (reopening it does not load the same captures again). */
  db?: string | null;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Which tables to fill (default 'all'); see LoadOptions.tables. Ignored with `db`: a kept database is always complete. */
  tables?: LoadTables;
  /** Each capture is its own recording; by default all are one, merged by timestamp (mergecap's rule). */
  perFile?: boolean;
  /** Drop segments with a wrong TCP checksum from the connections (Zeek without -C). */
  verifyChecksums?: boolean;
  /** Compute flows' performance columns even with `tables` 'flows' (see LoadOptions.figures). */
  figures?: boolean;
}

/** One row of the `flows` table. Times are ISO 8601 UTC text with nanoseconds ("2024-01-02T03:04:05.123456789Z"). */
export interface FlowRow {
  flow_id: number;
  capture_id: number;
  ip_version: number;
  vlan: number | null;
  client: string;
  cport: number;
  server: string;
  sport: number;
  first_ts: string;
  last_ts: string;
  duration_s: number;
  packets: number;
  bytes: number;
  client_packets: number;
  server_packets: number;
  client_bytes: number;
  server_bytes: number;
  client_payload: number;
  server_payload: number;
  /** Zeek conn_state: S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH. */
  state: string;
  /** Zeek history letters (uppercase from the client, lowercase from the server). */
  history: string;
  rtt_ms: number | null;
  client_isn: number | null;
  server_isn: number | null;
  reused_ports: boolean;
  /** conn.log's remaining columns (docs/conns.md). */
  uid: string;
  service: string | null;
  orig_bytes: number;
  resp_bytes: number;
  missed_bytes: number;
  orig_pkts: number;
  resp_pkts: number;
  orig_ip_bytes: number;
  resp_ip_bytes: number;
  /** Verdict of the direction that sent more; NULL where the figures were not computed (`tables: 'flows'`). */
  limited_by: 'receiver_window' | 'loss' | 'sender_application' | 'network' | 'none' | null;
  /**
   * Per direction, client_* and server_* (analyzer/perf/columns.ts): rtt_{min,avg,max,stdev,median}_ms,
   * rtt_samples, ts_rtt_*, data_segments, retrans_segments, retrans_bytes, unique_bytes, throughput_bps,
   * goodput_bps, completion_s, bif_max, bif_mean, zero_window_s, rwnd_limited_s, app_limited_s,
   * recovery_s, network_s, limited_by.
   */
  [figure: `client_${string}` | `server_${string}`]: number | string | null;
}

/** One row of `tcp_analysis`: a flag raised on a frame (tshark's tcp.analysis.<flag>). */
export interface FlagRow {
  capture_id: number;
  frame: number;
  flag: SeqFlag;
  flow_id: number | null;
}

export class Lens {
  constructor(
    readonly db: Database,
    /** What happened to each capture given to openCaptures (empty for openDatabase). */
    readonly captures: LoadedCapture[],
  ) {}

  /** Damage found while reading (each capture keeps every packet before it). */
  get errors(): CaptureError[] {
    return this.captures.flatMap((c) => (c.error ? [c.error] : []));
  }

  /** Runs SQL over captures, interfaces, packets, flows, tcp_analysis. */
  query(sql: string): Promise<QueryResult> {
    return this.db.query(sql);
  }

  async flows(where = 'true'): Promise<FlowRow[]> {
    return (await this.db.query(`SELECT * FROM flows WHERE ${where} ORDER BY flow_id`)).rows as unknown as FlowRow[];
  }

  async flags(where = 'true'): Promise<FlagRow[]> {
    const sql = `SELECT a.capture_id, a.frame, a.flag::VARCHAR AS flag, p.flow_id
                 FROM tcp_analysis a LEFT JOIN packet_rows p USING (capture_id, frame)
                 WHERE ${where} ORDER BY a.capture_id, a.frame, a.flag`;
    return (await this.db.query(sql)).rows as unknown as FlagRow[];
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Loads captures into a new (or kept, with `db`) database. Damaged captures load up to the damage. */
export async function openCaptures(paths: readonly string[], opts: OpenCapturesOptions = {}): Promise<Lens> {
  // A new database reads every capture: a set's peeks (each file's first packet) run while DuckDB starts,
  // which leaves the main thread idle (~50 ms). Not with --db (a kept set is not read at all) or stdin.
  const plan = paths.length > 1 && !opts.db && !opts.perFile && !paths.includes(STDIN)
    ? planCaptureSet(paths, opts.signal ? { signal: opts.signal } : {})
    : undefined;
  plan?.catch(() => undefined); // its failure is reported where the loader awaits it, unless DuckDB's comes first
  const db = await Database.open({ path: opts.db ?? null });
  try {
    const loadOpts = {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.tables && !opts.db ? { tables: opts.tables } : {}),
      ...(opts.perFile ? { perFile: true } : {}),
      ...(opts.verifyChecksums ? { verifyChecksums: true } : {}),
      ...(opts.figures ? { figures: true } : {}),
      ...(plan ? { plan } : {}),
    };
    return new Lens(db, await loadCaptures(db, paths, loadOpts));
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Opens a database kept by `--db`, read-only. */
export async function openDatabase(file: string): Promise<Lens> {
  return new Lens(await Database.open({ path: file, readOnly: true }), []);
}

/**
 * What the CLI's CAPTURE...|DB.duckdb arguments mean: one existing DuckDB file opens that database
 * (read-only); anything else is a list of captures (inputsAreDatabase says which, or why neither).
 */
export async function openInputs(inputs: readonly string[], opts: OpenCapturesOptions = {}): Promise<Lens> {
  if (inputsAreDatabase(inputs, opts)) return openDatabase(inputs[0]!);
  return openCaptures(inputs, opts);
}
