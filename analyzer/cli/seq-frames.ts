/**
 * `seq --frames` rows (tshark's tcp.analysis.<flag> per frame) and their output, shared by seq's two
 * paths: the database's (a DuckDB result, chunk by chunk) and the direct pass's (flags as they are
 * raised, analyzer/direct.ts). Both give a row as the same cells, so both print the same bytes.
 */
import type { SeqFlag } from '../seq/flags.js';
import { csvCell, renderRows, type OutputFormat, type Row } from './output.js';

/** Wireshark 4.0's expert-info text for each flag (what its Expert Information view shows). */
export const FLAG_EXPLANATIONS: Record<SeqFlag, string> = {
  retransmission: 'This frame is a (suspected) retransmission',
  fast_retransmission: 'This frame is a (suspected) fast retransmission',
  spurious_retransmission: 'This frame is a (suspected) spurious retransmission',
  out_of_order: 'This frame is a (suspected) out-of-order segment',
  lost_segment: 'Previous segment(s) not captured (common at capture start)',
  ack_lost_segment: "ACKed segment that wasn't captured (common at capture start)",
  duplicate_ack: 'Duplicate ACK',
  zero_window: 'TCP Zero Window segment',
  zero_window_probe: 'TCP Zero Window Probe',
  zero_window_probe_ack: 'ACK to a TCP Zero Window Probe',
  window_full: 'TCP window specified by the receiver is now completely full',
  window_update: 'TCP window update',
  keep_alive: 'TCP keep-alive segment',
  keep_alive_ack: 'ACK to a TCP keep-alive segment',
  reused_ports: 'A new tcp session is started with the same ports as an earlier session in this trace',
};

/** Seconds since the epoch with nanoseconds, from epoch nanoseconds (exact). */
function epochText(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')}`;
}

const FRAME_COLUMNS = ['frame', 'flag', 'time', 'src', 'sport', 'dst', 'dport', 'uid', 'explanation'];
const CAPTURE_FRAME_COLUMNS = ['capture', ...FRAME_COLUMNS];

/**
 * A --frames row from its cells: capture id, frame, flag code, time (epoch ns), src, sport, dst, dport,
 * uid. The one mapping for both paths (SQL and direct), so they print the same.
 */
export function frameRow(cells: readonly unknown[], names: readonly string[], paths: ReadonlyMap<number, string> | null): Row {
  const flag = names[cells[2] as number]!;
  const row: Row = paths ? { capture: paths.get(cells[0] as number)! } : {};
  Object.assign(row, {
    frame: cells[1] as number, flag, time: cells[3] === null ? null : epochText(BigInt(cells[3] as bigint)),
    src: cells[4], sport: cells[5], dst: cells[6], dport: cells[7], uid: cells[8],
    explanation: FLAG_EXPLANATIONS[flag as SeqFlag] ?? null,
  });
  return row;
}

/**
 * --frames output: csv and json are written as rows come (a long capture can raise millions of flags;
 * they are never all held in memory); a terminal table, whose columns align over every row, and rows
 * whose columns are not known yet (a capture column is needed only for several recordings) are held.
 */
export class FrameOutput {
  private text = '';
  private first = true;
  private started = false;
  private readonly held: (readonly unknown[])[] = [];

  /** `paths`: the capture column's paths by capture id; undefined: not known until finish. */
  constructor(
    private readonly format: OutputFormat, private readonly names: readonly string[],
    private paths: ReadonlyMap<number, string> | null | undefined,
  ) {}

  add(cells: readonly unknown[]): void {
    if (this.format === 'table' || this.paths === undefined) {
      this.held.push(cells);
      return;
    }
    this.write(frameRow(cells, this.names, this.paths));
  }

  /** Characters written and not yet taken. */
  get pending(): number {
    return this.text.length;
  }

  /** Text written so far and not yet taken. */
  take(): string {
    const t = this.text;
    this.text = '';
    return t;
  }

  /** Everything not yet taken, with the rows held until now; `paths` as in the constructor, now known. */
  finish(paths: ReadonlyMap<number, string> | null): string {
    if (this.paths === undefined) this.paths = paths;
    if (this.format === 'table') return renderRows(this.held.map((c) => frameRow(c, this.names, this.paths!)), this.columns(), 'table');
    for (const cells of this.held) this.write(frameRow(cells, this.names, this.paths));
    this.start();
    return this.take() + (this.format === 'json' ? (this.first ? ']\n' : '\n]\n') : '');
  }

  /** With a leading capture column when several recordings were read (paths known by then). */
  private columns(): string[] {
    return this.paths ? CAPTURE_FRAME_COLUMNS : FRAME_COLUMNS;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.text += this.format === 'json' ? '[' : `${this.columns().join(',')}\n`;
  }

  private write(row: Row): void {
    this.start();
    if (this.format === 'csv') {
      this.text += `${this.columns().map((c) => csvCell(row[c])).join(',')}\n`;
    } else {
      this.text += `${this.first ? '\n  ' : ',\n  '}${JSON.stringify(row)}`;
      this.first = false;
    }
  }
}
