/**
 * `seq` and `conns` answer without DuckDB unless they need SQL (--where) or a database (--db, a kept
 * database as input): analyzer/direct.ts. These tests hold the two paths to the same output, byte for
 * byte, over every fixture and every corpus capture (one --per-file call each: every file its own
 * recording, so capture, connection and set numbering across recordings is compared too), over a
 * rotation set merged as one recording, and over damaged captures (the same rows, stderr lines and exit
 * status); and they show DuckDB is really not loaded (a preload that makes loading it fail).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli, type CliResult } from '../support/cli.js';
import { corpusEntries } from '../support/corpus.js';
import { fixturesDir, repoRoot } from '../support/paths.js';

const CAPTURE = /\.(pcap|pcapng|cap)(\.gz)?$/;

function capturesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => CAPTURE.test(f) && statSync(f).isFile())
    .sort();
}

/** A preload that fails any load of @duckdb/*: a command that needs DuckDB then exits with an error. */
const withoutDuckDb = { NODE_OPTIONS: `--require ${path.join(repoRoot, 'test/support/without-duckdb.cjs')}` };

/** conn.log's #open/#close lines carry the wall-clock time of the run. */
function stable(r: CliResult): CliResult {
  return { ...r, stdout: r.stdout.replace(/^#(open|close)\t.*$/gm, '#$1\t-') };
}

/** The same command without SQL (under the preload, so it must not load DuckDB) and with `--where TRUE`. */
async function bothPaths(args: string[]): Promise<{ direct: CliResult; sql: CliResult }> {
  const [direct, sql] = await Promise.all([
    runCli(args, { env: withoutDuckDb, timeoutMs: 300_000 }),
    runCli([...args, '--where', 'TRUE'], { timeoutMs: 300_000 }),
  ]);
  return { direct: stable(direct), sql: stable(sql) };
}

const OUTPUTS: string[][] = [
  ['seq', '--format', 'csv'],
  ['seq', '--format', 'json'],
  ['seq'],
  ['seq', '--frames', '--format', 'csv'],
  ['seq', '--frames', '--format', 'json'],
  ['seq', '--frames'],
  ['conns', '--format', 'json'],
  ['conns', '--format', 'zeek'],
  ['conns', '--verify-checksums', '--format', 'csv'],
  ['conns'],
];

test('every fixture, each its own recording: the same output with and without SQL', async () => {
  const files = capturesUnder(fixturesDir);
  assert.ok(files.length >= 40, `fixtures found: ${files.length}`);
  for (const args of OUTPUTS) {
    const { direct, sql } = await bothPaths([...args, '--per-file', ...files]);
    assert.ok(sql.stdout.length > 1000, `${args.join(' ')}: output (${sql.stderr.slice(0, 300)})`);
    // Some fixtures are damaged on purpose: their lines and the exit status 1 must match too.
    assert.deepEqual(direct, sql, args.join(' '));
  }
});

test('every corpus capture, each its own recording: the same flags and connections with and without SQL', async () => {
  const files = corpusEntries().map((e) => e.absPath);
  // Lines at least (measured: 422, 3,454 and 2,686): the comparison is over real output.
  const outputs: [string[], number][] = [
    [['seq', '--format', 'csv'], 300], [['seq', '--frames', '--format', 'csv'], 3000], [['conns', '--format', 'csv'], 2000],
  ];
  for (const [args, lines] of outputs) {
    const { direct, sql } = await bothPaths([...args, '--per-file', ...files]);
    assert.ok(sql.stdout.split('\n').length > lines, `${args.join(' ')}: ${sql.stdout.split('\n').length} lines`);
    assert.deepEqual(direct, sql, args.join(' '));
  }
});

const tmp = mkdtempSync(path.join(tmpdir(), 'tcplens-direct-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The file with flags of every common kind (fixtures/README.md: lossy-bulk). */
const lossy = path.join(fixturesDir, 'sets/lossy-bulk.pcap');

test('a rotation set merged as one recording: the same output with and without SQL', async () => {
  // 34 pieces of 100 packets (editcap -c), given in reverse: the merge puts them back in time order.
  execFileSync('editcap', ['-c', '100', lossy, path.join(tmp, 'part.pcap')]);
  const pieces = readdirSync(tmp).map((f) => path.join(tmp, f)).sort().reverse();
  assert.ok(pieces.length >= 5, `${pieces.length} pieces`);
  for (const args of [['seq', '--frames', '--format', 'csv'], ['seq', '--format', 'json'], ['conns', '--format', 'csv']]) {
    const { direct, sql } = await bothPaths([...args, ...pieces]);
    assert.ok(sql.stdout.length > 500, `${args.join(' ')}: output`);
    assert.deepEqual(direct, sql, args.join(' '));
  }
});

test('--fail-on without SQL: exit 4 when a listed flag is raised, 0 when not', async () => {
  const capture = lossy;
  const frames = await runCli(['seq', '--frames', '--format', 'csv', capture], { env: withoutDuckDb });
  assert.equal(frames.status, 0, frames.stderr);
  const raised = new Set(frames.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[1]!));
  assert.ok(raised.size > 0, 'the capture raises flags');
  const one = [...raised][0]!;
  const hit = await runCli(['seq', '--fail-on', one, '--format', 'csv', capture], { env: withoutDuckDb });
  assert.equal(hit.status, 4, hit.stderr);
  const other = ['keep_alive', 'zero_window_probe', 'zero_window', 'keep_alive_ack'].find((f) => !raised.has(f))!;
  const miss = await runCli(['seq', '--fail-on', other, '--format', 'csv', capture], { env: withoutDuckDb });
  assert.equal(miss.status, 0, miss.stderr);
});

test('the preload fails a command that loads DuckDB, so the tests above would see it', async () => {
  const capture = lossy;
  for (const args of [['seq', '--where', 'TRUE'], ['conns', '--where', 'TRUE'], ['query', 'SELECT 1']]) {
    const r = await runCli([args[0]!, capture, ...args.slice(1)], { env: withoutDuckDb });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, /DuckDB loaded: @duckdb\//, args.join(' '));
  }
});
