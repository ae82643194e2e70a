import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';
import { scansOf } from './verdicts.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);

test('--fail-on scan exits 4 on a scan and 0 on benign traffic, still printing the results', async () => {
  const scan = await runCli(['scans', fx('scan-syn'), '--fail-on', 'scan', '--format', 'json']);
  assert.equal(scan.status, 4, scan.stderr);
  assert.equal(JSON.parse(scan.stdout).length, 1);
  const benign = await runCli(['scans', fx('benign-http'), '--fail-on', 'scan']);
  assert.equal(benign.status, 0, benign.stderr);
});

test('--fail-on anomaly exits 4 on the anomalies fixture, 0 on a clean scan capture', async () => {
  assert.equal((await runCli(['scans', fx('anomalies'), '--fail-on', 'anomaly'])).status, 4);
  assert.equal((await runCli(['scans', fx('scan-syn'), '--fail-on', 'anomaly'])).status, 0);
  assert.equal((await runCli(['scans', fx('scan-syn'), '--fail-on', 'scan,anomaly'])).status, 4);
});

test('bad flags are usage errors (exit 2, one line, nothing on stdout)', async () => {
  for (const args of [['--min-ports', '0'], ['--min-hosts', 'x'], ['--window', '-1'], ['--fail-on', 'flood'], ['--method', 'cusum'], ['--show', 'all'], ['--format', 'xml']]) {
    const r = await runCli(['scans', fx('scan-syn'), ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('thresholds are flags: --min-ports above the probed count hides a vertical scan, --min-hosts above 24 hides the sweep', async () => {
  assert.equal((await scansOf(fx('scan-syn'), ['--min-ports', '203'])).length, 0);
  assert.equal((await scansOf(fx('scan-syn'), ['--min-ports', '202'])).length, 1);
  assert.equal((await scansOf(fx('scan-sweep'), ['--min-hosts', '25'])).length, 0);
  assert.equal((await scansOf(fx('scan-sweep'), ['--min-hosts', '24'])).length, 1);
});

test('--window splits a slow scan at gaps longer than the window (400 ms between probes)', async () => {
  const whole = await scansOf(fx('scan-slow'));
  assert.equal(whole.length, 1);
  assert.ok(Number(whole[0]!.rate_per_s) < 5, `slow scan rate ${whole[0]!.rate_per_s}/s`);
  assert.equal((await scansOf(fx('scan-slow'), ['--window', '0.2'])).length, 0);
  assert.equal((await scansOf(fx('scan-slow'), ['--window', '0.5'])).length, 1);
});

test('csv has a header and one line per scan; the table names the columns', async () => {
  const csv = await runCli(['scans', fx('hping3'), '--format', 'csv']);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines.length, 6);
  assert.match(lines[0]!, /^scan_id,scanner,kind,probe_types,targets,target_list,ports,port_ranges,open_ports/);
  const table = await runCli(['scans', fx('scan-sweep')]);
  assert.match(table.stdout, /horizontal/);
  assert.match(table.stdout, /\(24\)/);
});

test('--db keeps scans and scan_probes; scan_probes lists exactly the probe frames tshark sees', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-scans-'));
  try {
    const db = path.join(dir, 'scans.duckdb');
    assert.equal((await runCli(['scans', fx('scan-fin'), '--db', db])).status, 0);
    assert.equal(statSync(db).mode & 0o777, 0o600);
    const q = await runCli(['query', db, 'SELECT frame FROM scan_probes ORDER BY frame', '--format', 'csv']);
    assert.equal(q.status, 0, q.stderr);
    const ours = q.stdout.trim().split('\n').slice(1).map(Number);
    const theirs = (await tsharkFields(fx('scan-fin'), ['frame.number'], 'ip.src == 10.199.1.3 && tcp.flags == 0x001')).map((r) => Number(r[0]));
    assert.deepEqual(ours, theirs);
    const s = await runCli(['query', db, 'SELECT scanner, kind FROM scans', '--format', 'json']);
    assert.deepEqual(JSON.parse(s.stdout), [{ scanner: '10.199.1.3', kind: 'vertical' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only database still answers (scans become session tables)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-scans-'));
  try {
    const db = path.join(dir, 'plain.duckdb');
    assert.equal((await runCli(['query', fx('scan-xmas'), 'SELECT 1', '--db', db])).status, 0);
    const r = await runCli(['scans', db, '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout)[0].scanner, '10.199.1.5');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
