/**
 * The recorder against tcpdump on the same veth end at the same time, with real traffic: HTTP requests to
 * a local server over IPv4 and IPv6, a short iperf3 run and an nmap SYN scan of 200 ports. Both must see the same TCP
 * packets, with the same bytes through the TCP header and timestamps within 1 ms; tshark must read the
 * tcplens file without a warning.
 */
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { tshark } from '../support/tshark.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { matchByHeaders, readAll, startAndWait, startRecorder, startTcpdump, stop, tmpFile, tsharkWarnings } from './recorder-support.js';

const skip = netnsUnavailableReason();

test('record matches tcpdump on a veth carrying HTTP, iperf3 and an nmap SYN scan', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const ours = tmpFile('veth.pcapng');
  const theirs = tmpFile('veth.tcpdump.pcap');
  try {
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', ours, '-s', '256']);
      const td = await startTcpdump(pair, pair.b, pair.vethB, theirs, 256);

      // HTTP: a local server in b, twenty requests from a.
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8080', '--bind', pair.addrB], /Serving HTTP/);
      for (let i = 0; i < 20; i++) pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8080/`]);
      // and over IPv6
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8086', '--bind', pair.addr6B], /Serving HTTP/);
      for (let i = 0; i < 5; i++) pair.exec(pair.a, 'curl', ['-s', '-g', '-o', '/dev/null', '--max-time', '5', `http://[${pair.addr6B}]:8086/`]);
      // A short bulk transfer, paced at 200 Mbit/s. tcpdump's timestamp is taken when the veth queues a
      // packet for receive (netif_rx, with net.core.netdev_tstamp_prequeue=1), ours when the socket
      // filter runs as that queue is processed: microseconds apart (42-137 us here) unless softirq work
      // overflows to ksoftirqd and waits for a CPU. Once in CI, with iperf3 unpaced on the shared 2-core
      // machine, one packet was 6 ms apart; that is our reading of it, not reproduced since.
      const iperfServer = pair.spawn(pair.b, 'iperf3', ['-s', '-1', '-p', '5201']);
      await new Promise((r) => setTimeout(r, 500));
      pair.exec(pair.a, 'iperf3', ['-c', pair.addrB, '-p', '5201', '-t', '1', '-b', '200M'], 30_000);
      iperfServer.kill('SIGKILL');
      // A SYN scan of 200 ports.
      pair.exec(pair.a, 'nmap', ['-sS', '-n', '-Pn', '-p', '1-200', pair.addrB], 60_000);
      await new Promise((r) => setTimeout(r, 1500)); // both readers catch up with the last RSTs

      assert.equal(await stop(rec, 'SIGINT'), 0, rec.stderr());
      assert.equal(await stop(td, 'SIGINT'), 0, td.stderr());
      assert.match(rec.stderr(), /(\d+) packets captured\n/);
    });

    assert.equal(statSync(ours).mode & 0o777, 0o600, 'tcplens files are created 0600');
    const a = await readAll(ours);
    const b = await readAll(theirs);
    assert.equal(a.result.error, null);
    assert.equal(b.result.error, null);
    assert.ok(b.packets.length > 1000, `enough traffic was seen (${b.packets.length} packets)`);
    assert.ok(a.packets.filter((p) => p.data.readUInt16BE(12) === 0x86dd).length >= 5 * 6, 'IPv6 segments recorded');
    assert.equal(a.packets.length, b.packets.length, 'the same number of TCP packets');
    const m = matchByHeaders(a.packets, b.packets);
    assert.equal(m.unmatchedA, 0, 'every tcplens packet has a tcpdump twin with the same bytes through the TCP header');
    assert.equal(m.unmatchedB, 0);
    assert.ok(m.maxDeltaNs < 1_000_000n, `timestamps agree within 1 ms (worst ${Number(m.maxDeltaNs) / 1e6} ms)`);
    assert.equal(a.result.interfaces.length, 1);
    assert.equal(a.result.interfaces[0]!.linktype, 1);
    assert.ok(a.packets.every((p) => p.flags === 1 || p.flags === 2), 'every EPB carries a direction');

    const { stderr } = await tshark(['-r', ours, '-q', '-z', 'io,stat,0']);
    assert.equal(tsharkWarnings(stderr), '', 'tshark reads the file without a warning');
  } finally {
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
});
