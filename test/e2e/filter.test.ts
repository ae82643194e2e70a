/**
 * The filter config set before load (--port, --host, --direction): frames from two fixtures replayed
 * onto a veth (http-loopback: 127.0.0.1 port 18473; flows/sf: 10.199.0.1 <-> 10.199.0.2 port 8080);
 * the recorder on the other end must keep exactly the frames the options select.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cliPath, corpusDir, fixturesDir } from '../support/paths.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { headersThroughTcp, readAll, startRecorder, stop, tmpFile } from './recorder-support.js';

const skip = netnsUnavailableReason() ?? false;
const LOOPBACK = path.join(fixturesDir, 'http-loopback.pcapng');
const FLOW = path.join(fixturesDir, 'flows/sf.pcap');

async function tcpFrames(file: string): Promise<Buffer[]> {
  return (await readAll(file)).packets.filter((p) => p.data.length === p.wireLen).map((p) => headersThroughTcp(p.data)).filter((h): h is Buffer => h !== null);
}

const CASES: { name: string; args: string[]; want: (loopback: Buffer[], flow: Buffer[]) => Buffer[] }[] = [
  { name: '--port 18473', args: ['--port', '18473'], want: (l) => l },
  { name: '--port 8080 --port 9', args: ['--port', '8080', '--port', '9'], want: (_, f) => f },
  { name: '--host 127.0.0.1', args: ['--host', '127.0.0.1'], want: (l) => l },
  { name: '--host 10.199.0.2 (either end)', args: ['--host', '10.199.0.2'], want: (_, f) => f },
  { name: '--host fd00::1 (no match)', args: ['--host', 'fd00::1'], want: () => [] },
  { name: '--direction out (replayed frames arrive inbound)', args: ['--direction', 'out'], want: () => [] },
  { name: '--direction in', args: ['--direction', 'in'], want: (l, f) => [...l, ...f] },
];

test('filter options keep exactly the selected frames', { skip, timeout: 120_000 }, async (t) => {
  const loopback = await tcpFrames(LOOPBACK);
  const flow = await tcpFrames(FLOW);
  for (const c of CASES) {
    await t.test(c.name, async () => {
      const out = tmpFile('filter.pcapng');
      try {
        await withNetnsPair(async (pair) => {
          const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out, ...c.args]);
          for (const f of [LOOPBACK, FLOW]) pair.exec(pair.a, process.execPath, [cliPath, 'replay', f, '-i', pair.vethA, '--pps', '5000'], 30_000);
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(await stop(rec), 0, rec.stderr());
        }, { mtu: 9000 }); // flows/sf.pcap holds a 1909-byte frame
        const got = (await readAll(out)).packets.map((p) => p.data);
        assert.deepEqual(got, c.want(loopback, flow));
      } finally {
        rmSync(out, { force: true });
      }
    });
  }
});

test('--host with an IPv6 address keeps both directions of that host\'s IPv6 traffic', { skip, timeout: 60_000 }, async () => {
  const source = path.join(corpusDir, 'zeek/communityid/ipv6.pcap');
  const out = tmpFile('filter6.pcapng');
  try {
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out, '--host', '2607:f8b0:400c:c03::1a']);
      for (const f of [source, LOOPBACK]) pair.exec(pair.a, process.execPath, [cliPath, 'replay', f, '-i', pair.vethA, '--pps', '5000'], 30_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await stop(rec), 0, rec.stderr());
    });
    const got = (await readAll(out)).packets.map((p) => p.data);
    assert.deepEqual(got, await tcpFrames(source));
  } finally {
    rmSync(out, { force: true });
  }
});
