/**
 * Start-up cost (issue 14: "any command on a small capture within 1.5x of `info`'s time"): every analyzer
 * command on a small committed capture (SMALL_CAPTURE, 2,442 packets, which every command accepts), timed
 * as a user runs it (process start to exit) under `/usr/bin/time -v`, against `tcplens info` on the same
 * file. On so small a file the work is negligible: what is measured is Node's start-up, module loading,
 * DuckDB's start and table set-up (for the commands that use it: seq and conns do not, analyzer/direct.ts), and writing the output.
 *
 * Each run takes well under 2 s, so the module makes STARTUP_ROUNDS_PER_RUN x ctx.runs interleaved rounds
 * (round i runs every command once, one after another) and reports medians. `node -e 0` is the floor:
 * Node's own start-up, which no command can beat. The ratio column is each command's median over info's.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { interleavedRounds, roundsRow, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { cliArgs } from '../test/support/paths.js';

/** The committed capture every command runs on (a decoy SYN scan: scans finds something, seq has flags). */
export const SMALL_CAPTURE = 'fixtures/scans/scan-decoy.pcap';
/** Rounds per --runs: start-up times are short and noisy, so many more rounds than the big-file modules. */
export const STARTUP_ROUNDS_PER_RUN = 5;
/** The target: each command's median at most this many times info's. */
export const MAX_RATIO = 1.5;

interface Command {
  /** Short name in the target's list. */
  name: string;
  tool: string;
  argv: string[];
  check: (r: ChildRun) => string;
  role?: 'floor' | 'info';
}

const lines = (r: ChildRun): number => r.stdout.split('\n').filter((l) => l.length > 0).length;

export const benchmark: BenchModule = {
  name: 'startup',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const file = path.join(ctx.repoRoot, SMALL_CAPTURE);
    if (!existsSync(file)) throw new Error(`${SMALL_CAPTURE} is missing`);
    const tmp = mkdtempSync(path.join(tmpdir(), 'tcplens-startup-'));
    const html = path.join(tmp, 'report.html');
    const csvDir = path.join(tmp, 'export');
    const rounds = STARTUP_ROUNDS_PER_RUN * ctx.runs;
    const what = `start-up on a small capture (${SMALL_CAPTURE}, 2,442 packets)`;
    const tcplens = (name: string, args: string[], check: (r: ChildRun) => string, role?: 'info'): Command => ({
      name, tool: `tcplens ${args.map((a) => (a === file ? SMALL_CAPTURE : a === html ? 'TMP/report.html' : a === csvDir ? 'TMP/export' : a.includes(' ') ? `"${a}"` : a)).join(' ')}`,
      argv: [process.execPath, ...cliArgs, ...args], check, ...(role ? { role } : {}),
    });

    const commands: Command[] = [
      { name: 'node -e 0', tool: 'node -e 0', argv: [process.execPath, '-e', '0'], check: () => 'floor: Node\'s own start-up', role: 'floor' },
      tcplens('info', ['info', file], (r) => {
        if (!r.stdout.includes('2,442')) throw new Error('info does not report 2,442 packets');
        return 'the yardstick';
      }, 'info'),
      tcplens('seq', ['seq', file, '--format', 'csv'], (r) => `${lines(r) - 2} flagged connections`),
      tcplens('seq --frames', ['seq', file, '--frames', '--format', 'csv'], (r) => `${lines(r) - 1} flag rows`),
      tcplens('conns', ['conns', file, '--format', 'csv'], (r) => `${lines(r) - 1} connections`),
      tcplens('scans', ['scans', file, '--format', 'csv'], (r) => `${lines(r) - 1} scans`),
      tcplens('analyze', ['analyze', file, '--format', 'json'], (r) => {
        JSON.parse(r.stdout);
        return 'JSON report';
      }),
      tcplens('query', ['query', file, 'SELECT 1 AS one', '--format', 'csv'], (r) => {
        if (r.stdout.trim() !== 'one\n1') throw new Error(`query printed ${r.stdout.slice(0, 80)}`);
        return 'one row';
      }),
      tcplens('report', ['report', file, '-o', html], () => 'HTML page written'),
      ...(existsSync(path.join(ctx.buildRoot, 'analyzer/cli/export.js'))
        ? [tcplens('export', ['export', file, '--csv', csvDir], () => {
            if (!existsSync(path.join(csvDir, 'packets.csv'))) throw new Error('export wrote no packets.csv');
            return 'five CSV tables written';
          })]
        : []),
    ];

    let rows: BenchRow[];
    try {
      const samples = await interleavedRounds(rounds, commands.map((c) => ({ label: c.tool, args: ['-v', ...c.argv] })), ctx.log);
      // The checks read the last run's files, so they run before TMP goes. Packets per second means nothing
      // here (the work is start-up), so the rate column stays empty.
      rows = commands.map((c, i) => ({ ...roundsRow(what, c.tool, samples[i]!, 2442, c.check), ratePerSecond: null }));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const at = (role: string): BenchRow | undefined => {
      const row = rows[commands.findIndex((c) => c.role === role)];
      return row && row.runs > 0 ? row : undefined;
    };
    const info = at('info');
    const floor = at('floor');
    const ratios: { name: string; ratio: number; row: BenchRow }[] = [];
    const failed: string[] = [];
    for (const [i, c] of commands.entries()) {
      const row = rows[i]!;
      if (row.runs === 0) {
        if (c.role !== 'floor') failed.push(c.name);
        continue;
      }
      if (floor && row !== floor) row.notes += `; ${(row.medianSeconds - floor.medianSeconds).toFixed(3)} s above node -e 0`;
      if (!info || row === info || c.role === 'floor') continue;
      const ratio = row.medianSeconds / info.medianSeconds;
      row.ratio = `${ratio.toFixed(2)}x info`;
      ratios.push({ name: c.name, ratio, row });
    }
    if (floor && info) floor.ratio = `${(floor.medianSeconds / info.medianSeconds).toFixed(2)}x info`;

    // Issue 14's target, on the slowest command's row.
    const worst = [...ratios].sort((a, b) => b.ratio - a.ratio)[0];
    const goal = `any command on a small capture within ${MAX_RATIO}x of info's time (issue 14)`;
    if (!info) {
      rows[1]!.targets = [{ goal, measured: 'info failed', met: false }];
    } else {
      const over = ratios.filter((r) => r.ratio > MAX_RATIO).sort((a, b) => b.ratio - a.ratio);
      const measured = [
        over.length > 0 || !worst ? `over ${MAX_RATIO}x: ${over.map((r) => `${r.name} ${r.ratio.toFixed(2)}x`).join(', ') || 'none'}` : `worst ${worst.name} ${worst.ratio.toFixed(2)}x`,
        ...(failed.length > 0 ? [`failed: ${failed.join(', ')}`] : []),
        `(info ${info.medianSeconds.toFixed(3)} s)`,
      ].join('; ');
      (worst?.row ?? info).targets = [{ goal, measured, met: over.length === 0 && failed.length === 0 }];
    }
    return rows;
  },
};
