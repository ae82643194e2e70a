/**
 * Tables for people (analyzer/cli/output.ts): they fit the terminal width - 80 and 200 columns, set with
 * TCPLENS_COLUMNS and, once, through a real pseudo-terminal (`script`) whose size tcplens reads from
 * process.stdout.columns - and `--wide` shows everything. Numbers get units and separators in tables
 * only; JSON and CSV keep the raw values; empty results say (none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { cliPath, fixturesDir } from '../support/paths.js';

const SCANS = path.join(fixturesDir, 'scans/scan-syn.pcap');
const ANOMALIES = path.join(fixturesDir, 'scans/anomalies.pcap');

const COMMANDS: string[][] = [
  ['info', SCANS, ANOMALIES],
  ['analyze', SCANS, ANOMALIES],
  ['scans', SCANS],
  ['scans', ANOMALIES, '--show', 'anomalies,isn'],
  ['seq', ANOMALIES],
  ['query', ANOMALIES, 'SELECT * FROM flows ORDER BY flow_id LIMIT 20'],
  ['query', ANOMALIES, 'SELECT * FROM packets ORDER BY frame LIMIT 20'],
];

/** Characters as a terminal shows them (… and µ are one column each). */
function width(line: string): number {
  return [...line].length;
}

for (const columns of [80, 200]) {
  for (const args of COMMANDS) {
    test(`${args[0]} ${args.slice(-2).join(' ').replace(fixturesDir, '')}: every line fits ${columns} columns`, async () => {
      const r = await runCli(args, { env: { TCPLENS_COLUMNS: String(columns) } });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.ok(lines.length > 2);
      for (const line of lines) assert.ok(width(line) <= columns, `${width(line)} > ${columns}: ${line}`);
    });
  }
}

test('at 200 columns the flows query is a table; at 80 it is one record per row; --wide is one long table', async () => {
  const args = ['query', ANOMALIES, 'SELECT * FROM flows ORDER BY flow_id LIMIT 3'];
  const narrow = await runCli(args, { env: { TCPLENS_COLUMNS: '80' } });
  assert.match(narrow.stdout, /^-\[ row 1 \]-+\nflow_id\s+1\n/);
  const at200 = await runCli(['query', ANOMALIES, 'SELECT flow_id, client, cport, server, sport, first_ts, packets, bytes, state, history FROM flows ORDER BY flow_id LIMIT 3'], { env: { TCPLENS_COLUMNS: '200' } });
  assert.match(at200.stdout, /^flow_id\s+client\s+cport\s+server\s+sport\s+first_ts\s+packets\s+bytes\s+state\s+history\n-+/);
  const wide = await runCli([...args, '--wide'], { env: { TCPLENS_COLUMNS: '80' } });
  const [header, , first] = wide.stdout.split('\n');
  assert.ok(width(header!) > 200, 'every column in full');
  assert.match(first!, /2026-11-23T04:56:58\.\d{9}Z/);
});

test('a long text column is shortened with an ellipsis, numbers and timestamps never', async () => {
  const r = await runCli(['query', ANOMALIES, "SELECT 1 AS n, repeat('x', 300) AS detail, TIMESTAMP_NS '2026-11-23 04:40:42.778994597' AS ts"], { env: { TCPLENS_COLUMNS: '80' } });
  const row = r.stdout.split('\n')[2]!;
  assert.equal(width(row), 80);
  assert.match(row, /^1 {2}x+… {2}2026-11-23T04:40:42\.778994597Z$/);
});

test('units, separators and flag notation in tables only; JSON and CSV keep raw numbers', async () => {
  const sql = `SELECT 1234567 AS packets, 3618 AS bytes, 5368709120 AS client_bytes, 0.0123 AS duration_s, 0.0000042 AS idle_s,
    51.759834 AS rate_per_s, 123456789.0 AS bit_rate, 31.25 AS rtt_ms, 2 AS flags, 18 AS tcp_flags, 17, 4 AS f, 80 AS sport, 3000000000 AS seq`;
  const q = (fmt: string) => runCli(['query', ANOMALIES, sql.replace(', 17, 4 AS f', ''), '--format', fmt, '--wide']);
  const table = (await q('table')).stdout;
  const row = table.split('\n')[2]!.trim().split(/\s{2,}/);
  assert.deepEqual(row, ['1,234,567', '3.53 KiB', '5 GiB', '12.3 ms', '4.2 µs', '51.8 /s', '123 Mbit/s', '31.3 ms', '[S]', '[S.]', '80', '3000000000']);
  const json = JSON.parse((await q('json')).stdout) as Record<string, number>[];
  assert.equal(json[0]!['packets'], 1234567);
  assert.equal(json[0]!['bytes'], 3618);
  assert.equal(json[0]!['flags'], 2);
  const csv = (await q('csv')).stdout.split('\n')[1];
  assert.equal(csv, '1234567,3618,5368709120,0.0123,0.0000042,51.759834,123456789,31.25,2,18,80,3000000000');
});

test('TCP flags of packets read as tcpdump prints them', async () => {
  const r = await runCli(['query', path.join(fixturesDir, 'flows/sf.pcap'), 'SELECT frame, src, sport, flags FROM packets ORDER BY frame']);
  const flags = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/).at(-1));
  assert.deepEqual(flags.slice(0, 4), ['[S]', '[S.]', '[.]', '[P.]']);
  assert.ok(flags.includes('[F.]'));
});

test('empty results say (none) in every table; JSON is [] and CSV the header', async () => {
  for (const args of [
    ['query', SCANS, 'SELECT * FROM flows WHERE false'],
    ['scans', path.join(fixturesDir, 'flows/sf.pcap')],
    ['scans', path.join(fixturesDir, 'flows/sf.pcap'), '--show', 'anomalies'],
    ['seq', path.join(fixturesDir, 'flows/sf.pcap')],
    ['seq', path.join(fixturesDir, 'flows/sf.pcap'), '--frames'],
  ]) {
    const table = await runCli(args);
    assert.equal(table.status, 0, table.stderr);
    assert.equal(table.stdout, '(none)\n', args.join(' '));
    const json = await runCli([...args, '--format', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), []);
  }
});

test('under a real terminal the table fits its width (process.stdout.columns)', { skip: spawnSync('script', ['--version']).status === 0 ? false : 'script(1) not installed (util-linux)' }, () => {
  const cmd = `stty cols 100 rows 50; ${process.execPath} ${cliPath} query ${ANOMALIES} 'SELECT * FROM packets ORDER BY frame LIMIT 5'`;
  const out = execFileSync('script', ['-qc', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TCPLENS_COLUMNS: '', COLUMNS: '' }, timeout: 60_000 });
  // stderr shares the terminal: drop the progress line's escape sequences.
  const lines = out.replace(/\r/g, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 3);
  for (const line of lines) assert.ok(width(line) <= 100, `${width(line)} > 100: ${line}`);
  assert.ok(lines.some((l) => width(l) > 80), 'uses the terminal width, not 80');
});
