/**
 * Issue 9 item 5 (b) and (c): hand-built frames where the decoder once disagreed with tshark 4.0, each
 * compared with tshark through the `tcplens` command (`info` for the TCP count, `query` for the fields).
 * (b) an IEEE 802.1BR E-Tag (EtherType 0x893F) in front of IPv4/TCP: tshark decodes the TCP.
 * (c) IPv4 headers whose total length is below their header length: tshark calls them malformed and
 *     decodes no TCP; the TSO form (total length 0) and the shortest lengths around the TCP header too,
 *     and a grid of every IHL with every total length up to 89, built in the test.
 * The fixtures are made by fixtures/tshark/make.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pcapHeader, pcapRecord } from '../readers/build-capture.js';
import { etherTcp } from './build.js';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';
import { TSHARK_TCP_FILTER } from './corpus-frames.js';

const dir = path.join(fixturesDir, 'tshark');

/** frame, ports, seq, ack, flags of every TCP frame, as tshark prints them. */
async function tsharkTcp(file: string): Promise<string[]> {
  const rows = await tsharkFields(file, ['frame.number', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags'], TSHARK_TCP_FILTER);
  return rows.map((r) => `${r[0]},${r[1]},${r[2]},${r[3]},${r[4]},${Number(r[5])}`);
}

async function ourTcp(file: string): Promise<string[]> {
  const r = await runCli(['query', file, 'SELECT frame, sport, dport, seq, ack, flags FROM packets ORDER BY frame', '--format', 'csv']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').slice(1).filter((l) => l.length > 0);
}

async function ourTcpCount(file: string): Promise<number> {
  const r = await runCli(['info', file, '--format', 'csv']);
  assert.equal(r.status, 0, r.stderr);
  const [header, row] = r.stdout.trim().split('\n');
  return Number(row!.split(',')[header!.split(',').indexOf('tcp_packets')]);
}

for (const name of ['etag', 'ipv4-short-total-length']) {
  test(`${name}.pcap: the same TCP frames and header fields as tshark`, async () => {
    const file = path.join(dir, `${name}.pcap`);
    const theirs = await tsharkTcp(file);
    assert.deepEqual(await ourTcp(file), theirs);
    assert.equal(await ourTcpCount(file), theirs.length);
    if (name === 'etag') assert.equal(theirs.length, 2, 'tshark decodes TCP behind the E-Tag');
    else assert.deepEqual(theirs.map((l) => l.split(',')[0]), ['2'], 'only the well-formed frame is TCP');
  });
}

test('every IPv4 header length (IHL 5-15) with every total length 0-89: the same TCP frames as tshark', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-iplen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const records: Buffer[] = [pcapHeader()];
  let i = 0;
  for (let ihl = 5; ihl <= 15; ihl++) {
    for (let totalLen = 0; totalLen < 90; totalLen++, i++) {
      const frame = etherTcp({ sport: 40000 + (i % 1000), seq: 7 + i, flags: 0x02, payload: 8 }, { ihl, totalLen, options: new Array<number>((ihl - 5) * 4).fill(1) });
      records.push(pcapRecord({ sec: 1700000000 + i, frac: 0, data: frame }));
    }
  }
  const file = path.join(dir, 'ip-lengths.pcap');
  writeFileSync(file, Buffer.concat(records));
  const theirs = await tsharkTcp(file);
  assert.ok(theirs.length > 100 && theirs.length < i, `tshark decodes TCP in ${theirs.length} of ${i} frames`);
  // Which frames are TCP; fields of headers the total length cuts short are compared by the corpus tests.
  const frames = (rows: string[]): string[] => rows.map((r) => r.split(',')[0]!);
  assert.deepEqual(frames(await ourTcp(file)), frames(theirs));
});
