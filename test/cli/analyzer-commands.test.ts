/**
 * The analyzer commands (query, seq, analyze, export) through the real CLI: results on stdout in each
 * format, and every failure as ONE line on stderr with the documented exit status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { cliPath, corpusDir, fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';

const SF = path.join(fixturesDir, 'flows/sf.pcap');
const REJ = path.join(fixturesDir, 'flows/rej.pcap');
const ECHO = path.join(corpusDir, 'zeek/echo-connections.pcap.gz');

function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'tcplens-cli-test-'));
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `exactly one stderr line, got: ${JSON.stringify(stderr)}`);
  return lines[0]!;
}

test('query prints rows as json, csv and table', async () => {
  const sql = 'SELECT state, history, packets FROM flows';
  const json = await runCli(['query', SF, sql, '--format', 'json']);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), [{ state: 'SF', history: 'ShADadfF', packets: 12 }]);
  const csv = await runCli(['query', SF, sql, '--format', 'csv']);
  assert.equal(csv.stdout, 'state,history,packets\nSF,ShADadfF,12\n');
  const table = await runCli(['query', SF, sql]);
  assert.match(table.stdout, /^state\s+history\s+packets\n-+/);
});

test('bad SQL: one line on stderr, exit 1, nothing on stdout', async () => {
  const r = await runCli(['query', SF, 'SELEC nonsense FROM flows']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(oneLine(r.stderr), /^tcplens: SQL error: Parser Error: syntax error/);
  const unknown = await runCli(['query', SF, 'SELECT * FROM no_such_table']);
  assert.equal(unknown.status, 1);
  assert.match(oneLine(unknown.stderr), /no_such_table/);
});

test('a missing database: one line, exit 1', async () => {
  const r = await runCli(['query', '/nonexistent/dir/kept.duckdb', 'SELECT 1']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(oneLine(r.stderr), 'tcplens: /nonexistent/dir/kept.duckdb: no such database (or not a DuckDB file)');
});

test('a file that is not a capture: one line naming file and byte offset, exit 1', async () => {
  const dir = tmpDir();
  try {
    const notCapture = path.join(dir, 'notes.pcap');
    writeFileSync(notCapture, 'these are notes, not packets\n');
    for (const cmd of [['query', notCapture, 'SELECT count(*) FROM packets'], ['seq', notCapture], ['analyze', notCapture]]) {
      const r = await runCli(cmd);
      assert.equal(r.status, 1, cmd.join(' '));
      assert.equal(r.stdout, '');
      assert.match(oneLine(r.stderr), new RegExp(`^tcplens: ${notCapture}: at byte 0: expected a pcap magic`));
    }
    // With a good capture beside it the results still print, and the status says the input was bad.
    const mixed = await runCli(['query', SF, notCapture, 'SELECT count(*) AS n FROM packets', '--format', 'csv']);
    assert.equal(mixed.status, 1);
    assert.equal(mixed.stdout, 'n\n12\n');
    assert.match(oneLine(mixed.stderr), /notes\.pcap: at byte 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('seq --frames prints frame,flag,... rows equal to tcp_analysis, with a capture column for several recordings (--per-file)', async () => {
  const r = await runCli(['seq', ECHO, '--frames', '--format', 'csv']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'frame,flag,time,src,sport,dst,dport,uid,explanation');
  const q = await runCli(['query', ECHO, `SELECT frame || ',' || flag AS line FROM tcp_analysis ORDER BY frame, flag`, '--format', 'json']);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(',')), (JSON.parse(q.stdout) as { line: string }[]).map((x) => x.line));
  // Time, endpoints and uid are those of the frame (packets) and its connection (flows).
  const p = await runCli(['query', ECHO, `SELECT p.frame, p.src, p.sport, p.dst, p.dport, f.uid FROM packets p JOIN flows f USING (flow_id)
    WHERE p.frame = ${lines[1]!.split(',')[0]}`, '--format', 'json']);
  const pk = (JSON.parse(p.stdout) as Record<string, unknown>[])[0]!;
  assert.deepEqual(lines[1]!.split(',').slice(3, 8), [pk['src'], pk['sport'], pk['dst'], pk['dport'], pk['uid']].map(String));
  // Flagged frames exist and are TCP frames tshark also numbers so.
  const tcpFrames = new Set((await tsharkFields(ECHO, ['frame.number'], 'tcp')).map((c) => c[0]));
  assert.ok(lines.length > 1);
  for (const line of lines.slice(1)) assert.ok(tcpFrames.has(line.split(',')[0]), line);

  const two = await runCli(['seq', SF, ECHO, '--per-file', '--frames', '--format', 'csv']);
  assert.equal(two.status, 0, two.stderr);
  const twoLines = two.stdout.trimEnd().split('\n');
  assert.equal(twoLines[0], 'capture,frame,flag,time,src,sport,dst,dport,uid,explanation');
  assert.equal(twoLines.length, lines.length);
  assert.ok(twoLines.slice(1).every((l) => l.startsWith(`${ECHO},`)));
  // The table and JSON forms stream the same rows.
  const table = await runCli(['seq', SF, ECHO, '--per-file', '--frames'], { env: { TCPLENS_COLUMNS: '400' } });
  const tableLines = table.stdout.trimEnd().split('\n');
  assert.equal(tableLines.length, twoLines.length + 1);
  assert.match(tableLines[2]!, new RegExp(`^${ECHO}\\s+\\d+\\s+[a-z_]+\\s+\\d+\\.\\d{9}\\s`));
  const json = await runCli(['seq', SF, ECHO, '--per-file', '--frames', '--format', 'json']);
  assert.equal((JSON.parse(json.stdout) as unknown[]).length, twoLines.length - 1);
});

test('seq without --frames: one row per flagged connection plus a total; --fail-on exits 4', async () => {
  const r = await runCli(['seq', ECHO, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Record<string, number | string>[];
  assert.ok(rows.length > 0);
  const flagged = await runCli(['query', ECHO, 'SELECT count(*) AS n FROM tcp_analysis', '--format', 'json']);
  const total = (JSON.parse(flagged.stdout) as { n: number }[])[0]!.n;
  assert.equal(rows.reduce((s, row) => s + Number(row['total']), 0), total);
  const csv = await runCli(['seq', ECHO, '--format', 'csv']);
  const csvLines = csv.stdout.trimEnd().split('\n');
  assert.match(csvLines[csvLines.length - 1]!, new RegExp(`^total,.*,${total}$`));

  assert.equal((await runCli(['seq', ECHO, '--fail-on', 'any'])).status, 4);
  assert.equal((await runCli(['seq', SF, '--fail-on', 'retransmission'])).status, 0);
  const bad = await runCli(['seq', SF, '--fail-on', 'bogus']);
  assert.equal(bad.status, 2);
  assert.match(oneLine(bad.stderr), /unknown flag 'bogus'/);
});

test('seq prints the same with and without --db (which loads every table; without it packet rows are skipped)', async () => {
  const dir = tmpDir();
  try {
    // ssh-dups.pcap: 92 frames raise two flags each (each flag is still counted once per connection).
    const inputs = [ECHO, path.join(corpusDir, 'zeek/tunnels/gre-aruba.pcap'), path.join(corpusDir, 'zeek/tcp/ssh-dups.pcap')];
    for (const extra of [['--format', 'csv'], ['--frames', '--format', 'csv']]) {
      const slim = await runCli(['seq', ...inputs, ...extra]);
      const kept = await runCli(['seq', ...inputs, ...extra, '--db', path.join(dir, `k${extra.length}.duckdb`)]);
      assert.equal(slim.status, 0, slim.stderr);
      assert.equal(kept.status, 0, kept.stderr);
      assert.ok(slim.stdout.split('\n').length > 100);
      assert.equal(slim.stdout, kept.stdout, extra.join(' '));
      if (!extra.includes('--frames')) {
        // The total row counts every flag exactly once: as many as --frames prints rows.
        const frames = await runCli(['seq', ...inputs, '--frames', '--format', 'csv']);
        const total = slim.stdout.trimEnd().split('\n').at(-1)!.split(',').at(-1);
        assert.equal(Number(total), frames.stdout.trimEnd().split('\n').length - 1);
      }
      // The kept database as the only input answers the same again.
      const reopened = await runCli(['seq', path.join(dir, `k${extra.length}.duckdb`), ...extra]);
      assert.equal(reopened.stdout, slim.stdout);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('analyze: one report with captures, states, top talkers, flags, scans, anomalies and ISN grades', async () => {
  const r = await runCli(['analyze', SF, REJ, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Record<string, Record<string, unknown>[]>;
  assert.deepEqual(Object.keys(doc), ['captures', 'states', 'top_talkers', 'flags', 'performance', 'scans', 'anomalies', 'isn']);
  assert.deepEqual(doc['captures']!.map((c) => c['packets']), [12, 2]);
  assert.deepEqual(doc['states']!.map((s) => [s['state'], s['connections']]), [['REJ', 1], ['SF', 1]]);
  assert.equal(doc['top_talkers']![0]!['host'], '10.199.0.1');
  const table = await runCli(['analyze', SF]);
  assert.match(table.stdout, /Connections by state/);
  assert.match(table.stdout, /SF\s+1\s+12/);
});

test('export --csv and --parquet write every table; --db keeps the database for query', async () => {
  const dir = tmpDir();
  try {
    const dbFile = path.join(dir, 'kept.duckdb');
    const r = await runCli(['export', SF, REJ, '--csv', path.join(dir, 'csv'), '--db', dbFile, '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const written = JSON.parse(r.stdout) as { table: string; rows: number }[];
    assert.deepEqual(written.map((w) => [w.table, w.rows]), [['captures', 2], ['interfaces', 2], ['packets', 14], ['flows', 2], ['tcp_analysis', 0]]);
    for (const t of ['captures', 'interfaces', 'packets', 'flows', 'tcp_analysis']) assert.ok(existsSync(path.join(dir, 'csv', `${t}.csv`)));
    const q = await runCli(['query', dbFile, 'SELECT count(*) AS n FROM packets', '--format', 'csv']);
    assert.equal(q.stdout, 'n\n14\n');
    const p = await runCli(['export', dbFile, '--parquet', path.join(dir, 'pq')]);
    assert.equal(p.status, 0, p.stderr);
    assert.ok(existsSync(path.join(dir, 'pq', 'packets.parquet')));
    const notDir = await runCli(['export', SF, '--csv', path.join(dbFile, 'sub')]);
    assert.equal(notDir.status, 1);
    assert.match(oneLine(notDir.stderr), /cannot create the export directory \(ENOTDIR\)/);
    const mixed = await runCli(['query', dbFile, SF, 'SELECT 1']);
    assert.equal(mixed.status, 2);
    assert.match(oneLine(mixed.stderr), /a database must be the only input/);
    // Found by the set's peeks wherever it stands among the captures, and read alone with --per-file.
    for (const args of [['query', SF, ECHO, dbFile, 'SELECT 1'], ['query', '--per-file', SF, ECHO, dbFile, 'SELECT 1']]) {
      const late = await runCli(args);
      assert.equal(late.status, 2, late.stderr);
      assert.equal(oneLine(late.stderr), `tcplens: ${dbFile}: a database must be the only input (got 3)`);
    }
    const usage = await runCli(['export', SF]);
    assert.equal(usage.status, 2);
    assert.match(oneLine(usage.stderr), /exactly one of --parquet DIR or --csv DIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('progress goes to stderr only when it is a terminal', async () => {
  const sql = 'SELECT count(*) AS n FROM packets';
  const piped = await runCli(['query', ECHO, sql, '--format', 'csv']);
  assert.equal(piped.stderr, '');
  assert.equal(piped.stdout, 'n\n82582\n');
  // util-linux `script` runs the CLI on a pseudo-terminal (stdout and stderr both on it).
  const quote = (a: string): string => `'${a.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, cliPath, 'query', ECHO, sql, '--format', 'csv'].map(quote).join(' ');
  const tty = execFileSync('script', ['-q', '-e', '-c', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  assert.match(tty, /\rloading echo-connections\.pcap\.gz \(1\/1\): 65536 packets/);
  assert.match(tty, /n\r?\n82582\r?\n$/);
});

test('a reader that goes away (| head) ends the run quietly with 141, as SIGPIPE ends tcpdump and tshark', async () => {
  // Enough rows that tcplens is still writing when the reader closes its end after the first chunk.
  const child = spawn(process.execPath, [cliPath, 'query', SF, 'SELECT range FROM range(3000000)', '--format', 'csv'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.match(first, /^range\n0\n/);
  assert.equal(stderr, '', 'nothing on stderr');
  assert.equal(code, 141);
});
