/**
 * Which packets `analyze` needs as rows (LoadOptions.tables 'report'): those its SQL can tell apart from
 * no row at all, so every section comes out as from every packet. A bulk transfer costs its handshake,
 * its flagged frames and a few rows per direction instead of a million rows. Per section:
 *
 * - scans (analyzer/scans/probes.ts): the probe window (probe-window.ts); the loader asks it.
 * - sequence-analysis flags and zero windows: the flagged frames; the loader says which they are.
 * - invalid flags (anomalies/packets.ts): every packet without ACK or with a reserved bit set; every SYN
 *   and RST (which also gives the window scale and the client SYN every later query reads).
 * - tiny windows (anomalies/connections.ts): a direction is reported when none of its ACK segments (no
 *   SYN, no RST) advertised more than TINY_WINDOW_BYTES after scaling. Its segments are written until the
 *   first that did, which the SQL then sees and drops the direction for, as it would on every row. The
 *   scale used is a lower bound of the SQL's: none until both first SYNs carried one.
 * - blind resets (anomalies/packets.ts): a RST is judged by its connection as it stood before it: each
 *   side's last ACK-bearing packet and the packet with its highest next sequence number (seq + len,
 *   the numeric maximum the SQL's running max takes). Those four are held here, copied, and written when
 *   a RST comes, so the SQL's as-of joins and running maxima find the same packets.
 *
 * The SQL groups by capture and connection; a connection of a capture set seen in a second file is from
 * then on written whole (rare: a connection crossing a file cut), after what it held is written.
 *
 * Every row written is a true row, written once: a query over a subset of the rows that holds every row
 * deciding its result gives that result.
 */
import { TCP_ACK as ACK, TCP_FIN as FIN, TCP_RST as RST, TCP_SYN as SYN } from '../decode/types.js';
import { TINY_WINDOW_BYTES } from '../anomalies/connections.js';
import { PacketRow } from './packet-row.js';

/** The reserved header bits INVALID_FLAGS_SQL reports (reserved & 14). */
const REPORTED_RESERVED = 14;
/** The largest window scale RFC 7323 allows; the SQL caps at it too. */
const MAX_SCALE = 14;
const CLIENT = 0;
const SERVER = 1;

/**
 * A packet's row, held for a later RST by up to two slots of its connection (its side's last ACK and
 * highest next sequence number): shared, not copied, and reused once no slot holds it.
 */
class HeldRow {
  readonly row = new PacketRow();
  /** Already in the table: written when it came, or by an earlier RST. */
  written = false;
  holders = 0;
}

/** What the window knows of one connection (in one capture). */
class ConnectionWindow {
  captureId: number;
  /** Crossed into a second capture: every row is written. */
  whole = false;
  /** Per side: its first SYN's window scale (-2 no SYN yet, -1 the SYN had none). */
  readonly firstScale = [-2, -2];
  /** Per side: still writing its ACK segments (no segment above TINY_WINDOW_BYTES yet). */
  readonly tinyOpen = [true, true];
  readonly lastAck: (HeldRow | null)[] = [null, null];
  readonly highest: (HeldRow | null)[] = [null, null];
  readonly highestNext = [0, 0];

  constructor(captureId: number) {
    this.captureId = captureId;
  }

  /** The held packets not yet in the table, each once (one packet may be held twice). */
  writeHeld(write: (row: PacketRow) => void): void {
    for (const slots of [this.lastAck, this.highest]) {
      for (const h of slots) {
        if (h === null || h.written) continue;
        write(h.row);
        h.written = true;
      }
    }
  }
}

export class ReportWindow {
  private readonly connections: (ConnectionWindow | undefined)[] = [];
  /** The row the loader fills for the next packet; rows no slot holds any more are reused. */
  private next = new HeldRow();
  private readonly unused: HeldRow[] = [];

  /**
   * @param firstFlowId the id the tracker gives the set's first connection.
   * @param write appends one row to packet_rows.
   */
  constructor(private readonly firstFlowId: number, private readonly write: (row: PacketRow) => void) {}

  /** Forgets a connection the tracker closed: no packet comes with its id again. */
  release(flowId: number): void {
    this.connections[flowId - this.firstFlowId] = undefined;
  }

  /** Where the loader puts the next packet's values before `offer`. */
  get row(): PacketRow {
    return this.next.row;
  }

  /**
   * Writes what the packet in `row` makes needed (call once per packet, in frame order): held packets when
   * it is a RST, then the packet itself when a section reads it. `needed`: the probe window or the flags want it.
   */
  offer(needed: boolean): void {
    const current = this.next;
    const row = current.row;
    const i = row.flowId - this.firstFlowId;
    let c = this.connections[i];
    if (c === undefined) {
      c = new ConnectionWindow(row.captureId);
      this.connections[i] = c;
    } else if (c.captureId !== row.captureId && !c.whole) {
      c.writeHeld(this.write);
      c.whole = true;
    }
    const side = row.fromClient ? CLIENT : SERVER;
    const flags = row.flags;
    if ((flags & SYN) !== 0 && c.firstScale[side] === -2 && (flags & ACK) === (side === CLIENT ? 0 : ACK)) {
      c.firstScale[side] = row.wscale;
    }
    const keep = needed || c.whole || (flags & (SYN | RST)) !== 0 || (flags & ACK) === 0
      || (row.reserved & REPORTED_RESERVED) !== 0 || this.tinyWindowRow(c, side, row);
    if ((flags & RST) !== 0) c.writeHeld(this.write);
    if (keep) this.write(row);
    current.written = keep;
    if ((flags & ACK) !== 0) this.hold(c.lastAck, side, current);
    if ((flags & RST) === 0) {
      const next = (row.seq + row.payloadLen + ((flags & (SYN | FIN)) !== 0 ? 1 : 0)) % 4294967296;
      if (c.highest[side] === null || next > c.highestNext[side]!) {
        this.hold(c.highest, side, current);
        c.highestNext[side] = next;
      }
    }
    if (current.holders > 0) this.next = this.unused.pop() ?? new HeldRow();
  }

  private hold(slots: (HeldRow | null)[], side: number, row: HeldRow): void {
    const before = slots[side] ?? null;
    if (before === row) return;
    if (before !== null && --before.holders === 0) this.unused.push(before);
    slots[side] = row;
    row.holders++;
  }

  /** True for an ACK segment of a direction still written for TINY_WINDOW_SQL; closes it on the first large window. */
  private tinyWindowRow(c: ConnectionWindow, side: number, row: PacketRow): boolean {
    if ((row.flags & (SYN | RST)) !== 0 || (row.flags & ACK) === 0 || !c.tinyOpen[side]) return false;
    const client = c.firstScale[CLIENT]!;
    const server = c.firstScale[SERVER]!;
    const scale = client >= 0 && server >= 0 ? Math.min(side === CLIENT ? client : server, MAX_SCALE) : 0;
    if (row.win * 2 ** scale > TINY_WINDOW_BYTES) c.tinyOpen[side] = false;
    return true;
  }
}
