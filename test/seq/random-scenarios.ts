/**
 * Seeded random TCP conversations that stress the interplay of the rules: segments at, one before,
 * behind and beyond the next expected sequence number, ACKs that lag, match or run ahead, zero and
 * changing windows, window scale options (including an invalid 15), SYN/SYN-ACK/FIN/RST and flagless
 * segments, several client ports, sequence numbers that wrap past 2^32, and time gaps on both sides of
 * the 3 ms / 20 ms / RTT thresholds. Same seed, same conversation.
 */
import { ACK, FIN, PSH, RST, SYN, type Segment } from './synth.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 13;
    return (s >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, values: readonly T[]): T {
  return values[Math.floor(r() * values.length)]!;
}

export function randomScenario(seed: number, segments: number): Segment[] {
  const r = rng(seed);
  const base = r() < 0.3 ? 0xffffff00 : 1000; // near the wrap, or not
  const next: Record<'c' | 's', number> = { c: base, s: (base + 4000) >>> 0 };
  const cport = 40000 + Math.floor(r() * 3);
  const segs: Segment[] = [];
  const last: Record<'c' | 's', { ack: number; win: number }> = { c: { ack: 0, win: 1000 }, s: { ack: 0, win: 1000 } };
  let t = 0;
  if (r() < 0.7) {
    const scaled = r() < 0.5;
    const syn: Segment = { from: 'c', flags: SYN, seq: (next.c - 1) >>> 0, ack: 0, t, cport };
    if (scaled) syn.ws = pick(r, [0, 1, 2, 7]);
    segs.push(syn);
    t += pick(r, [0.5, 2, 30]);
    const synAck: Segment = { from: 's', flags: SYN | ACK, seq: (next.s - 1) >>> 0, ack: next.c, t, cport };
    if (scaled && r() < 0.8) synAck.ws = pick(r, [0, 1, 2]);
    segs.push(synAck);
    t += pick(r, [0.5, 2, 30]);
  }
  for (let i = 0; i < segments; i++) {
    const from = r() < 0.5 ? 'c' : 's';
    const to = from === 'c' ? 's' : 'c';
    const port = r() < 0.9 ? cport : 40000 + Math.floor(r() * 3);
    const len = pick(r, [0, 0, 0, 1, 2, 100, 100, 250, 500, 1000]);
    let seq = next[from];
    const k = r();
    if (k < 0.1) seq = next[from] - 1;
    else if (k < 0.2) seq = next[from] - pick(r, [100, 250, 500]);
    else if (k < 0.27) seq = next[from] + pick(r, [100, 500]);
    let ack = next[to];
    const a = r();
    if (a < 0.1) ack = next[to] - pick(r, [100, 1]);
    else if (a < 0.15) ack = next[to] + pick(r, [100, 1]);
    let flags = ACK | (len > 0 ? PSH : 0);
    const f = r();
    if (f < 0.03) flags = FIN | ACK;
    else if (f < 0.04) flags = RST | ACK;
    else if (f < 0.045) flags = SYN;
    else if (f < 0.05) flags = SYN | ACK;
    else if (f < 0.055) flags = 0;
    t += pick(r, [0, 0.1, 0.5, 1, 2, 5, 19, 21, 25, 100, 3000]);
    const seg: Segment = { from, flags, seq: seq >>> 0, ack: ack >>> 0, len, win: pick(r, [1000, 1000, 1000, 2000, 250, 0, 0]), t, cport: port };
    if ((flags & SYN) !== 0 && r() < 0.5) seg.ws = pick(r, [0, 3, 15]);
    segs.push(seg);
    if (((seq + len - next[from]) | 0) > 0 || r() < 0.3) next[from] = (seq + len + ((flags & (SYN | FIN)) !== 0 ? 1 : 0)) >>> 0;
    last[from] = { ack: seg.ack, win: seg.win! };
    if (len === 1 && last[to].win === 0 && r() < 0.5) {
      // A receiver answering a probe into its closed window: same ack, window still zero.
      t += pick(r, [0.1, 1]);
      segs.push({ from: to, flags: ACK, seq: next[to], ack: last[to].ack, win: 0, t, cport: port });
    }
  }
  return segs;
}
