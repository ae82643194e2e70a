/**
 * The recorder against tcpdump on the same veth end at the same time, with real traffic: HTTP requests to
 * a local server over IPv4 and IPv6, a short iperf3 run and an nmap SYN scan of 200 ports. Both must see the same TCP
 * packets, with the same bytes through the TCP header; tshark must read the tcplens file without a warning.
 *
 * Timestamps: two tcpdumps (nanosecond stamps) run, one started before the recorder and one after. The
 * kernel hands a packet to the capture sockets of a device one after another, the last opened first.
 * Where the kernel stamped the packet (every outgoing copy, and received packets the stack did not stamp
 * with a delivery time), all three must carry the same stamp to the nanosecond. Where each socket reads
 * the clock itself (TCP segments from the other namespace carry a monotonic delivery time, which
 * AF_PACKET replaces with "now"), the recorder's stamp must lie between the two tcpdumps' own. That holds
 * however long the machine leaves the CPU away between two sockets: CI once saw 13 ms, a stolen vCPU
 * between tcpdump's read of the clock and the recorder's, when this test asked for 1 ms.
 */
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { tshark } from '../support/tshark.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { expectedTimestampSource, matchByHeaders, readAll, startAndWait, startRecorder, startTcpdump, stop, tmpFile, tsharkWarnings, type Started } from './recorder-support.js';

const skip = netnsUnavailableReason();

test('record matches tcpdump on a veth carrying HTTP, iperf3 and an nmap SYN scan', { skip: skip ?? false, timeout: 180_000 }, async (t) => {
  const ours = tmpFile('veth.pcapng');
  const early = tmpFile('veth.early.pcap');
  const late = tmpFile('veth.late.pcap');
  let rec: Started | undefined;
  try {
    await withNetnsPair(async (pair) => {
      const tdEarly = await startTcpdump(pair, pair.b, pair.vethB, early, 256, 'tcp', 'nano');
      rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', ours, '-s', '256'], { env: { TCPLENS_LOG: 'debug' } });
      const tdLate = await startTcpdump(pair, pair.b, pair.vethB, late, 256, 'tcp', 'nano');

      // HTTP: a local server in b, twenty requests from a.
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8080', '--bind', pair.addrB], /Serving HTTP/);
      for (let i = 0; i < 20; i++) pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8080/`]);
      // and over IPv6
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8086', '--bind', pair.addr6B], /Serving HTTP/);
      for (let i = 0; i < 5; i++) pair.exec(pair.a, 'curl', ['-s', '-g', '-o', '/dev/null', '--max-time', '5', `http://[${pair.addr6B}]:8086/`]);
      // A short bulk transfer, paced at 200 Mbit/s.
      const iperfServer = pair.spawn(pair.b, 'iperf3', ['-s', '-1', '-p', '5201']);
      await new Promise((r) => setTimeout(r, 500));
      pair.exec(pair.a, 'iperf3', ['-c', pair.addrB, '-p', '5201', '-t', '1', '-b', '200M'], 30_000);
      iperfServer.kill('SIGKILL');
      // A SYN scan of 200 ports.
      pair.exec(pair.a, 'nmap', ['-sS', '-n', '-Pn', '-p', '1-200', pair.addrB], 60_000);
      await new Promise((r) => setTimeout(r, 1500)); // both readers catch up with the last RSTs

      assert.equal(await stop(rec, 'SIGINT'), 0, rec.stderr());
      assert.equal(await stop(tdEarly, 'SIGINT'), 0, tdEarly.stderr());
      assert.equal(await stop(tdLate, 'SIGINT'), 0, tdLate.stderr());
      assert.match(rec.stderr(), /(\d+) packets captured\n/);
    });

    assert.equal(statSync(ours).mode & 0o777, 0o600, 'tcplens files are created 0600');
    const a = await readAll(ours);
    const b = await readAll(early);
    const c = await readAll(late);
    for (const r of [a, b, c]) assert.equal(r.result.error, null);
    assert.ok(b.packets.length > 1000, `enough traffic was seen (${b.packets.length} packets)`);
    assert.ok(a.packets.filter((p) => p.data.readUInt16BE(12) === 0x86dd).length >= 5 * 6, 'IPv6 segments recorded');
    assert.equal(a.packets.length, b.packets.length, 'the same number of TCP packets as tcpdump');
    assert.equal(c.packets.length, b.packets.length, 'the two tcpdumps saw the same packets');
    const before = matchByHeaders(a.packets, c.packets); // tcpdump opened last: handed each packet first
    const after = matchByHeaders(a.packets, b.packets); // tcpdump opened first: handed each packet last
    for (const m of [before, after]) {
      assert.equal(m.unmatchedA, 0, 'every tcplens packet has a tcpdump twin with the same bytes through the TCP header');
      assert.equal(m.unmatchedB, 0);
    }
    t.diagnostic(`tcplens minus tcpdump: ${before.minSignedNs}..${before.maxSignedNs} ns (opened after it), ${after.minSignedNs}..${after.maxSignedNs} ns (opened before it); ${before.equal} of ${before.matched} stamps equal`);

    const source = /"timestamps":"(\w+)"/.exec(rec!.stderr())?.[1];
    if (expectedTimestampSource() === 'packet') assert.equal(source, 'packet', 'Linux 6.2+ as root: each packet\'s own timestamp');
    if (source === 'packet') {
      assert.ok(before.minSignedNs >= 0n, `no tcplens stamp before the stamp of the tcpdump handed the packet first (by ${-before.minSignedNs} ns)`);
      assert.ok(after.maxSignedNs <= 0n, `no tcplens stamp after the stamp of the tcpdump handed the packet last (by ${after.maxSignedNs} ns)`);
      const outgoing = a.packets.filter((p) => p.flags === 2).length;
      assert.ok(outgoing > 100, `outgoing packets seen (${outgoing})`);
      assert.ok(before.equal >= outgoing && after.equal >= outgoing, `every outgoing copy, stamped once by the kernel for all sockets, has tcpdump's stamp (${before.equal}, ${after.equal} of ${outgoing})`);
    } else {
      // The program that stamps packets as it runs (before Linux 6.2): the clock offset's accuracy.
      t.diagnostic(`timestamps taken as the filter runs (${source}): checked against tcpdump within 1 ms`);
      assert.ok(after.maxDeltaNs < 1_000_000n, `timestamps agree within 1 ms (worst ${Number(after.maxDeltaNs) / 1e6} ms)`);
    }
    assert.equal(a.result.interfaces.length, 1);
    assert.equal(a.result.interfaces[0]!.linktype, 1);
    assert.ok(a.packets.every((p) => p.flags === 1 || p.flags === 2), 'every EPB carries a direction');

    const { stderr } = await tshark(['-r', ours, '-q', '-z', 'io,stat,0']);
    assert.equal(tsharkWarnings(stderr), '', 'tshark reads the file without a warning');
  } finally {
    for (const f of [ours, early, late]) rmSync(f, { force: true });
  }
});
