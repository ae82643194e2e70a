/**
 * One hand-built conversation per flag (and per quirk that decides a flag). Each expectation is checked
 * twice: against our engine, fed the packets directly, and against tshark 4.0 reading the same packets
 * from a pcap file, so every rule here is one the oracle agrees with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { SequenceAnalyzer, SEQ_FLAGS } from '../../analyzer/seq/index.js';
import { tcplensFlags, tsharkFlags } from './oracle.js';
import { ACK, decodedPackets, FIN, PSH, RST, SYN, writeScenarioPcap, type Segment } from './synth.js';
import { tsharkFields } from '../support/tshark.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-seq-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

type Expected = Record<number, string[]>;

/** tshark's tcp.stream of each segment, from the analyzer class the loader runs (not exposed by any table). */
function engineStreams(segs: Segment[]): number[] {
  const analyzer = new SequenceAnalyzer();
  return decodedPackets(segs).map(({ frame, tsSec, tsNsec, packet }) => analyzer.push(frame, tsSec, tsNsec, packet));
}

/** Our flags on the scenario file, loaded as every command loads it. */
async function tcplensRun(file: string): Promise<Expected> {
  const ours = await tcplensFlags([file]);
  const flags: Expected = {};
  ours.flags.forEach((frames, code) => {
    for (const f of frames) (flags[f] ??= []).push(SEQ_FLAGS[code]!);
  });
  return flags;
}

async function tsharkRun(segs: Segment[]): Promise<{ flags: Expected; file: string }> {
  const file = path.join(dir, `scenario-${++fileNo}.pcap`);
  writeScenarioPcap(file, segs);
  const sets = await tsharkFlags(file);
  const flags: Expected = {};
  sets.forEach((frames, code) => {
    for (const f of frames) (flags[f] ??= []).push(SEQ_FLAGS[code]!);
  });
  return { flags, file };
}

function sorted(e: Expected): Expected {
  const out: Expected = {};
  for (const k of Object.keys(e).map(Number).sort((a, b) => a - b)) out[k] = [...e[k]!].sort();
  return out;
}

/** Asserts that our engine and tshark both raise exactly `expected` (frames not listed: no flag). */
async function check(segs: Segment[], expected: Expected): Promise<{ streams: number[]; file: string }> {
  const theirs = await tsharkRun(segs);
  const ours = await tcplensRun(theirs.file);
  assert.deepEqual(sorted(theirs.flags), sorted(expected), 'tshark (the oracle) disagrees with the expectation');
  assert.deepEqual(sorted(ours), sorted(expected), 'tcplens disagrees with the expectation');
  return { streams: engineStreams(segs), file: theirs.file };
}

// Client ISN 1000, server ISN 5000; SYN at 0 ms, SYN/ACK at 1 ms, ACK at 2 ms: handshake RTT 2 ms.
const handshake: Segment[] = [
  { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0 },
  { from: 's', flags: SYN | ACK, seq: 5000, ack: 1001, t: 1 },
  { from: 'c', flags: ACK, seq: 1001, ack: 5001, t: 2 },
];
const data = (from: 'c' | 's', seq: number, ack: number, len: number, t?: number, win?: number): Segment =>
  ({ from, flags: PSH | ACK, seq, ack, len, ...(t === undefined ? {} : { t }), ...(win === undefined ? {} : { win }) });
const pureAck = (from: 'c' | 's', seq: number, ack: number, t?: number, win?: number): Segment =>
  ({ from, flags: ACK, seq, ack, ...(t === undefined ? {} : { t }), ...(win === undefined ? {} : { win }) });

