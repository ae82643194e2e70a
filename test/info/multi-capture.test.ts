/**
 * Several captures in one process must not influence each other. The decoder reassembles IP fragments
 * across frames (as tshark does), so a capture that ends mid-datagram must not complete a datagram in
 * the next one: split a real fragmented capture in two and check each half against tshark alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { corpusDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';

interface SplitCapture {
  first: string;
  second: string;
  /** tshark's TCP frame count of each half read alone. */
  expected: [number, number];
  /** tshark's TCP frame count of the halves merged again (mergecap): the whole capture's. */
  merged: number;
}

/** zeek/ipv4/fragmented-4.pcap cut after frame 3, inside the datagram that frames 2-5 carry. */
async function withSplitFragmentedCapture(fn: (split: SplitCapture) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-multi-'));
  try {
    const source = path.join(corpusDir, 'zeek/ipv4/fragmented-4.pcap');
    const first = path.join(dir, 'first.pcap');
    const second = path.join(dir, 'second.pcap');
    execFileSync('editcap', ['-r', source, first, '1-3']);
    execFileSync('editcap', ['-r', source, second, '4-6']);
    const tcpCount = async (file: string) => (await tsharkFields(file, ['frame.number'], 'tcp && !icmp')).length;
    const expected: [number, number] = [await tcpCount(first), await tcpCount(second)];
    // The halves are meaningful only if the whole file needs the reassembly they break apart.
    const whole = await tcpCount(source);
    assert.ok(whole > expected[0] + expected[1], `whole file ${whole} TCP frames vs halves ${expected.join('+')}`);
    await fn({ first, second, expected, merged: whole });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('info on two captures: fragments left open by the first are not reassembled in the second', () =>
  withSplitFragmentedCapture(async ({ first, second, expected }) => {
    const { status, stdout, stderr } = await runCli(['info', '--format', 'json', first, second]);
    assert.equal(status, 0, stderr);
    const infos = JSON.parse(stdout) as Array<{ tcp_packets: number }>;
    assert.deepEqual(infos.map((i) => i.tcp_packets), expected);
  }));

test('query --per-file loads two captures without one completing the other\'s fragments', () =>
  withSplitFragmentedCapture(async ({ first, second, expected }) => {
    const sql = 'SELECT c.path, count(p.frame) AS n FROM captures c LEFT JOIN packets p USING (capture_id) GROUP BY c.path ORDER BY c.path';
    const { status, stdout, stderr } = await runCli(['query', first, second, '--per-file', sql, '--format', 'json']);
    assert.equal(status, 0, stderr);
    const rows = JSON.parse(stdout) as Array<{ path: string; n: number }>;
    assert.deepEqual(rows.map((r) => [path.basename(r.path), Number(r.n)]), [['first.pcap', expected[0]], ['second.pcap', expected[1]]]);
  }));

test('query on the two halves as one recording reassembles across them, as tshark on the merged file', () =>
  withSplitFragmentedCapture(async ({ first, second, merged }) => {
    const { status, stdout, stderr } = await runCli(['query', second, first, 'SELECT count(*) AS n FROM packets', '--format', 'csv']);
    assert.equal(status, 0, stderr);
    assert.equal(stdout, `n\n${merged}\n`);
  }));
