/**
 * Issue 9 item 5 (a): a client SYN answered by a bare ACK, the client's RST (carrying that ACK's number
 * as its seq), then the same SYN (same ISN) again, answered by a SYN/ACK. tshark 4.0 keeps one
 * conversation and flags nothing on the data that follows; tcplens once flagged every data segment as a
 * retransmission and split the connection in two. The fixtures are hand-built by fixtures/tshark/make.py.
 * Everything goes through the `tcplens` command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SEQ_FLAGS } from '../../analyzer/seq/flags.js';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';
import { tsharkFlags } from './oracle.js';

const dir = path.join(fixturesDir, 'tshark');
const CASES = ['syn-ack-after-rst', 'syn-ack-after-rst-predata', 'syn-ack-after-rst-no-synack', 'syn-ack-after-rst-no-second-syn'];

/** `seq FILE --frames --format csv` as sorted "frame,flag" lines. */
async function ourFlags(file: string): Promise<string[]> {
  const r = await runCli(['seq', file, '--frames', '--format', 'csv']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').slice(1).filter((l) => l.length > 0).map((l) => l.split(',').slice(0, 2).join(',')).sort();
}

async function theirFlags(file: string): Promise<string[]> {
  const sets = await tsharkFlags(file);
  const rows: string[] = [];
  sets.forEach((frames, code) => {
    for (const f of frames) rows.push(`${f},${SEQ_FLAGS[code]}`);
  });
  return rows.sort();
}

for (const name of CASES) {
  test(`seq --frames raises tshark's flags on ${name}.pcap`, async () => {
    const file = path.join(dir, `${name}.pcap`);
    const [ours, theirs] = await Promise.all([ourFlags(file), theirFlags(file)]);
    assert.deepEqual(ours, theirs);
  });
}

test('the retried SYN is one connection: one tcp.stream in tshark, one flow in tcplens, SF', async () => {
  const file = path.join(dir, 'syn-ack-after-rst.pcap');
  const streams = new Set((await tsharkFields(file, ['tcp.stream'])).map((r) => r[0]));
  assert.equal(streams.size, 1, 'tshark sees one conversation');
  const flows = await runCli(['query', file, 'SELECT flow_id, state, packets, client_isn, reused_ports FROM flows', '--format', 'csv']);
  assert.equal(flows.status, 0, flows.stderr);
  assert.deepEqual(flows.stdout.trim().split('\n'), ['flow_id,state,packets,client_isn,reused_ports', '1,SF,14,1000000,false']);
  // The per-connection summary of `seq` groups the flags by that one flow.
  const seq = await runCli(['seq', file, '--format', 'csv']);
  assert.equal(seq.status, 0, seq.stderr);
  const lines = seq.stdout.trim().split('\n');
  assert.equal(lines.filter((l) => /^1,/.test(l)).length, 1, seq.stdout);
  assert.ok(!lines.some((l) => /^2,/.test(l)), seq.stdout);
});
