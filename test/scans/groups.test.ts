/**
 * Decoy and distributed scans (analyzer/scans/groups.ts) on captures of real nmap runs
 * (fixtures/scans/make.sh): `nmap -D` with five decoys, and four nmap processes splitting ports 1-200.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { assertDecoyGroup, assertDistributedGroup, assertSplitGroup, scansOf } from './verdicts.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);

test('nmap -D with 5 decoys: one decoy group listing the 6 sources, each its own scan row', async () => {
  await assertDecoyGroup(fx('scan-decoy'));
});

test('four sources splitting ports 1-200 of one target: one distributed group of 4', async () => {
  await assertDistributedGroup(fx('scan-distributed'));
});

test('five sources probing 4 ports each (20 in all): no source reaches 15 ports, the group does: 5 rows', async () => {
  await assertSplitGroup(fx('scan-split'));
  // Alone, any one of them is no scan.
  assert.deepEqual(await scansOf(fx('scan-split'), ['--min-ports', '21']), []);
});

test('scan_groups (kept with --db) lists the decoy group\'s sources and scan ids', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-groups-'));
  try {
    const db = path.join(dir, 'decoy.duckdb');
    assert.equal((await runCli(['scans', fx('scan-decoy'), '--db', db])).status, 0);
    const q = await runCli(['query', db, 'SELECT group_id, kind, sources, source_list, scan_ids FROM scan_groups', '--format', 'json']);
    assert.equal(q.status, 0, q.stderr);
    assert.deepEqual(JSON.parse(q.stdout), [{
      group_id: 1, kind: 'decoy', sources: 6,
      source_list: ['10.199.1.24', '10.199.1.25', '10.199.1.26', '10.199.1.27', '10.199.1.28', '10.199.1.29'],
      scan_ids: [1, 2, 3, 4, 5, 6],
    }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every fixture loaded together: scans run one after another (the same ports, seconds apart) are no group', async () => {
  const names = ['scan-syn', 'scan-connect', 'scan-fin', 'scan-null', 'scan-xmas', 'scan-ack', 'scan-maimon', 'scan-window',
    'scan-slow', 'hping3', 'scan-os', 'masscan', 'zmap', 'scan-decoy', 'scan-distributed', 'scan-split'];
  const files = names.map(fx);
  const scans = (await scansOf(files[0]!, files.slice(1))) as unknown as { scanner: string; group_kind: string | null }[];
  const grouped = scans.filter((s) => s.group_kind !== null).map((s) => `${s.scanner} ${s.group_kind}`).sort();
  assert.deepEqual(grouped, [
    '10.199.1.24 decoy', '10.199.1.25 decoy', '10.199.1.26 decoy', '10.199.1.27 decoy', '10.199.1.28 decoy', '10.199.1.29 decoy',
    '10.199.4.1 distributed', '10.199.4.11 distributed', '10.199.4.12 distributed', '10.199.4.13 distributed',
    '10.199.4.14 distributed', '10.199.4.15 distributed', '10.199.4.2 distributed', '10.199.4.3 distributed', '10.199.4.4 distributed',
  ]);
});
