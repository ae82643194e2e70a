/**
 * analyzeCapture over real files: a capture cut in the middle of a record keeps the flags of every
 * frame before the damage and reports the damage; a missing file is an error result, never a throw;
 * a TCP header cut by the snaplen before its window field is skipped, as tshark skips it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { analyzeCapture, SequenceAnalyzer, SEQ_FLAGS } from '../../analyzer/seq/index.js';
import { ACK, decodedPackets, PSH, SYN, writeScenarioPcap, type Segment } from './synth.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-seq-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const segs: Segment[] = [
  { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0 },
  { from: 's', flags: SYN | ACK, seq: 5000, ack: 1001, t: 1 },
  { from: 'c', flags: ACK, seq: 1001, ack: 5001, t: 2 },
  { from: 'c', flags: PSH | ACK, seq: 1001, ack: 5001, len: 100, t: 3 },
  { from: 'c', flags: PSH | ACK, seq: 1001, ack: 5001, len: 100, t: 300 },
  { from: 'c', flags: ACK, seq: 1101, ack: 5001, t: 301 },
  { from: 'c', flags: ACK, seq: 1101, ack: 5001, t: 302 },
];

function rows(r: { frames: Uint32Array; codes: Uint8Array }): string[] {
  return [...r.frames].map((f, i) => `${f}:${SEQ_FLAGS[r.codes[i]!]}`);
}

test('a capture cut inside its last record keeps the flags before the damage and reports it', async () => {
  const whole = path.join(dir, 'whole.pcap');
  writeScenarioPcap(whole, segs);
  const full = await analyzeCapture(whole);
  assert.deepEqual(rows(full), ['5:retransmission', '6:duplicate_ack', '7:duplicate_ack']);
  assert.equal(full.read.partial, false);
  assert.equal(full.tcpPackets, 7);
  assert.equal(full.streams, 1);

  const cut = path.join(dir, 'cut.pcap');
  const bytes = readFileSync(whole);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 10), { mode: 0o600 });
  const partial = await analyzeCapture(cut);
  assert.deepEqual(rows(partial), ['5:retransmission', '6:duplicate_ack']);
  assert.equal(partial.read.partial, true);
  assert.match(partial.read.error?.message ?? '', /cut\.pcap: at byte \d+: expected /);
});

test('a missing file comes back as an error result, not an exception', async () => {
  const r = await analyzeCapture(path.join(dir, 'no-such-file.pcap'));
  assert.equal(r.tcpPackets, 0);
  assert.equal(r.frames.length, 0);
  assert.ok(r.read.error);
});

test('a TCP header cut before its window field is skipped (no stream, no flags), as in tshark', () => {
  const analyzer = new SequenceAnalyzer();
  const [syn, , , data] = decodedPackets(segs);
  analyzer.push(syn!.frame, syn!.tsSec, syn!.tsNsec, syn!.packet);
  const cutPacket = { ...data!.packet, tcpTruncated: true, tcpOffset: 34, win: 0 };
  assert.equal(analyzer.push(data!.frame, data!.tsSec, data!.tsNsec, cutPacket, 34 + 15), -1);
  assert.equal(analyzer.lastFlags, 0);
  // Cut inside the options instead: the fixed header is whole, the segment is analyzed.
  assert.equal(analyzer.push(data!.frame, data!.tsSec, data!.tsNsec, { ...cutPacket, win: 1000 }, 34 + 21), 0);
  assert.equal(analyzer.rows.length, 0);
});

test('handshake RTT per stream: pure SYN to the first pure ACK', () => {
  const analyzer = new SequenceAnalyzer();
  for (const { frame, tsSec, tsNsec, packet } of decodedPackets(segs)) analyzer.push(frame, tsSec, tsNsec, packet);
  assert.equal(analyzer.handshakeRttNs(0), 2_000_000);
  assert.equal(analyzer.handshakeRttNs(1), -1);
});
