/**
 * The DuckDB loader against tshark (the oracle) and against itself: every TCP frame becomes exactly one
 * packets row with tshark's frame number and header values (across many 2048-row chunks, IPv4, IPv6,
 * VLAN, several captures in one database), a kept --db is not loaded twice, and an export to Parquet
 * reads back with the same rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openCaptures, openDatabase } from '../../analyzer/index.js';
import { exportTables } from '../../analyzer/cli/export.js';
import { tcpCorpusEntries } from '../support/corpus.js';
import { corpusDir, fixturesDir } from '../support/paths.js';
import { expectedTcpPackets, tsharkFields } from '../support/tshark.js';

const ECHO = path.join(corpusDir, 'zeek/echo-connections.pcap.gz');
const VLAN = path.join(corpusDir, 'zeek/vlan-collisions.pcap');
const IPV6 = path.join(corpusDir, 'zeek/ftp/ipv6.pcap');
const QINQ = path.join(corpusDir, 'zeek/pppoe-over-qinq.pcap');

function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'tcplens-db-test-'));
}

/** tshark prints every occurrence of a field (tunnels): the innermost is the last. */
function last(cell: string | undefined): string {
  const parts = (cell ?? '').split(',');
  return parts[parts.length - 1]!;
}

function epochNs(text: string): string {
  const [sec, frac = ''] = text.split('.');
  return (BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9))).toString();
}

test('packets rows equal tshark frame by frame (82k packets, IPv4, IPv6, VLAN, QinQ/PPPoE)', async () => {
  const files = [ECHO, VLAN, IPV6, QINQ];
  const lens = await openCaptures(files, { perFile: true });
  try {
    assert.deepEqual(lens.errors, []);
    for (const [i, file] of files.entries()) {
      const ours = await lens.query(
        `SELECT frame, epoch_ns(ts)::VARCHAR AS ts, src, dst, sport, dport, seq, ack, flags, win, payload_len, vlan
         FROM packets WHERE capture_id = ${lens.captures[i]!.captureId} ORDER BY frame`,
      );
      const theirs = await tsharkFields(file, [
        'frame.number', 'frame.time_epoch', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport',
        'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.window_size_value', 'tcp.len', 'vlan.id',
      ], 'tcp');
      assert.equal(ours.rows.length, theirs.length, `${file}: one row per TCP frame`);
      theirs.forEach((t, r) => {
        const o = ours.rows[r]!;
        const src = last(t[3]) || last(t[2]);
        const dst = last(t[5]) || last(t[4]);
        const expected = {
          frame: Number(t[0]), ts: epochNs(t[1]!), src, dst, sport: Number(last(t[6])), dport: Number(last(t[7])),
          seq: Number(last(t[8])), ack: Number(last(t[9])), flags: Number(last(t[10])) & 0xff, win: Number(last(t[11])),
          payload_len: Number(last(t[12])), vlan: t[13] ? Number(t[13].split(',')[0]) : null,
        };
        assert.deepEqual(o, expected, `${path.basename(file)} frame ${t[0]}`);
      });
    }
    const v6 = await lens.query(`SELECT count(*) AS n FROM packets WHERE ip_version = 6 AND src LIKE '%:%'`);
    assert.ok(Number(v6.rows[0]!['n']) > 0, 'IPv6 rows with IPv6 text');
  } finally {
    await lens.close();
  }
});

test('row counts equal the TCP packet counts of every readable TCP capture in the corpus', async () => {
  const entries = tcpCorpusEntries().filter((e) => e.tsharkStatus === 'ok');
  assert.ok(entries.length > 100);
  const lens = await openCaptures(entries.map((e) => e.absPath), { perFile: true });
  try {
    const counts = await lens.query('SELECT capture_id, count(*) AS n FROM packet_rows GROUP BY capture_id');
    const byId = new Map(counts.rows.map((r) => [r['capture_id'] as number, r['n'] as number]));
    const wrong: string[] = [];
    for (const [i, e] of entries.entries()) {
      if ((byId.get(lens.captures[i]!.captureId!) ?? 0) !== (await expectedTcpPackets(e))) wrong.push(e.path);
    }
    assert.deepEqual(wrong, []);
    // Every packet belongs to exactly one flow of its own capture, and flow totals add up.
    const orphan = await lens.query(
      `SELECT count(*) AS n FROM packet_rows p LEFT JOIN flows f ON f.flow_id = p.flow_id AND f.capture_id = p.capture_id WHERE f.flow_id IS NULL`,
    );
    assert.equal(orphan.rows[0]!['n'], 0);
    const sums = await lens.query(
      `SELECT (SELECT sum(packets) FROM flows) AS flow_packets, (SELECT count(*) FROM packet_rows) AS packets,
              (SELECT sum(client_packets) FROM flows) AS c, (SELECT count(*) FROM packet_rows WHERE from_client) AS pc`,
    );
    const s = sums.rows[0]!;
    assert.equal(s['flow_packets'], s['packets']);
    assert.equal(s['c'], s['pc']);
  } finally {
    await lens.close();
  }
});

