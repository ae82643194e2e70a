/**
 * `tcplens conns` as a user runs it: the conn.log columns and performance figures in table, JSON and CSV,
 * `--format zeek` (Zeek's ASCII log with the header lines zeek-cut reads, here read back the way zeek-cut
 * does: #separator, then #fields names the columns), and `--where` restricting the connections.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { corpusDir } from '../support/paths.js';

const missingSyn = path.join(corpusDir, 'zeek/tcp/missing-syn.pcap');
const bulk = path.join(corpusDir, 'zeek/http/206_example_b.pcap');

/** Reads a Zeek ASCII log as zeek-cut does: the separator from #separator, column names from #fields. */
function readZeekLog(text: string): { fields: string[]; types: string[]; rows: Record<string, string>[] } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const sepLine = lines.find((l) => l.startsWith('#separator '));
  assert.ok(sepLine, 'a #separator line');
  const sep = String.fromCharCode(parseInt(sepLine.slice('#separator \\x'.length), 16));
  const fields = lines.find((l) => l.startsWith(`#fields${sep}`))!.split(sep).slice(1);
  const types = lines.find((l) => l.startsWith(`#types${sep}`))!.split(sep).slice(1);
  for (const h of ['#set_separator', '#empty_field', '#unset_field', '#path', '#open', '#close']) {
    assert.ok(lines.some((l) => l.startsWith(`${h}${sep}`)), `header line ${h}`);
  }
  const rows = lines.filter((l) => !l.startsWith('#')).map((l) => {
    const cells = l.split(sep);
    assert.equal(cells.length, fields.length, 'every row has one cell per #fields column');
    return Object.fromEntries(fields.map((f, i) => [f, cells[i]!]));
  });
  return { fields, types, rows };
}

