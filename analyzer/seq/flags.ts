/**
 * The TCP analysis flags, named exactly as Wireshark's `tcp.analysis.<name>` fields. A flag's code is its
 * index in SEQ_FLAGS (what the DuckDB loader and the compact result store); its bit in a per-frame mask is
 * `1 << code`.
 */
export const SEQ_FLAGS = [
  'retransmission',
  'fast_retransmission',
  'spurious_retransmission',
  'out_of_order',
  'lost_segment',
  'ack_lost_segment',
  'duplicate_ack',
  'zero_window',
  'zero_window_probe',
  'zero_window_probe_ack',
  'window_full',
  'window_update',
  'keep_alive',
  'keep_alive_ack',
  'reused_ports',
] as const;

export type SeqFlag = (typeof SEQ_FLAGS)[number];

/** Bit masks, one per flag (bit = 1 << code). */
export const RETRANSMISSION = 1 << 0;
export const FAST_RETRANSMISSION = 1 << 1;
export const SPURIOUS_RETRANSMISSION = 1 << 2;
export const OUT_OF_ORDER = 1 << 3;
export const LOST_SEGMENT = 1 << 4;
export const ACK_LOST_SEGMENT = 1 << 5;
export const DUPLICATE_ACK = 1 << 6;
export const ZERO_WINDOW = 1 << 7;
export const ZERO_WINDOW_PROBE = 1 << 8;
export const ZERO_WINDOW_PROBE_ACK = 1 << 9;
export const WINDOW_FULL = 1 << 10;
export const WINDOW_UPDATE = 1 << 11;
export const KEEP_ALIVE = 1 << 12;
export const KEEP_ALIVE_ACK = 1 << 13;
export const REUSED_PORTS = 1 << 14;

const CODES = new Map<string, number>(SEQ_FLAGS.map((name, code) => [name, code]));

/** The code of a flag name, or -1 when the name is not one of SEQ_FLAGS. */
export function seqFlagCode(name: string): number {
  return CODES.get(name) ?? -1;
}

/** The flag names set in a per-frame mask, in SEQ_FLAGS order. */
export function seqFlagNames(mask: number): SeqFlag[] {
  const out: SeqFlag[] = [];
  for (let code = 0; code < SEQ_FLAGS.length; code++) if (mask & (1 << code)) out.push(SEQ_FLAGS[code]!);
  return out;
}
