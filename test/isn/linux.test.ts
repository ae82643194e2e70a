import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assessIsn } from '../../analyzer/isn/index.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { tsharkFields } from '../support/tshark.js';
import { runCli } from '../support/cli.js';
import { startListeners } from '../scans/netcapture.js';
import { recordWhile } from '../support/processes.js';

const skip = netnsUnavailableReason();

/**
 * Linux chooses ISNs as RFC 6528 says: a keyed hash of the 4-tuple plus a 64 ns clock. Consecutive
 * connections from different client ports therefore get unrelated ISNs; both the kernel's SYN/ACKs and
 * its SYNs must come out random, with nmap's "Good luck!" difficulty.
 */
test('real Linux SYN/ACK and SYN ISNs from 40 connections are classed random', { skip: skip ?? false }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-isn-'));
  try {
    const file = path.join(dir, 'linux-isn.pcap');
    await withNetnsPair(async (pair) => {
      await startListeners(pair, pair.b, [8080]);
      // 40 connections from 40 client ports, 10 ms apart.
      const client = `
import socket, time
for i in range(40):
    s = socket.create_connection(('${pair.addrB}', 8080), timeout=5)
    s.sendall(b'x'); s.recv(100); s.close()
    time.sleep(0.01)
`;
      await recordWhile(pair, pair.b, pair.vethB, file, async () => pair.exec(pair.a, 'python3', ['-c', client], 60_000), 200);
    });
    const rows = await tsharkFields(file, ['frame.time_epoch', 'tcp.seq_raw', 'tcp.flags.ack'], 'tcp.flags.syn == 1');
    const synAcks = rows.filter((r) => r[2] === '1' || r[2] === 'True').map((r) => ({ ts: Number(r[0]), isn: Number(r[1]) }));
    const syns = rows.filter((r) => r[2] === '0' || r[2] === 'False').map((r) => ({ ts: Number(r[0]), isn: Number(r[1]) }));
    assert.equal(synAcks.length, 40);
    assert.equal(syns.length, 40);
    for (const [role, samples] of [['SYN/ACK', synAcks], ['SYN', syns]] as const) {
      const a = assessIsn(samples);
      assert.equal(a.class, 'random', `${role}: ${a.reason}`);
      assert.equal(a.difficulty, 'Good luck!', `${role}: SP ${a.sp}`);
    }
    // The whole pipeline (reader, loader, flows, isn_hosts) grades the same two generators the same way.
    const r = await runCli(['scans', file, '--show', 'isn', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const hosts = JSON.parse(r.stdout) as { host: string; role: string; samples: number; class: string }[];
    assert.deepEqual(hosts.map((h) => [h.host, h.role, h.samples, h.class]), [
      ['10.199.0.1', 'syn', 40, 'random'],
      ['10.199.0.2', 'synack', 40, 'random'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
