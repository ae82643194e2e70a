/**
 * `tcplens info` through the real CLI: the JSON contract (keys, ISO timestamps with 9 fraction digits,
 * interfaces, ISB drops) on the repo's own fixture and on corpus files, checked against tshark/capinfos
 * values rather than numbers written here by hand where the oracle can give them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { corpusDir, fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';
import { endOfOptions, epb, idb, isb, shb, tcpSynFrame, textOption } from './build-capture.js';

interface Info {
  path: string; format: string; packets: number; tcp_packets: number;
  interfaces: Array<{ name: string | null; linktype: number; snaplen: number; tsresol: string; recv: number | null; drop: number | null }>;
  first_ts: string | null; last_ts: string | null; drops: number | null; partial: boolean; warnings: string[];
}

async function info(...files: string[]): Promise<Info[]> {
  const r = await runCli(['info', '--format', 'json', ...files]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as Info[];
}

/** tshark's frame.time_epoch ("S.F") as ISO 8601 with 9 fraction digits. */
function isoFromEpoch(epoch: string): string {
  const [sec, frac = ''] = epoch.split('.');
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.padEnd(9, '0')}Z`;
}

test('info on fixtures/http-loopback.pcapng matches tshark: counts, interface, first/last time, ISB drops', async () => {
  const file = path.join(fixturesDir, 'http-loopback.pcapng');
  const [i] = await info(file);
  const frames = await tsharkFields(file, ['frame.time_epoch', 'tcp.srcport']);
  assert.equal(i!.format, 'pcapng');
  assert.equal(i!.packets, frames.length);
  assert.equal(i!.tcp_packets, frames.filter((f) => f[1] !== '').length);
  assert.deepEqual(i!.interfaces.map((x) => [x.name, x.linktype, x.snaplen, x.tsresol]), [['lo', 1, 262144, '1e-9']]);
  assert.equal(i!.first_ts, isoFromEpoch(frames[0]![0]!));
  assert.equal(i!.last_ts, isoFromEpoch(frames.at(-1)![0]!));
  assert.match(i!.first_ts!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  // dumpcap wrote an ISB at the end: received = every packet, none dropped.
  assert.equal(i!.interfaces[0]!.recv, frames.length);
  assert.equal(i!.drops, 0);
  assert.equal(i!.partial, false);
  assert.deepEqual(i!.warnings, []);
});

test('info takes each interface\'s last ISB and sums isb_ifdrop over sections; null without ISBs', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-info-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const withIsb = path.join(dir, 'isb.pcapng');
  const frame = tcpSynFrame();
  writeFileSync(withIsb, Buffer.concat([
    shb(), idb({ snaplen: 65535, options: [textOption(2, 'eth0'), endOfOptions()] }),
    epb({ units: 1700000000000000n, data: frame }),
    isb({ recv: 100n, drop: 3n }),
    isb({ recv: 120n, drop: 7n }), // a later ISB for the same interface replaces the earlier one
    shb({ le: false }), idb({ le: false }), idb({ le: false, snaplen: 96 }),
    isb({ le: false, ifId: 1, recv: 50n, drop: 5n }),
  ]));
  const noIsb = path.join(corpusDir, 'tcpdump/tcp-handshake-nano.pcap');
  const [a, b] = await info(withIsb, noIsb);
  assert.deepEqual(a!.interfaces.map((x) => [x.name, x.recv, x.drop]), [['eth0', 120, 7], [null, null, null], [null, 50, 5]]);
  assert.equal(a!.drops, 12);
  assert.equal(a!.tcp_packets, 1);
  assert.equal(b!.drops, null);
  assert.deepEqual(b!.interfaces.map((x) => x.tsresol), ['1e-9']);
  const table = await runCli(['info', withIsb, noIsb, '--wide']);
  assert.equal(table.status, 0);
  assert.match(table.stdout, /^path\s+format\s+packets\s+tcp_packets/);
  assert.equal(table.stdout.trim().split('\n').length, 4);
});

test('info --format rejects an unknown format with a usage error (exit 2)', async () => {
  const r = await runCli(['info', '--format', 'xml', path.join(fixturesDir, 'http-loopback.pcapng')]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
