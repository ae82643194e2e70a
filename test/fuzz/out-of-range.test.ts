/**
 * Issue 9 item 6: values no database column holds never cost the results. A pcapng with two packets
 * stamped in the year 2779 (beyond TIMESTAMP_NS) once made seq, scans and analyze fail with "internal
 * error: Conversion Error ... to INT64" and print nothing; an ISB counter of 2^64 - 1 failed the same way.
 * Now every command prints its results, one warning naming the file, frame and byte offset with the raw
 * value, and exits 0 (no packet is lost: the ts cell is NULL). Fixtures: fixtures/damaged/make.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openCaptures } from '../../analyzer/index.js';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';

const ts2779 = path.join(fixturesDir, 'damaged', 'ts-year-2779.pcapng');
const isb = path.join(fixturesDir, 'damaged', 'isb-huge-counters.pcapng');
const STAMP_WARNING = /ts-year-2779\.pcapng: 2 packet timestamp\(s\) outside what the database holds .*frame 3 \(at byte 224\): 25547802902\.415274000 s since 1970 \(year 2779\); frame 5 \(at byte 500\)/;

for (const args of [['seq'], ['seq', '--frames'], ['scans'], ['analyze'], ['query', 'SELECT count(*) AS n FROM packets']]) {
  test(`${args.join(' ')} on a capture stamped in the year 2779: results, one warning, exit 0`, async () => {
    const [command, ...rest] = args;
    const r = await runCli([command!, ts2779, ...rest]);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, STAMP_WARNING);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stdout.length > 0, 'results printed');
    if (command === 'query') assert.match(r.stdout, /\b5\b/);
  });
}

test('info on the same capture: its result and the warning, exit 0', async () => {
  const r = await runCli(['info', ts2779, '--wide']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /pcapng\s+5\s+5/);
  assert.match(r.stdout, STAMP_WARNING);
});

test('the library keeps every packet: ts NULL where out of range, one connection, the warning on the capture', async () => {
  const lens = await openCaptures([ts2779]);
  try {
    assert.equal(lens.captures[0]!.nulled.length, 1);
    assert.match(`${ts2779}: ${lens.captures[0]!.nulled[0]!}`, STAMP_WARNING);
    const packets = await lens.query('SELECT frame, ts IS NULL AS no_ts, flow_id FROM packets ORDER BY frame');
    assert.deepEqual(packets.rows.map((r) => [Number(r['frame']), r['no_ts'], Number(r['flow_id'])]),
      [[1, false, 1], [2, false, 1], [3, true, 1], [4, false, 1], [5, true, 1]]);
    // tshark shows every packet and one conversation.
    const streams = await tsharkFields(ts2779, ['frame.number', 'tcp.stream']);
    assert.deepEqual(streams.map((r) => r[1]), ['0', '0', '0', '0', '0']);
    const cap = await lens.query(`SELECT epoch_ns(first_ts) AS f, epoch_ns(last_ts) AS l, len(warnings) AS w FROM captures`);
    assert.equal(String(cap.rows[0]!['f']), '1700000000000000000');
    assert.equal(String(cap.rows[0]!['l']), '1700000000003000000', 'last_ts: the last stamp that fits');
    assert.equal(Number(cap.rows[0]!['w']), 1);
  } finally {
    await lens.close();
  }
});

test('an ISB counter beyond BIGINT: NULL, a warning, results kept', async () => {
  const r = await runCli(['query', isb, 'SELECT recv IS NULL AS r, "drop" IS NULL AS d, (SELECT count(*) FROM packets) AS n FROM interfaces', '--format', 'csv']);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'r,d,n\ntrue,true,2');
  assert.match(r.stderr, /isb-huge-counters\.pcapng: interface 0: isb_ifrecv \d+ does not fit a BIGINT/);
  assert.match(r.stderr, /isb_ifdrop \d+ does not fit a BIGINT/);
});