describe('tcp.analysis flags on hand-built conversations (engine and tshark agree)', () => {
  test('retransmission: the same data again, long after it was first sent', async () => {
    await check([...handshake, data('c', 1001, 5001, 100, 3), data('c', 1001, 5001, 100, 300)], { 5: ['retransmission'] });
  });

  test('fast_retransmission (also retransmission): after two duplicate ACKs, within 20 ms', async () => {
    await check([
      ...handshake,
      data('c', 1001, 5001, 100, 3),
      data('c', 1201, 5001, 100, 4), // 1101..1200 never seen
      pureAck('s', 5001, 1101, 5),
      pureAck('s', 5001, 1101, 6),
      pureAck('s', 5001, 1101, 7),
      data('c', 1101, 5001, 100, 8),
    ], { 5: ['lost_segment'], 7: ['duplicate_ack'], 8: ['duplicate_ack'], 9: ['fast_retransmission', 'retransmission'] });
  });

  test('spurious_retransmission (also retransmission): data the receiver already acknowledged', async () => {
    await check([...handshake, data('c', 1001, 5001, 100, 3), pureAck('s', 5001, 1101, 4), data('c', 1001, 5001, 100, 300)],
      { 6: ['retransmission', 'spurious_retransmission'] });
  });

  test('out_of_order: an older segment within the 3 ms default when no handshake RTT is known', async () => {
    await check([pureAck('c', 1001, 5001, 0), data('c', 1101, 5001, 100, 1), data('c', 1001, 5001, 100, 2)],
      { 2: ['lost_segment'], 3: ['out_of_order'] });
  });

  test('out_of_order vs retransmission: the threshold is the handshake RTT once known', async () => {
    const rtt50: Segment[] = [
      { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0 },
      { from: 's', flags: SYN | ACK, seq: 5000, ack: 1001, t: 25 },
      { from: 'c', flags: ACK, seq: 1001, ack: 5001, t: 50 },
    ];
    await check([...rtt50, data('c', 1101, 5001, 100, 51), data('c', 1001, 5001, 100, 80)], { 4: ['lost_segment'], 5: ['out_of_order'] });
    await check([...rtt50, data('c', 1101, 5001, 100, 51), data('c', 1001, 5001, 100, 120)], { 4: ['lost_segment'], 5: ['retransmission'] });
  });

  test('spurious_retransmission is decided before out_of_order', async () => {
    await check([
      ...handshake,
      data('c', 1001, 5001, 100, 3),
      data('c', 1101, 5001, 100, 3.2),
      pureAck('s', 5001, 1201, 3.5),
      data('c', 1001, 5001, 100, 3.6), // recent enough to be out of order, but already acknowledged
    ], { 7: ['retransmission', 'spurious_retransmission'] });
  });

  test('a FIN sent again at once is a retransmission: its phantom byte counts in the out-of-order test', async () => {
    await check([...handshake, { from: 'c', flags: FIN | ACK, seq: 1001, ack: 5001, t: 3 }, { from: 'c', flags: FIN | ACK, seq: 1001, ack: 5001, t: 3.5 }],
      { 5: ['retransmission'] });
  });

  test('lost_segment: a sequence gap; never on a RST', async () => {
    await check([...handshake, data('c', 1101, 5001, 100, 3), { from: 'c', flags: RST, seq: 9000, ack: 0, t: 4 }], { 4: ['lost_segment'] });
  });

  test('ack_lost_segment: an ACK for data never seen, reported once while the sender stays silent', async () => {
    await check([...handshake, pureAck('s', 5001, 1501, 3), pureAck('s', 5001, 1501, 4), data('c', 1501, 5001, 10, 5), pureAck('s', 5001, 1600, 6)],
      { 4: ['ack_lost_segment'], 5: ['duplicate_ack'], 6: ['lost_segment'], 7: ['ack_lost_segment'] });
  });

  test('duplicate_ack: same seq, ack and window, no data', async () => {
    await check([...handshake, pureAck('c', 1001, 5001, 3), pureAck('c', 1001, 5001, 4)], { 4: ['duplicate_ack'], 5: ['duplicate_ack'] });
  });

  test('zero_window, zero_window_probe, zero_window_probe_ack, then window_update', async () => {
    await check([
      ...handshake,
      data('c', 1001, 5001, 100, 3),
      pureAck('s', 5001, 1101, 4, 0),
      data('c', 1101, 5001, 1, 300), // the probe: one byte at nextseq into a zero window
      pureAck('s', 5001, 1101, 301, 0),
      pureAck('s', 5001, 1101, 500, 1000),
      data('c', 1101, 5001, 100, 501), // the probe did not advance nextseq: this is new data
    ], { 5: ['zero_window'], 6: ['zero_window_probe'], 7: ['zero_window', 'zero_window_probe_ack'], 8: ['window_update'] });
  });

  test('window_full: data up to the edge of the unscaled window (no window scale in the SYNs)', async () => {
    await check([...handshake, data('c', 1001, 5001, 1000, 3)], { 4: ['window_full'] });
  });

  test('window_full with window scaling from both SYNs', async () => {
    await check([
      { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0, ws: 2 },
      { from: 's', flags: SYN | ACK, seq: 5000, ack: 1001, t: 1, ws: 1, win: 250 },
      pureAck('c', 1001, 5001, 2),
      pureAck('s', 5001, 1001, 3, 250),
      data('c', 1001, 5001, 500, 4), // 250 << 1
    ], { 4: ['duplicate_ack'], 5: ['window_full'] });
  });

  test('window_full ignores the scale until that side sent its first pure ACK after its SYN', async () => {
    await check([
      { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0, ws: 2 },
      { from: 's', flags: SYN | ACK, seq: 5000, ack: 1001, t: 1, ws: 1, win: 250 },
      pureAck('c', 1001, 5001, 2),
      data('c', 1001, 5001, 250, 3), // 250 << 0: the server has not acked anything yet
    ], { 4: ['window_full'] });
  });

  test('window_full is never raised while the window scale is unknown (no SYN seen)', async () => {
    await check([pureAck('s', 5001, 1001, 0), data('c', 1001, 5001, 1000, 1)], {});
  });

  test('window_update: only the window changes', async () => {
    await check([...handshake, pureAck('s', 5001, 1001, 3, 2000)], { 4: ['window_update'] });
  });

  test('keep_alive and keep_alive_ack (zero and one byte keep-alives are not retransmissions)', async () => {
    await check([
      ...handshake,
      pureAck('c', 1000, 5001, 1000),
      pureAck('s', 5001, 1001, 1001),
      data('c', 1000, 5001, 1, 2000),
      pureAck('s', 5001, 1001, 2001),
    ], { 4: ['keep_alive'], 5: ['keep_alive_ack'], 6: ['keep_alive'], 7: ['keep_alive_ack'] });
  });

  test('reused_ports: a SYN with a new ISN on a used 4-tuple starts a new stream', async () => {
    const { streams } = await check([
      ...handshake,
      { from: 'c', flags: FIN | ACK, seq: 1001, ack: 5001, t: 3 },
      { from: 's', flags: FIN | ACK, seq: 5001, ack: 1002, t: 4 },
      pureAck('c', 1002, 5002, 5),
      { from: 'c', flags: SYN, seq: 9000, ack: 0, t: 100 },
      { from: 's', flags: SYN | ACK, seq: 7000, ack: 9001, t: 101 },
      pureAck('c', 9001, 7001, 102),
    ], { 7: ['reused_ports'] });
    assert.deepEqual(streams, [0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  test('a retransmitted SYN (same ISN) is a retransmission, not a port reuse', async () => {
    await check([{ from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0 }, { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 1000 }], { 2: ['retransmission'] });
  });

  test('stream ids follow tshark tcp.stream across several connections', async () => {
    const segs: Segment[] = [
      { from: 'c', flags: SYN, seq: 1, ack: 0, cport: 1 },
      { from: 'c', flags: SYN, seq: 1, ack: 0, cport: 2 },
      { from: 's', flags: SYN | ACK, seq: 9, ack: 2, cport: 1 },
      { from: 'c', flags: SYN, seq: 1, ack: 0, cport: 3 },
      { from: 's', flags: SYN | ACK, seq: 9, ack: 2, cport: 3 },
    ];
    const { streams, file } = await check(segs, {});
    const theirs = (await tsharkFields(file, ['tcp.stream'])).map((r) => Number(r[0]));
    assert.deepEqual(streams, theirs);
  });

  test('past 10,000 unacked segments a FIN no longer counts its phantom byte (tshark quirk)', async () => {
    // A 65535-byte server window: the segment ends (1011, 1021, ...) never land on its edge (66536).
    const segs: Segment[] = [handshake[0]!, { ...handshake[1]!, win: 65535 }, handshake[2]!];
    let seq = 1001;
    for (let i = 0; i < 10_000; i++, seq += 10) segs.push({ from: 'c', flags: ACK, seq, ack: 5001, len: 10, t: 3 + i * 0.01 });
    segs.push({ from: 'c', flags: FIN | ACK, seq, ack: 5001, t: 200 });
    segs.push(pureAck('c', seq + 1, 5001, 201));
    await check(segs, { [segs.length]: ['lost_segment'] });
  });
});
