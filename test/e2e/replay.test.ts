/**
 * `tcplens replay` onto one end of a veth pair while `tcplens record` listens on the other: every frame
 * of the fixture arrives, and the recorded bytes through the TCP header equal the fixture's.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
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
