/**
 * The recorder's life cycle on a real kernel, each case in its own pair of network namespaces:
 * rotation against tcpdump's count, ring-full drops, SIGKILL and SIGTERM, errors without privileges or
 * with an unknown interface, a full disk, and `-i any`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { cliPath, fixturesDir } from '../support/paths.js';
import { tshark, tsharkOnCutFile } from '../support/tshark.js';
import { netnsUnavailableReason, withNetnsPair, type NetnsPair } from '../support/netns.js';
import { waitForExit } from '../support/processes.js';
import { burstWhileStopped, readAll, startAndWait, startRecorder, startTcpdump, stop, tmpFile, tsharkWarnings, type Started } from './recorder-support.js';

const run = promisify(execFile);
const skip = netnsUnavailableReason() ?? false;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function removeAll(base: string): void {
  const dir = path.dirname(base);
  for (const f of readdirSync(dir)) if (f.startsWith(path.basename(base))) rmSync(path.join(dir, f), { force: true });
}

function bulk(pair: NetnsPair, seconds: number): void {
  const server = pair.spawn(pair.b, 'iperf3', ['-s', '-1', '-p', '5202']);
  try {
    pair.exec(pair.a, 'sh', ['-c', `sleep 0.3; iperf3 -c ${pair.addrB} -p 5202 -t ${seconds} >/dev/null`], 60_000);
  } finally {
    server.kill('SIGKILL');
  }
}

/** Parses the exit summary: "N packets captured / M packets seen by filter ... / K packets dropped by ring buffer". */
function summary(stderr: string): { captured: number; kept: number; dropped: number } {
  const captured = /(\d+) packets captured/.exec(stderr);
  const kept = /(\d+) packets seen by filter/.exec(stderr);
  const dropped = /(\d+) packets dropped by ring buffer/.exec(stderr);
  assert.ok(captured && kept && dropped, `summary in stderr: ${stderr}`);
  return { captured: Number(captured[1]), kept: Number(kept[1]), dropped: Number(dropped[1]) };
}

test('-C 1: at least 3 files, each valid alone, together exactly tcpdump\'s packets', { skip, timeout: 120_000 }, async () => {
  const base = tmpFile('rot.pcapng');
  const theirs = tmpFile('rot.tcpdump.pcap');
  try {
    let files: string[] = [];
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', base, '-C', '1']);
      const td = await startTcpdump(pair, pair.b, pair.vethB, theirs, 256);
      bulk(pair, 3);
      await sleep(1500);
      assert.equal(await stop(rec), 0, rec.stderr());
      assert.equal(await stop(td), 0, td.stderr());
    });
    files = readdirSync(path.dirname(base)).filter((f) => f.startsWith(path.basename(base))).sort((x, y) => x.length - y.length || x.localeCompare(y)).map((f) => path.join(path.dirname(base), f));
    assert.ok(files.length >= 3, `${files.length} files`);
    let total = 0;
    // A packet written twice at a rotation boundary repeats both its timestamp and its bytes. The
    // timestamp alone is no identity: two CPUs can stamp two packets in the same nanosecond.
    const identities: string[] = [];
    for (const f of files) {
      const { result, packets } = await readAll(f);
      assert.equal(result.error, null, `${f} is valid on its own`);
      assert.equal(result.interfaces.length, 1);
      assert.notEqual(result.interfaces[0]!.recv, null, `${f} ends with an ISB`);
      total += packets.length;
      identities.push(...packets.map((p) => `${p.tsNs}:${p.data.toString('hex')}`));
      assert.equal(tsharkWarnings((await tshark(['-r', f, '-q'])).stderr), '');
    }
    const td = await readAll(theirs);
    assert.equal(total, td.packets.length, 'files together hold exactly the packets tcpdump saw');
    assert.equal(new Set(identities).size, identities.length, 'no packet appears twice');
  } finally {
    removeAll(base);
    rmSync(theirs, { force: true });
  }
});

