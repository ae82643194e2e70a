/**
 * `tcplens replay` onto one end of a veth pair while `tcplens record` listens on the other: every frame
 * of the fixture arrives, and the recorded bytes through the TCP header equal the fixture's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { test } from 'node:test';
import { cliPath, fixturesDir } from '../support/paths.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { headersThroughTcp, readAll, startRecorder, stop, tmpFile } from './recorder-support.js';

const skip = netnsUnavailableReason() ?? false;

for (const fixture of ['http-loopback.pcapng', 'flows/sf.pcap', 'flows/rsto.pcap']) {
  test(`replay ${fixture} onto a veth, record the other end: the same TCP headers in the same order`, { skip, timeout: 60_000 }, async () => {
    const out = tmpFile('replay.pcapng');
    const source = path.join(fixturesDir, fixture);
    try {
      let replayOut = '';
      await withNetnsPair(async (pair) => {
        const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out]);
        replayOut = pair.exec(pair.a, process.execPath, [cliPath, 'replay', source, '-i', pair.vethA, '--pps', '2000'], 30_000);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(await stop(rec), 0, rec.stderr());
      }, { mtu: 9000 }); // fixtures may hold frames larger than 1500 bytes (recorded with offloads on)
      const fixturePackets = (await readAll(source)).packets.filter((p) => p.data.length === p.wireLen);
      const recorded = (await readAll(out)).packets;
      const want = fixturePackets.map((p) => headersThroughTcp(p.data)).filter((h) => h !== null);
      assert.ok(want.length > 0, replayOut);
      const got = recorded.map((p) => headersThroughTcp(p.data));
      assert.equal(got.length, want.length, 'every replayed TCP frame was recorded once');
      got.forEach((h, i) => assert.deepEqual(h, want[i], `frame ${i + 1}: headers equal the fixture's`));
      assert.ok(recorded.every((p, i) => p.wireLen === fixturePackets[i]!.wireLen), 'wire lengths equal the fixture\'s');
    } finally {
      rmSync(out, { force: true });
    }
  });
}

/** A classic pcap of `sizes.length` Ethernet frames (local experimental ethertype 0x88b5), one per size. */
function pcapOfSizes(sizes: number[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const records = sizes.map((n, i) => {
    const r = Buffer.alloc(16 + n);
    r.writeUInt32LE(1_700_000_000, 0);
    r.writeUInt32LE(i * 1000, 4);
    r.writeUInt32LE(n, 8);
    r.writeUInt32LE(n, 12);
    r.fill(0xff, 16, 22); // broadcast
    r.set([0x02, 0, 0, 0, 0, 1], 22);
    r.writeUInt16BE(0x88b5, 28);
    return r;
  });
  return Buffer.concat([head, ...records]);
}

test('replay names each frame it could not send and why (a frame above the MTU of the interface)', { skip, timeout: 60_000 }, async () => {
  const source = tmpFile('sizes.pcap');
  const sizes = [100, 200, 300, 400, 500, 600, 700, 1909, 1514, 1515, 60];
  writeFileSync(source, pcapOfSizes(sizes));
  try {
    await withNetnsPair(async (pair) => {
      const r = await promisify(execFile)('ip', ['netns', 'exec', pair.a, process.execPath, cliPath, 'replay', source, '-i', pair.vethA, '--pps', '2000'])
        .then(() => assert.fail('replay with frames above the MTU must exit 1'), (e: { code: number; stderr: string }) => e);
      assert.equal(r.code, 1);
      // Linux takes an Ethernet frame of up to MTU + 14 bytes on a packet socket; larger ones fail with EMSGSIZE.
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('tcplens: frame'));
      assert.deepEqual(lines, [
        `tcplens: frame 8: 1909 bytes, larger than the MTU 1500 of ${pair.vethA}`,
        `tcplens: frame 10: 1515 bytes, larger than the MTU 1500 of ${pair.vethA}`,
      ]);
      assert.match(r.stderr, /9 frames sent, 2 failed/);
    });
  } finally {
    rmSync(source, { force: true });
  }
});
