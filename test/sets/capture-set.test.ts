/**
 * The captures of one recording analyzed as one (issue: capture sets). A real lossy capture with
 * retransmissions and a reused port (fixtures/sets/lossy-bulk.pcap, made by fixtures/sets/make.sh) is cut
 * into 2, 5 and 50 pieces with editcap and handed to the commands in shuffled order: `seq --frames` must
 * raise tshark's flags on the frames of the `mergecap`-merged pieces, and `flows` must be the uncut file's.
 * Everything goes through the command line users run.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { SEQ_FLAGS } from '../../analyzer/seq/flags.js';
import { runCli } from '../support/cli.js';
import { openCaptures } from '../../analyzer/index.js';
import { cliPath, fixturesDir } from '../support/paths.js';
import { prng } from '../support/prng.js';
import { tsharkFlags } from '../seq/oracle.js';

const LOSSY = path.join(fixturesDir, 'sets/lossy-bulk.pcap');
const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-sets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function packetCount(file: string): number {
  const out = execFileSync('capinfos', ['-M', '-c', '-T', '-r', file], { encoding: 'utf8' });
  return Number(out.trim().split('\t')[1]);
}

/** Cuts `file` into `n` pieces of equal packet counts (editcap -c; `atLeast`: n or more), in a directory of their own. */
function cut(file: string, n: number, atLeast = false): string[] {
  const out = mkdtempSync(path.join(dir, `${path.basename(file)}-${n}-`));
  const per = atLeast ? Math.floor(packetCount(file) / n) : Math.ceil(packetCount(file) / n);
  execFileSync('editcap', ['-c', String(per), file, path.join(out, 'part.pcap')]);
  return readdirSync(out).sort().map((f) => path.join(out, f));
}