test('a 4 KiB ring under a --topspeed burst drops; drops are in the summary and the ISB; captured + dropped == kept', { skip, timeout: 120_000 }, async () => {
  const out = tmpFile('drops.pcapng');
  try {
    let stderr = '';
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out, '--ring-mb', '0.00390625']);
      // The burst arrives while the recorder is stopped (a stalled reader, for real): the ring must drop.
      await burstWhileStopped(rec, () =>
        pair.exec(pair.a, process.execPath, [cliPath, 'replay', path.join(fixturesDir, 'http-loopback.pcapng'), '-i', pair.vethA, '--topspeed', '--loop', '300']));
      await sleep(500);
      assert.equal(await stop(rec), 0, rec.stderr());
      stderr = rec.stderr();
    });
    const s = summary(stderr);
    assert.ok(s.dropped > 0, `drops reported (${stderr})`);
    assert.equal(s.captured + s.dropped, s.kept, 'captured + dropped == kept by the filter');
    const { result, packets } = await readAll(out);
    assert.equal(packets.length, s.captured);
    assert.equal(result.interfaces[0]!.drop, s.dropped, 'the ISB carries the drops');
    assert.ok(s.kept >= 36 * 300, 'every replayed frame reached the filter');
  } finally {
    rmSync(out, { force: true });
  }
});

test('SIGKILL mid-run leaves a file tshark reads; SIGTERM leaves a complete file with ISBs', { skip, timeout: 120_000 }, async () => {
  const killed = tmpFile('kill.pcapng');
  const termed = tmpFile('term.pcapng');
  try {
    let termStderr = '';
    await withNetnsPair(async (pair) => {
      const k = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', killed]);
      const t = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', termed]);
      const server = pair.spawn(pair.b, 'iperf3', ['-s', '-1', '-p', '5203']);
      await sleep(300);
      const client = pair.spawn(pair.a, 'iperf3', ['-c', pair.addrB, '-p', '5203', '-t', '3']);
      await sleep(2000); // traffic is flowing and at least one periodic flush has happened
      // ip netns exec replaces itself with node, so the child's PID is the recorder's.
      await stop(k, 'SIGKILL');
      assert.equal(await stop(t, 'SIGTERM'), 0, t.stderr());
      termStderr = t.stderr();
      client.kill('SIGKILL');
      server.kill('SIGKILL');
    });
    const { stdout, stderr } = await tsharkOnCutFile(['-r', killed, '-T', 'fields', '-e', 'frame.number']);
    const tsharkFrames = stdout.trim().split('\n').filter((l) => l.length > 0).length;
    assert.ok(tsharkFrames > 100, 'packets recorded before the kill are on disk');
    // The writer only ever writes whole blocks, but the kernel checks for a fatal signal between the
    // pages of one write() (generic_perform_write), so a SIGKILL can still leave the file ending inside
    // a block. What must hold: every whole block reads, and the only complaint is that cut at the end.
    const warnings = tsharkWarnings(stderr);
    const ours = await readAll(killed);
    if (warnings !== '') {
      assert.match(warnings, /^tshark: The file ".*" appears to have been cut short in the middle of a packet\.$/, 'no complaint but a cut at the end');
      assert.ok(ours.result.partial && ours.result.error !== null, 'our reader reports the cut too');
    } else {
      assert.equal(ours.result.error, null, 'a file tshark reads cleanly reads cleanly here');
    }
    assert.equal(ours.packets.length, tsharkFrames, 'tshark and our reader recover the same whole packets');
    const term = await readAll(termed);
    assert.equal(term.result.error, null);
    assert.equal(term.packets.length, summary(termStderr).captured);
    assert.notEqual(term.result.interfaces[0]!.recv, null, 'ISB written at SIGTERM');
  } finally {
    rmSync(killed, { force: true });
    rmSync(termed, { force: true });
  }
});

