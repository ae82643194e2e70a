/**
 * Memory on a large capture (issue 6: peak RSS < 1 GiB on 10,000,000 packets): a capture of 10x the
 * --packets count (10,000,000 by default) made on the spot like the main one (bench/make-capture.ts:
 * iperf3 + HTTP between two network namespaces, recorded by tcpdump -s 96; cached in bench/out/), then
 * each analyzer command once per round under `/usr/bin/time -v`, process start to exit. tshark is left out
 * here (it needs ~3 minutes per run on this many packets); the side-by-side speed figures are the
 * analyze module's, on the 1,000,000-packet capture.
 */
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, summarize } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { cliArgs } from '../test/support/paths.js';

const LIMIT_MB = 1024;
/** Issue 14's tighter limits per command. */
const ISSUE_14_LIMIT_MB: Record<string, number> = { analyze: 512, seq: 128 };

export const benchmark: BenchModule = {
  name: 'memory',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const packets = ctx.packets * 10;
    const { path: file, meta } = await ensureCapture({ packets, outDir: ctx.outDir, log: ctx.log });
    const what = `memory on ${packets.toLocaleString('en-US')} packets (${(meta.sizeBytes / 1e9).toFixed(2)} GB pcap)`;
    const rel = path.relative(ctx.repoRoot, file);
    const commands = [
      ['seq', file, '--frames', '--format', 'csv'],
      ['seq', file, '--format', 'csv'],
      ['scans', file, '--format', 'csv'],
      ['analyze', file, '--format', 'json'],
    ];
    const samples = await interleavedRounds(ctx.runs, commands.map((args) => ({
      label: `tcplens ${args[0]} (${packets} packets)`, args: ['-v', process.execPath, ...cliArgs, ...args],
    })), ctx.log, 1_800_000);
    return commands.map((args, i) => {
      const s = samples[i]!;
      const tool = `tcplens ${args.map((a) => (a === file ? rel : a)).join(' ')}`;
      if (s.error !== null) {
        return { benchmark: what, tool, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN, ratePerSecond: null, ratio: '', notes: `FAILED: ${s.error}` };
      }
      const wall = summarize(s.seconds);
      const peak = Math.max(...s.rssMb);
      const limit14 = ISSUE_14_LIMIT_MB[args[0]!];
      return {
        benchmark: what, tool, runs: s.seconds.length,
        medianSeconds: wall.median, minSeconds: wall.min, maxSeconds: wall.max,
        ratePerSecond: packets / wall.median, ratio: '',
        notes: `CPU ${summarize(s.cpu).median.toFixed(2)} s; peak RSS ${peak.toFixed(0)} MiB (largest of ${s.rssMb.length} runs)`,
        targets: [
          { goal: `peak RSS < 1 GiB on ${packets.toLocaleString('en-US')} packets (issues 4, 6)`, measured: `${peak.toFixed(0)} MiB`, met: peak < LIMIT_MB },
          ...(limit14 !== undefined
            ? [{ goal: `tcplens ${args[0]} peak RSS <= ${limit14} MiB on ${packets.toLocaleString('en-US')} packets (issue 14)`, measured: `${peak.toFixed(0)} MiB`, met: peak <= limit14 }]
            : []),
        ],
      };
    });
  },
};
