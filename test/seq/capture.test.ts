/**
 * Sequence analysis over real files, through the command users run (`tcplens seq`): a capture cut in the
 * middle of a record keeps the flags of every frame before the damage and reports it; a missing file is
 * one line and exit 1; a TCP header cut by the snaplen before its window field is skipped, as tshark
 * skips it (the shipped load path once analysed such headers and raised bogus flags on them).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SequenceAnalyzer } from '../../analyzer/seq/index.js';
import { runCli } from '../support/cli.js';
import { tsharkFlags } from './oracle.js';
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

/** `seq --frames --format csv` as frame:flag lines. */
async function seqFrames(file: string): Promise<{ rows: string[]; status: number | null; stderr: string }> {
  const r = await runCli(['seq', file, '--frames', '--format', 'csv']);
  const rows = r.stdout.trim().split('\n').slice(1).filter(Boolean).map((l) => l.split(',').slice(0, 2).join(':'));
  return { rows, status: r.status, stderr: r.stderr };
}

test('a capture cut inside its last record keeps the flags before the damage and reports it', async () => {
  const whole = path.join(dir, 'whole.pcap');
  writeScenarioPcap(whole, segs);
  const full = await seqFrames(whole);
  assert.deepEqual(full.rows, ['5:retransmission', '6:duplicate_ack', '7:duplicate_ack']);
  assert.equal(full.status, 0);

  const cut = path.join(dir, 'cut.pcap');
  const bytes = readFileSync(whole);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 10), { mode: 0o600 });
  const partial = await seqFrames(cut);
  assert.deepEqual(partial.rows, ['5:retransmission', '6:duplicate_ack']);
  assert.equal(partial.status, 1);
  assert.match(partial.stderr, /cut\.pcap: at byte \d+: expected /);
});

test('a missing file is one line naming it and exit 1', async () => {
  const r = await runCli(['seq', path.join(dir, 'no-such-file.pcap'), '--frames']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr.trim(), /^tcplens: .*no-such-file\.pcap: at byte 0: expected a readable capture file \(no such file\)$/);
});

test('TCP headers cut by the snaplen before their window field raise no flag, as in tshark', async () => {
  // A SYN and four data frames, all cut to 10 bytes of TCP header (14 Ethernet + 20 IP + 10 TCP).
  const cutSegs: Segment[] = [
    { from: 'c', flags: SYN, seq: 1000, ack: 0, t: 0 },
    { from: 'c', flags: PSH | ACK, seq: 1001, ack: 5001, len: 100, t: 3 },
    { from: 'c', flags: PSH | ACK, seq: 1301, ack: 5001, len: 100, t: 4 },
    { from: 'c', flags: PSH | ACK, seq: 1101, ack: 5001, len: 100, t: 5 },
    { from: 'c', flags: PSH | ACK, seq: 1101, ack: 5001, len: 100, t: 6 },
  ];
  const whole = path.join(dir, 'for-snaplen.pcap');
  writeScenarioPcap(whole, cutSegs);
  const cut = path.join(dir, 'snaplen-44.pcap');
  execFileSync('editcap', ['-s', '44', whole, cut]);
  const theirs = await tsharkFlags(cut);
  assert.equal(theirs.reduce((n, s) => n + s.size, 0), 0, 'tshark raises no flag on headers it cannot dissect');
  const ours = await seqFrames(cut);
  assert.equal(ours.status, 0, ours.stderr);
  assert.deepEqual(ours.rows, []);
  // The same frames whole do raise flags: the test would see bogus flags if cut headers were analysed.
  const full = await seqFrames(whole);
  assert.ok(full.rows.length > 0, 'the uncut scenario raises flags');
});

test('handshake RTT per stream: pure SYN to the first pure ACK', () => {
  const analyzer = new SequenceAnalyzer();
  for (const { frame, tsSec, tsNsec, packet } of decodedPackets(segs)) analyzer.push(frame, tsSec, tsNsec, packet);
  assert.equal(analyzer.handshakeRttNs(0), 2_000_000);
  assert.equal(analyzer.handshakeRttNs(1), -1);
});