test('with perFile, several captures in one database keep their own ids, frames and flows', async () => {
  const a = path.join(fixturesDir, 'flows/sf.pcap');
  const b = path.join(fixturesDir, 'flows/rej.pcap');
  const lens = await openCaptures([a, b, ECHO], { perFile: true });
  try {
    const r = await lens.query(
      `SELECT capture_id, count(*) AS packets, min(frame) AS first_frame, count(DISTINCT flow_id) AS flows
       FROM packets GROUP BY capture_id ORDER BY capture_id`,
    );
    assert.deepEqual(r.rows, [
      { capture_id: 1, packets: 12, first_frame: 1, flows: 1 },
      { capture_id: 2, packets: 2, first_frame: 1, flows: 1 },
      { capture_id: 3, packets: 82582, first_frame: 1, flows: 500 },
    ]);
    const caps = await lens.query('SELECT path, packets, tcp_packets, flows FROM captures ORDER BY capture_id');
    assert.deepEqual(caps.rows.map((c) => c['path']), [a, b, ECHO]);
  } finally {
    await lens.close();
  }
});

test("tables 'flows' and 'flags' (seq into a throw-away database) give the same flows and flags as a full load, each flag its flow in flag_flows", async () => {
  // ssh-dups has 92 frames that raise two flags each: flag_flows must still hold one row per frame.
  const inputs = [
    ECHO, path.join(corpusDir, 'zeek/tunnels/gre-aruba.pcap'), path.join(corpusDir, 'zeek/mysql/auth.pcap'),
    path.join(corpusDir, 'zeek/tcp/ssh-dups.pcap'),
  ];
  const full = await openCaptures(inputs);
  const slim = await openCaptures(inputs, { tables: 'flows' });
  const flagsOnly = await openCaptures(inputs, { tables: 'flags' });
  try {
    // seq's 'flows' load leaves the performance figures (client_*/server_* of analyzer/perf, limited_by) NULL.
    const figures = (await full.query(`SELECT column_name FROM duckdb_columns() WHERE table_name = 'flows'
      AND (column_name LIKE 'client\\_%' ESCAPE '\\' OR column_name LIKE 'server\\_%' ESCAPE '\\' OR column_name = 'limited_by')
      AND column_name NOT IN ('client_packets', 'server_packets', 'client_bytes', 'server_bytes', 'client_payload', 'server_payload',
                              'client_isn', 'server_isn')`)).rows.map((r) => String(r['column_name']));
    assert.ok(figures.length > 40, `the performance columns (${figures.length})`);
    const slimFigures = await slim.query(`SELECT count(*) AS n FROM flows WHERE ${figures.map((c) => `${c} IS NOT NULL`).join(' OR ')}`);
    assert.equal(Number(slimFigures.rows[0]!['n']), 0);
    for (const sql of [
      'SELECT * EXCLUDE (loaded_at) FROM captures ORDER BY capture_id',
      `SELECT * EXCLUDE (${figures.join(', ')}) FROM flows ORDER BY flow_id`,
      'SELECT capture_id, frame, flag::VARCHAR AS flag FROM tcp_analysis ORDER BY ALL',
    ]) {
      assert.deepEqual((await slim.query(sql)).rows, (await full.query(sql)).rows, sql);
    }
    const flagSql = 'SELECT capture_id, frame, flag::VARCHAR AS flag FROM tcp_analysis ORDER BY ALL';
    assert.deepEqual((await flagsOnly.query(flagSql)).rows, (await full.query(flagSql)).rows);
    const capSql = 'SELECT * EXCLUDE (loaded_at, flows) FROM captures ORDER BY capture_id';
    assert.deepEqual((await flagsOnly.query(capSql)).rows, (await full.query(capSql)).rows);
    assert.equal((await flagsOnly.query('SELECT count(*) AS n FROM packet_rows')).rows[0]!['n'], 0);
    const byPackets = await full.query(
      'SELECT DISTINCT a.capture_id, a.frame, p.flow_id FROM tcp_analysis a JOIN packet_rows p USING (capture_id, frame) ORDER BY ALL',
    );
    const multiFlag = await full.query('SELECT count(*) AS n FROM (SELECT capture_id, frame FROM tcp_analysis GROUP BY ALL HAVING count(*) > 1)');
    assert.ok(Number(multiFlag.rows[0]!['n']) > 50, 'frames with several flags are covered');
    assert.ok(byPackets.rows.length > 1000);
    assert.ok(new Set(byPackets.rows.map((r) => r['flow_id'])).size > 10, 'flags spread over many connections');
    assert.deepEqual((await slim.query('SELECT capture_id, frame, flow_id FROM flag_flows ORDER BY ALL')).rows, byPackets.rows);
    assert.equal((await slim.query('SELECT count(*) AS n FROM packet_rows')).rows[0]!['n'], 0);
  } finally {
    await full.close();
    await slim.close();
    await flagsOnly.close();
  }
  // A kept database is always complete: `tables` is ignored there.
  const dir = tmpDir();
  try {
    const kept = await openCaptures([ECHO], { db: path.join(dir, 'k.duckdb'), tables: 'flags' });
    try {
      assert.equal((await kept.query('SELECT count(*) AS n FROM packet_rows')).rows[0]!['n'], 82582);
    } finally {
      await kept.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reopening a --db does not load the same capture again', async () => {
  const dir = tmpDir();
  try {
    const dbFile = path.join(dir, 'keep.duckdb');
    const first = await openCaptures([ECHO], { db: dbFile });
    assert.equal(first.captures[0]!.reused, false);
    await first.close();
    assert.equal(statSync(dbFile).mode & 0o777, 0o600, 'database file is 0600');

    const again = await openCaptures([ECHO, path.join(fixturesDir, 'flows/s0.pcap')], { db: dbFile, perFile: true });
    try {
      assert.deepEqual(again.captures.map((c) => c.reused), [true, false]);
      const r = await again.query('SELECT count(*) AS captures, (SELECT count(*) FROM packets) AS packets FROM captures');
      assert.deepEqual(r.rows[0], { captures: 2, packets: 82583 });
    } finally {
      await again.close();
    }
    const ro = await openDatabase(dbFile);
    try {
      const r = await ro.query('SELECT count(*) AS n FROM flows');
      assert.equal(r.rows[0]!['n'], 501);
    } finally {
      await ro.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export to Parquet reads back in DuckDB with the same rows', async () => {
  const dir = tmpDir();
  const lens = await openCaptures([ECHO, IPV6]);
  try {
    const written = await exportTables(lens, dir, 'parquet');
    assert.deepEqual(written.map((w) => w['table']), ['captures', 'interfaces', 'packets', 'flows', 'tcp_analysis']);
    for (const w of written) {
      const file = w['file'] as string;
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const table = w['table'] as string;
      const diff = await lens.query(
        `SELECT (SELECT count(*) FROM read_parquet('${file}')) AS n,
                (SELECT count(*) FROM (SELECT * FROM ${table} EXCEPT ALL SELECT * FROM read_parquet('${file}'))) AS missing,
                (SELECT count(*) FROM (SELECT * FROM read_parquet('${file}') EXCEPT ALL SELECT * FROM ${table})) AS extra`,
      );
      assert.deepEqual(diff.rows[0], { n: w['rows'], missing: 0, extra: 0 }, table);
    }
  } finally {
    await lens.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pcapng with two interfaces: one interfaces row each, if_id per packet as tshark', async () => {
  const dir = tmpDir();
  try {
    const two = path.join(dir, 'two.pcapng');
    // mergecap -I none keeps one IDB per input file.
    execFileSync('mergecap', ['-I', 'none', '-F', 'pcapng', '-w', two, path.join(fixturesDir, 'flows/sf.pcap'), path.join(fixturesDir, 'flows/rej.pcap')]);
    const lens = await openCaptures([two]);
    try {
      const itf = await lens.query('SELECT if_id, linktype FROM interfaces ORDER BY if_id');
      assert.deepEqual(itf.rows, [{ if_id: 0, linktype: 1 }, { if_id: 1, linktype: 1 }]);
      const ours = await lens.query('SELECT frame, if_id FROM packets ORDER BY frame');
      const theirs = await tsharkFields(two, ['frame.number', 'frame.interface_id'], 'tcp');
      assert.deepEqual(ours.rows, theirs.map(([f, i]) => ({ frame: Number(f), if_id: Number(i) })));
      assert.equal((await lens.flows()).length, 2);
    } finally {
      await lens.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DuckDB file that is not a tcplens database is refused, not written to', async () => {
  const dir = tmpDir();
  try {
    const other = path.join(dir, 'other.duckdb');
    const inst = await DuckDBInstance.create(other);
    const conn = await inst.connect();
    await conn.run('CREATE TABLE mine (x INTEGER)');
    conn.closeSync();
    inst.closeSync();
    await assert.rejects(openCaptures([path.join(fixturesDir, 'flows/s0.pcap')], { db: other }), /not a tcplens database/);
    const check = await DuckDBInstance.create(other);
    const c2 = await check.connect();
    const tables = (await c2.runAndReadAll('SELECT table_name FROM information_schema.tables ORDER BY 1')).getRows().flat();
    c2.closeSync();
    check.closeSync();
    assert.deepEqual(tables, ['mine']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