function shuffled<T>(items: T[], seed: number): T[] {
  const rand = prng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `seq --frames` rows as "frame,flag", sorted for comparison after checking they came in frame order. */
async function seqFrames(args: string[]): Promise<string[]> {
  const r = await runCli(['seq', ...args, '--frames', '--format', 'csv'], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').slice(1).filter(Boolean).map((l) => l.split(',').slice(0, 2).join(','));
  const frames = rows.map((row) => Number(row.split(',')[0]));
  const back = frames.findIndex((f, i) => i > 0 && f < frames[i - 1]!);
  assert.equal(back, -1, `rows in the merged timeline's frame order (row ${back}: frame ${frames[back]} after ${frames[back - 1]})`);
  return rows.sort();
}

function tsharkRows(sets: Set<number>[]): string[] {
  const rows: string[] = [];
  sets.forEach((frames, code) => {
    for (const f of frames) rows.push(`${f},${SEQ_FLAGS[code]}`);
  });
  return rows.sort();
}

const FLOWS_SQL = `SELECT client, cport, server, sport, state, history, packets, bytes, client_packets, server_packets,
  round(rtt_ms, 6) AS rtt_ms, reused_ports FROM flows ORDER BY first_ts, cport`;
const FLOW_FIGURES = `SELECT client, cport, server, sport, state, packets, bytes, client_packets, server_packets,
  round(rtt_ms, 6) AS rtt_ms, reused_ports FROM flows ORDER BY first_ts, cport`;

async function flows(inputs: string[], sql = FLOWS_SQL): Promise<string> {
  const r = await runCli(['query', ...inputs, sql, '--format', 'csv'], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('a lossy capture cut into pieces is analyzed as the uncut one', () => {
  test('the fixture has what the test needs: loss, retransmissions, a reused port', async () => {
    const rows = await seqFrames([LOSSY]);
    for (const flag of ['retransmission', 'fast_retransmission', 'duplicate_ack', 'reused_ports']) {
      assert.ok(rows.some((r) => r.endsWith(`,${flag}`)), `the fixture raises ${flag}`);
    }
  });

  for (const n of [2, 5, 50]) {
    test(`${n} pieces, shuffled: tshark's flags on the mergecap'd pieces, and the uncut file's flows`, async () => {
      const pieces = cut(LOSSY, n);
      assert.equal(pieces.length, n);
      const merged = path.join(dir, `merged-${n}.pcapng`);
      execFileSync('mergecap', ['-w', merged, ...pieces]);
      const theirs = tsharkRows(await tsharkFlags(merged));
      let order = shuffled(pieces, n);
      if (order.every((p, i) => p === pieces[i])) order = [...pieces].reverse();
      const ours = await seqFrames(order);
      assert.ok(theirs.length > 100);
      assert.deepEqual(ours, theirs);
      // Connections as in the uncut file. Where two packets of one connection share a timestamp across a
      // cut, mergecap (the oracle) may put them the other way round, which can swap two history letters:
      // history is compared with the same command on the mergecap'd file, the rest with the uncut file.
      assert.equal(await flows(order, FLOW_FIGURES), await flows([LOSSY], FLOW_FIGURES));
      assert.equal(await flows(order), await flows([merged]));
    });
  }

  test('two files whose packets interleave in time (equal timestamps across them) merge as mergecap merges them', async () => {
    const even = path.join(dir, 'even.pcap');
    const odd = path.join(dir, 'odd.pcap');
    execFileSync('tshark', ['-r', LOSSY, '-Y', 'frame.number % 2 == 0', '-w', even, '-F', 'pcap'], { stdio: 'ignore' });
    execFileSync('tshark', ['-r', LOSSY, '-Y', 'frame.number % 2 == 1', '-w', odd, '-F', 'pcap'], { stdio: 'ignore' });
    const ts = async (inputs: string[]) => {
      const r = await runCli(['query', ...inputs, 'SELECT frame, epoch_ns(ts) AS t, file_frame FROM packets ORDER BY frame', '--format', 'csv']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const whole = await ts([LOSSY]);
    const two = await ts([even, odd]);
    // The same timeline, frame for frame; only each packet's number in its own file differs.
    const strip = (csv: string) => csv.split('\n').map((l) => l.split(',').slice(0, 2).join(',')).join('\n');
    assert.equal(strip(two), strip(whole));
    // The odd frames' file starts first, so mergecap is given it first; equal timestamps go to the even file.
    const merged = path.join(dir, 'odd-even.pcapng');
    execFileSync('mergecap', ['-w', merged, odd, even]);
    assert.deepEqual(await seqFrames([even, odd]), tsharkRows(await tsharkFlags(merged)));
  });

  test('--per-file keeps each piece its own recording (frames restart, connections end at the cut)', async () => {
    const pieces = cut(LOSSY, 4).slice(0, 2);
    const r = await runCli(['query', ...pieces, '--per-file', 'SELECT count(DISTINCT set_id) AS sets, min(frame) AS f FROM packets JOIN captures USING (capture_id) GROUP BY capture_id ORDER BY capture_id', '--format', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'sets,f\n1,1\n1,1\n');
    const merged = await runCli(['query', ...pieces, 'SELECT count(DISTINCT set_id) AS sets, count(DISTINCT capture_id) AS files FROM packets JOIN captures USING (capture_id)', '--format', 'csv']);
    assert.equal(merged.stdout, 'sets,files\n1,2\n');
  });
});

describe('many files and a kept database', () => {
  test('1,000 files in one call, with only 256 file descriptors allowed: tshark\'s flags on the mergecap\'d files', async () => {
    const pieces = cut(LOSSY, 1000, true);
    assert.ok(pieces.length >= 1000, `${pieces.length} files`);
    // mergecap opens every file at once: it gets the descriptors it needs.
    const merged = path.join(dir, 'merged-1000.pcapng');
    execFileSync('bash', ['-c', 'ulimit -n 4096 && exec mergecap -w "$@"', 'bash', merged, ...pieces]);
    const r = spawnSync('bash', ['-c', 'ulimit -n 256 && exec "$@"', 'bash', process.execPath, cliPath, 'seq', ...shuffled(pieces, 7), '--frames', '--format', 'csv'], {
      encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(',')).sort(), tsharkRows(await tsharkFlags(merged)));
  });

  test('--db: the same set is not read again; a file added to it re-analyzes the set', async () => {
    const pieces = cut(LOSSY, 3);
    const db = path.join(dir, 'kept.duckdb');
    const first = await openCaptures(pieces.slice(0, 2), { db });
    assert.deepEqual(first.captures.map((c) => c.reused), [false, false]);
    await first.close();
    const again = await openCaptures([pieces[1]!, pieces[0]!], { db });
    assert.deepEqual(again.captures.map((c) => c.reused), [true, true]);
    await again.close();
    const grown = await openCaptures(pieces, { db });
    try {
      assert.deepEqual(grown.captures.map((c) => c.reused), [false, false, false]);
      const r = await grown.query('SELECT count(DISTINCT set_id) AS sets, count(*) AS files FROM captures');
      assert.deepEqual(r.rows[0], { sets: 1, files: 3 });
      const frames = await grown.query('SELECT count(*) AS n, max(frame) AS last FROM packets');
      assert.deepEqual(frames.rows[0], { n: packetCount(LOSSY), last: packetCount(LOSSY) });
    } finally {
      await grown.close();
    }
    // The kept set answers like the uncut file.
    assert.equal(await flows([db]), await flows([LOSSY]));
  });
});
