/**
 * Per-connection analysis speed on the same capture as bench/analyze.ts (bench/make-capture.ts, ctx.packets
 * packets), each command as a user runs it under `/usr/bin/time -v` (wall time, CPU, peak RSS), rounds
 * interleaved so noise on the shared machine falls on both alike:
 *   - tcplens seq FILE --format csv     flagged connections, without DuckDB (analyzer/direct.ts)
 *   - tcplens conns FILE --format csv   one row per connection: conn.log columns, RTT, retransmissions, limits
 *   - tcplens seq FILE --where TRUE     the same rows as seq, through DuckDB (what seq cost before direct.ts)
 *   - tcptrace -l -n -r FILE            the reference: tcptrace's long per-connection report with RTT
 */
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, roundsRow, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { cliArgs } from '../test/support/paths.js';

export const benchmark: BenchModule = {
  name: 'conns',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file, meta } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const what = `per-connection analysis of ${ctx.packets.toLocaleString('en-US')} packets (${(meta.sizeBytes / 1e6).toFixed(0)} MB pcap)`;
    const rel = path.relative(ctx.repoRoot, file);
    const measurements = [
      {
        tool: `tcplens seq ${rel} --format csv`,
        args: ['-v', process.execPath, ...cliArgs, 'seq', file, '--format', 'csv'],
        check: (r: ChildRun): string => `${r.stdout.split('\n').filter((l) => l.length > 0).length - 2} flagged connections`,
        reference: false,
        target: true,
      },
      {
        tool: `tcplens conns ${rel} --format csv`,
        args: ['-v', process.execPath, ...cliArgs, 'conns', file, '--format', 'csv'],
        check: (r: ChildRun): string => `${r.stdout.split('\n').filter((l) => l.length > 0).length - 1} connections`,
        reference: false,
        target: true,
      },
      {
        tool: `tcplens seq ${rel} --where TRUE --format csv`,
        args: ['-v', process.execPath, ...cliArgs, 'seq', file, '--where', 'TRUE', '--format', 'csv'],
        check: (r: ChildRun): string =>
          `${r.stdout.split('\n').filter((l) => l.length > 0).length - 2} flagged connections; through DuckDB (--where needs SQL), for comparison`,
        reference: false,
        target: false,
      },
      {
        tool: `tcptrace -l -n -r ${rel}`,
        args: ['-v', 'tcptrace', '-l', '-n', '-r', file],
        check: (r: ChildRun): string => `reference; ${/(\d+) TCP connections? traced/.exec(r.stdout)?.[1] ?? '?'} connections`,
        reference: true,
        target: false,
      },
    ];
    const samples = await interleavedRounds(ctx.runs, measurements.map((m) => ({ label: m.tool, args: m.args })), ctx.log);
    const rows: BenchRow[] = [];
    let reference: BenchRow | undefined;
    for (const [i, m] of measurements.entries()) {
      const row = roundsRow(what, m.tool, samples[i]!, ctx.packets, m.check);
      rows.push(row);
      if (row.runs === 0) continue;
      if (m.reference) reference = row;
    }
    for (const [i, r] of rows.entries()) {
      if (!reference || r === reference || r.ratePerSecond === null) continue;
      r.ratio = `${(reference.medianSeconds / r.medianSeconds).toFixed(2)}x tcptrace`;
      if (!measurements[i]!.target) continue;
      const slower = r.medianSeconds / reference.medianSeconds;
      const rss = Math.max(...samples[i]!.rssMb);
      const command = r.tool.split(' ')[1];
      // Issue 14: as fast as tcptrace -l -n on the same file, and under 64 MiB.
      r.targets = [
        { goal: `tcplens ${command} no slower than tcptrace -l -n on ${ctx.packets.toLocaleString('en-US')} packets (issue 14)`, measured: `${slower.toFixed(2)}x tcptrace's time`, met: slower <= 1 },
        { goal: `tcplens ${command} peak RSS under 64 MiB (issue 14)`, measured: `${rss.toFixed(0)} MiB`, met: rss < 64 },
      ];
    }
    return rows;
  },
};