test('a full disk (a 256 KiB tmpfs): one-line error, exit 1, and the file ends with its last whole block', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-full-'));
  const out = path.join(dir, 'full.pcapng');
  let mounted = false;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tcplens-full', dir]);
    mounted = true;
    let rec: Started | undefined;
    await withNetnsPair(async (pair) => {
      rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out, '-s', '128']);
      bulk(pair, 2);
      assert.equal(await waitForExit(rec, 20_000), 1, `the recorder stops by itself: ${rec.stderr()}`);
    });
    const lines = rec!.stderr().split('\n').filter((l) => l.length > 0 && !l.startsWith('{'));
    // The summary (counters up to the failure), then the one error line.
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0]!, /^\d+ packets captured$/);
    assert.equal(lines[3], `tcplens: ${out}: write failed: no space left on device`);
    const ours = await readAll(out);
    assert.equal(ours.result.error, null, 'cut back to a whole block: the file reads to its end');
    assert.ok(ours.packets.length > 500, `${ours.packets.length} packets kept before the disk filled`);
    assert.equal(tsharkWarnings((await tshark(['-r', out, '-q'])).stderr), '');
  } finally {
    if (mounted) await run('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without privileges, and on an unknown interface: one line on stderr, exit 1, no file', { skip, timeout: 60_000 }, async () => {
  const out = tmpFile('nopriv.pcapng');
  const asNobody = await run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, cliPath, 'record', '-i', 'lo', '-w', out])
    .then(() => assert.fail('record as nobody must fail'), (e: { code: number; stderr: string }) => e);
  assert.equal(asNobody.code, 1);
  assert.equal(asNobody.stderr.trim().split('\n').length, 1, asNobody.stderr);
  assert.match(asNobody.stderr, /^tcplens: record needs CAP_NET_RAW .*, CAP_BPF .* and CAP_PERFMON /);
  assert.equal(existsSync(out), false, 'no file is created when capture cannot start');

  const unknown = await run(process.execPath, [cliPath, 'record', '-i', 'tcplens-nope0', '-w', out])
    .then(() => assert.fail('an unknown interface must fail'), (e: { code: number; stderr: string }) => e);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'tcplens: unknown interface: tcplens-nope0\n');
  rmSync(out, { force: true });
});

test('-i any: one IDB per interface that carried packets; lo packets once each, as tcpdump records them', { skip, timeout: 120_000 }, async () => {
  const out = tmpFile('any.pcapng');
  const loDump = tmpFile('lo.tcpdump.pcap');
  try {
    let vethName = '';
    await withNetnsPair(async (pair) => {
      vethName = pair.vethB;
      const rec = await startRecorder(pair, pair.b, ['-i', 'any', '-w', out]);
      const td = await startTcpdump(pair, pair.b, 'lo', loDump, 256);
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
      for (let i = 0; i < 5; i++) {
        pair.exec(pair.b, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', 'http://127.0.0.1:8081/']);
        pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8081/`]);
      }
      await sleep(1500);
      assert.equal(await stop(rec), 0, rec.stderr());
      assert.equal(await stop(td), 0, td.stderr());
    });
    const { result, packets } = await readAll(out);
    assert.equal(result.error, null);
    const names = result.interfaces.map((i) => i.name).sort();
    assert.deepEqual(names, [vethName, 'lo'].sort(), 'one IDB for each interface that carried packets');
    const loId = result.interfaces.find((i) => i.name === 'lo')!.id;
    const onLo = packets.filter((p) => p.interfaceId === loId).length;
    const td = await readAll(loDump);
    assert.equal(onLo, td.packets.length, 'each lo packet recorded once');
    assert.ok(packets.some((p) => p.interfaceId !== loId), 'veth packets recorded too');
  } finally {
    rmSync(out, { force: true });
    rmSync(loDump, { force: true });
  }
});
