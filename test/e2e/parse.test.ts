/**
 * The socket filter's parser on real frames from the shared corpus, replayed onto a veth: 802.1Q, QinQ
 * and triple tags (the kernel moves the outer tag into metadata; the filter puts it back, as libpcap
 * does), IPv6 routing and destination-options headers. Every TCP frame must be recorded, cut exactly
 * at the end of its TCP header, its bytes equal to the original's; nothing that is not TCP is recorded.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cliPath, corpusDir } from '../support/paths.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { headersThroughTcp, matchByHeaders, readAll, startRecorder, startTcpdump, stop, tmpFile } from './recorder-support.js';

const skip = netnsUnavailableReason() ?? false;

const FILES = [
  'tcpdump/ldp-common-session.pcap', // 802.1Q, TCP among other protocols
  'zeek/http-qinq-0.pcap', // 802.1ad + 802.1Q
  'zeek/vlan-qinqinq.pcap', // three tags
  'zeek/chksums/ip6-route0-tcp-good-chksum.pcap', // IPv6 routing header
  'zeek/chksums/ip6-hoa-tcp-good-chksum.pcap', // IPv6 destination options (home address)
  'zeek/communityid/ipv6.pcap',
];

for (const file of FILES) {
  test(`the filter parses ${file} as the test's own parser does`, { skip, timeout: 60_000 }, async () => {
    const source = path.join(corpusDir, file);
    const out = tmpFile('parse.pcapng');
    try {
      await withNetnsPair(async (pair) => {
        const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out]);
        pair.exec(pair.a, process.execPath, [cliPath, 'replay', source, '-i', pair.vethA, '--pps', '2000'], 30_000);
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(await stop(rec), 0, rec.stderr());
      }, { mtu: 9000 });
      const want = (await readAll(source)).packets.filter((p) => p.data.length === p.wireLen).map((p) => headersThroughTcp(p.data)).filter((h) => h !== null);
      const got = (await readAll(out)).packets.map((p) => p.data);
      assert.ok(want.length > 0, 'the file holds TCP frames');
      assert.equal(got.length, want.length, 'every TCP frame recorded, nothing else');
      got.forEach((g, i) => assert.deepEqual(g, want[i], `frame ${i + 1}: exactly the headers through TCP`));
    } finally {
      rmSync(out, { force: true });
    }
  });
}

test('IPv4 options (record route): headers cut after the TCP header, as tcpdump sees them', { skip, timeout: 60_000 }, async () => {
  const ours = tmpFile('ipopt.pcapng');
  const theirs = tmpFile('ipopt.tcpdump.pcap');
  try {
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', ours]);
      const td = await startTcpdump(pair, pair.b, pair.vethB, theirs, 262144);
      pair.exec(pair.a, 'nmap', ['-sS', '-n', '-Pn', '--ip-options', 'R', '-p', '1-20', pair.addrB], 30_000);
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(await stop(rec), 0, rec.stderr());
      assert.equal(await stop(td), 0, td.stderr());
    });
    const got = (await readAll(ours)).packets;
    const full = (await readAll(theirs)).packets;
    assert.equal(got.length, full.length);
    assert.ok(got.some((p) => (p.data[14]! & 0x0f) > 5), 'some packets carry IPv4 options');
    const m = matchByHeaders(got, full);
    assert.equal(m.unmatchedA, 0);
    got.forEach((p) => assert.deepEqual(p.data, headersThroughTcp(p.data), 'recorded exactly through the TCP header'));
  } finally {
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
});