test('--format zeek: a conn.log with the values Zeek logs for the same trace', async () => {
  const r = await runCli(['conns', missingSyn, '--format', 'zeek']);
  assert.equal(r.status, 0, r.stderr);
  const log = readZeekLog(r.stdout);
  assert.deepEqual(log.fields.slice(0, 8), ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service']);
  assert.equal(log.types[log.fields.indexOf('ts')], 'time');
  assert.equal(log.rows.length, 1);
  const c = log.rows[0]!;
  // Zeek's baseline for this trace (test/flows/zeek-baselines/core.history-flip.conn.log).
  assert.equal(c['id.orig_h'], '141.42.64.125');
  assert.equal(c['id.orig_p'], '56730');
  assert.equal(c['id.resp_h'], '125.190.109.199');
  assert.equal(c['id.resp_p'], '80');
  assert.equal(c['proto'], 'tcp');
  assert.equal(c['conn_state'], 'SF');
  assert.equal(c['history'], '^hADdFaf');
  assert.equal(c['orig_bytes'], '98');
  assert.equal(c['resp_bytes'], '9417');
  assert.equal(c['orig_pkts'], '11');
  assert.equal(c['orig_ip_bytes'], '670');
  assert.equal(c['resp_pkts'], '10');
  assert.equal(c['resp_ip_bytes'], '9945');
  assert.match(c['uid']!, /^C[0-9A-Za-z]{16}$/);
  assert.match(c['ts']!, /^\d+\.\d{6}$/);
});

test('json and csv carry every column; the table a readable subset', async () => {
  const json = await runCli(['conns', bulk, '--format', 'json']);
  assert.equal(json.status, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
  assert.equal(rows.length, 2);
  const big = rows.find((r) => r['id.resp_h'] === '65.54.95.206')!;
  assert.equal(big['conn_state'], 'RSTR');
  assert.ok(Number(big['resp_rtt_samples']) > 0 && Number(big['resp_rtt_avg_ms']) > 0, 'RTT from ACKs of the server data');
  assert.ok(Number(big['resp_retrans_segments']) > 0, 'the server retransmitted');
  assert.ok(Number(big['resp_unique_bytes']) > 1_000_000);
  assert.ok(Number(big['resp_bif_max']) > 0);
  assert.ok(['receiver_window', 'loss', 'sender_application', 'network'].includes(String(big['resp_limited_by'])));
  const csv = await runCli(['conns', bulk, '--format', 'csv']);
  const [header, ...lines] = csv.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(header!.split(','), Object.keys(rows[0]!));
  const table = await runCli(['conns', bulk], { env: { TCPLENS_COLUMNS: '400' } });
  assert.match(table.stdout.split('\n')[0]!, /^ts\s+uid\s+id\.orig_h/);
});

test('--where restricts the connections; bad SQL is a usage error', async () => {
  const r = await runCli(['conns', bulk, '--where', 'server_retrans_segments > 0', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!['id.resp_h'], '65.54.95.206');
  const bad = await runCli(['conns', bulk, '--where', 'no_such_column = 1']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--where/);
  assert.equal(bad.stdout, '');
});

test('seq, scans and analyze take --where: only the matching connections, their packets and flags', async () => {
  const all = await runCli(['seq', bulk, '--frames', '--format', 'json']);
  const one = await runCli(['seq', bulk, '--frames', '--format', 'json', '--where', "f.server = '65.54.95.14'"]);
  assert.equal(one.status, 0, one.stderr);
  const allRows = JSON.parse(all.stdout) as Record<string, unknown>[];
  const oneRows = JSON.parse(one.stdout) as Record<string, unknown>[];
  assert.ok(oneRows.length > 0 && oneRows.length < allRows.length);
  assert.ok(oneRows.every((r) => r['src'] === '65.54.95.14' || r['dst'] === '65.54.95.14'));
  assert.deepEqual(oneRows, allRows.filter((r) => r['src'] === '65.54.95.14' || r['dst'] === '65.54.95.14'));

  const report = await runCli(['analyze', bulk, '--format', 'json', '--where', "f.server = '65.54.95.14'"]);
  assert.equal(report.status, 0, report.stderr);
  const doc = JSON.parse(report.stdout) as { states: { connections: number }[] };
  assert.equal(doc.states.reduce((n, s) => n + s.connections, 0), 1);

  const scans = await runCli(['scans', bulk, '--where', 'no_such_column > 0']);
  assert.equal(scans.status, 2);
  assert.match(scans.stderr, /--where/);
});

test("analyze shows the busiest connections' performance: the bulk direction's figures, as conns has them", async () => {
  const report = await runCli(['analyze', bulk, '--format', 'json', '--top', '3']);
  assert.equal(report.status, 0, report.stderr);
  const rows = (JSON.parse(report.stdout) as { performance: Record<string, unknown>[] }).performance;
  assert.ok(rows.length > 0 && rows.length <= 3);
  const conns = JSON.parse((await runCli(['conns', bulk, '--format', 'json'])).stdout) as Record<string, unknown>[];
  for (const row of rows) {
    const conn = conns.find((c) => c['uid'] === row['uid'])!;
    assert.ok(conn, `conns has ${String(row['uid'])}`);
    const side = row['bulk'] === 'server->client' ? 'resp' : 'orig';
    assert.ok(Number(conn[`${side}_bytes`] ?? 0) >= Number(conn[`${side === 'resp' ? 'orig' : 'resp'}_bytes`] ?? 0), 'the bulk side sent more');
    for (const f of ['rtt_avg_ms', 'retrans_segments', 'throughput_bps']) assert.equal(row[f], conn[`${side}_${f}`], `${f} of ${String(row['uid'])}`);
    assert.equal(row['limited_by'], conn['limited_by']);
  }
  assert.ok(rows.some((r) => typeof r['rtt_avg_ms'] === 'number'), 'RTT measured on the busiest connections');
  const bytes = rows.map((r) => Number(r['bytes']));
  assert.deepEqual(bytes, [...bytes].sort((a, b) => b - a), 'busiest first');
});
