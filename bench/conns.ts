/**
 * Per-connection analysis speed on the same capture as bench/analyze.ts (bench/make-capture.ts, ctx.packets
 * packets), each command as a user runs it under `/usr/bin/time -v` (wall time, CPU, peak RSS), rounds
 * interleaved so noise on the shared machine falls on both alike:
 *   - tcplens conns FILE --format csv   one row per connection: conn.log columns, RTT, retransmissions, limits
 *   - tcptrace -l -n -r FILE            the reference: tcptrace's long per-connection report with RTT
 */
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, summarize, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';

export const benchmark: BenchModule = {
  name: 'conns',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file, meta } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const what = `per-connection analysis of ${ctx.packets.toLocaleString('en-US')} packets (${(meta.sizeBytes / 1e6).toFixed(0)} MB pcap)`;
    const rel = path.relative(ctx.repoRoot, file);
    const cli = path.join(ctx.buildRoot, 'bin/tcplens.js');
    const measurements = [
      {
        tool: `tcplens conns ${rel} --format csv`,
        args: ['-v', process.execPath, cli, 'conns', file, '--format', 'csv'],
        check: (r: ChildRun): string => `${r.stdout.split('\n').filter((l) => l.length > 0).length - 1} connections`,
        reference: false,
      },
      {
        tool: `tcptrace -l -n -r ${rel}`,
        args: ['-v', 'tcptrace', '-l', '-n', '-r', file],
        check: (r: ChildRun): string => `reference; ${/(\d+) TCP connections? traced/.exec(r.stdout)?.[1] ?? '?'} connections`,
        reference: true,
      },
    ];
    const samples = await interleavedRounds(ctx.runs, measurements.map((m) => ({ label: m.tool, args: m.args })), ctx.log);
    const rows: BenchRow[] = [];
    let reference: BenchRow | undefined;
    for (const [i, m] of measurements.entries()) {
      const s = samples[i]!;
      let notes: string;
      try {
        notes = s.error ?? m.check(s.last!);
      } catch (err) {
        s.error = err instanceof Error ? err.message : String(err);
        notes = s.error;
      }
      if (s.error !== null) {
        rows.push({
          benchmark: what, tool: m.tool, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN,
          ratePerSecond: null, ratio: '', notes: `FAILED: ${s.error}`,
        });
        continue;
      }
      const wall = summarize(s.seconds);
      const row: BenchRow = {
        benchmark: what, tool: m.tool, runs: s.seconds.length,
        medianSeconds: wall.median, minSeconds: wall.min, maxSeconds: wall.max,
        ratePerSecond: ctx.packets / wall.median, ratio: '',
        notes: [`CPU ${summarize(s.cpu).median.toFixed(2)} s`, `peak RSS ${Math.max(...s.rssMb).toFixed(0)} MB`, notes].join('; '),
      };
      if (m.reference) reference = row;
      rows.push(row);
    }
    for (const r of rows) {
      if (reference && r !== reference && r.ratePerSecond !== null) r.ratio = `${(reference.medianSeconds / r.medianSeconds).toFixed(2)}x tcptrace`;
    }
    return rows;
  },
};
