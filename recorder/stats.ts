/** Capture counters: the BPF program's per-interface, per-CPU counts summed, and the exit summary. */
import type { InterfaceCounters } from '../native/index.js';

export interface CaptureTotals {
  /** Packets the filter ran on (lo's duplicate outgoing copies excluded). */
  seen: number;
  /** Of those, TCP. */
  tcp: number;
  /** Of those, matching --port/--host/--direction: captured + dropped. */
  kept: number;
  /** Kept packets lost because the ring buffer was full. */
  dropped: number;
}

export function sumCounters(list: readonly InterfaceCounters[], ifindexes?: ReadonlySet<number>): CaptureTotals {
  const t: CaptureTotals = { seen: 0, tcp: 0, kept: 0, dropped: 0 };
  for (const c of list) {
    if (ifindexes && !ifindexes.has(c.ifindex)) continue;
    t.seen += c.seen;
    t.tcp += c.tcp;
    t.kept += c.kept;
    t.dropped += c.dropped;
  }
  return t;
}

/** tcpdump-style summary printed on stderr at exit. */
export function summaryText(captured: number, t: CaptureTotals): string {
  return (
    `${captured} packets captured\n` +
    `${t.kept} packets seen by filter (of ${t.seen} on the interfaces, ${t.tcp} TCP)\n` +
    `${t.dropped} packets dropped by ring buffer\n`
  );
}
