/**
 * The decoder against tshark on the real corpus, through our own reader:
 * 1. for every capture (553), the number of TCP frames equals tshark's (INDEX.tsv tcp_packets);
 * 2. for every capture with TCP, the same frames are TCP, frame by frame, and for each of them
 *    addresses, ports, seq, ack, flags, tcp.len and window equal tshark's.
 * Mismatches are printed as a table (file, frame, ours vs tshark's) and fail the test.
 * The second test runs tshark once per capture (about 400 runs, two at a time): a few minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusEntries, tcpCorpusEntries } from '../support/corpus.js';
import {
  compareFrames, decodeCapture, forEachLimited, mismatchTable, tsharkCapture, type Mismatch,
} from './corpus-frames.js';
import { expectedTcpPackets } from '../support/tshark.js';

test('TCP frame count equals tshark\'s tcp_packets on every corpus capture', async () => {
  const entries = corpusEntries();
  assert.ok(entries.length > 500, `corpus INDEX.tsv lists ${entries.length} captures`);
  const wrong: string[] = [];
  await forEachLimited(entries, 2, async (e) => {
    const ours = await decodeCapture(e.absPath);
    const expected = await expectedTcpPackets(e);
    if (ours.frames.size !== expected) {
      wrong.push(`${e.path}  ours=${ours.frames.size} tshark=${expected} tcp/not-tcp/unknown-link/malformed=${ours.statusCounts.join('/')}` +
        (ours.readError ? `  reader: ${ours.readError}` : ''));
    }
  });
  if (wrong.length > 0) console.log(`file  counts\n${wrong.sort().join('\n')}`);
  assert.equal(wrong.length, 0, `${wrong.length} captures with a different TCP count`);
});

/** TCPLENS_DECODE_ONLY=substring narrows the per-frame comparison to matching paths while debugging. */
const only = process.env['TCPLENS_DECODE_ONLY'];

test('frame by frame, every TCP header and its fields match tshark on every corpus capture with TCP', async () => {
  const entries = tcpCorpusEntries().filter((e) => only === undefined || e.path.includes(only));
  if (only !== undefined) console.log(`TCPLENS_DECODE_ONLY=${only}: comparing ${entries.length} captures only`);
  const mismatches: Mismatch[] = [];
  let frames = 0;
  await forEachLimited(entries, 2, async (e) => {
    const [ours, theirs] = await Promise.all([decodeCapture(e.absPath), tsharkCapture(e.absPath)]);
    frames += theirs.size;
    mismatches.push(...compareFrames(e.path, ours, theirs, true));
  });
  console.log(`compared ${frames} TCP frames in ${entries.length} captures: ${mismatches.length} mismatches`);
  if (mismatches.length > 0) {
    mismatches.sort((a, b) => a.file.localeCompare(b.file) || a.frame - b.frame);
    console.log(mismatchTable(mismatches));
  }
  assert.equal(mismatches.length, 0, `${mismatches.length} frames differ from tshark`);
});
