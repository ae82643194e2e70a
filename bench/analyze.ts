/**
 * Analysis speed and memory: `tcplens seq --frames` (load into DuckDB + connection tracking + sequence
 * analysis, then every flag out) against tshark computing the same flags, on the same capture
 * (bench/make-capture.ts, ctx.packets packets: run with --packets 10000000 for the 10-million-packet
 * memory figure). Each command runs under `/usr/bin/time -v`, so every row also reports the peak RSS.
 *   - tcplens seq FILE --frames --format csv   the CLI as a user runs it
 *   - tcplens analyze FILE --format json        load + the whole report
 *   - tshark -n -r FILE -T fields -e frame.number -e tcp.analysis.flags   the reference
 */
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { repeat, timeChild, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';

const TIME = '/usr/bin/time';

/** Peak RSS in MB from `time -v` output on stderr. */
function peakRssMb(run: ChildRun): number {
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1]);
  return kb / 1024;
}

export const benchmark: BenchModule = {
  name: 'analyze',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file, meta } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const what = `sequence analysis of ${ctx.packets.toLocaleString('en-US')} packets (${(meta.sizeBytes / 1e6).toFixed(0)} MB pcap)`;
    const rel = path.relative(ctx.repoRoot, file);
    const cli = path.join(ctx.buildRoot, 'bin/tcplens.js');
    const frameLines = (r: ChildRun): number => r.stdout.split('\n').filter((l) => l.length > 0).length;

    const measurements: { tool: string; reference?: boolean; run: () => Promise<ChildRun>; check: (r: ChildRun) => string }[] = [
      {
        tool: `tcplens seq ${rel} --frames --format csv`,
        run: () => timeChild(TIME, ['-v', process.execPath, cli, 'seq', file, '--frames', '--format', 'csv']),
        check: (r) => `${frameLines(r) - 1} flag rows`,
      },
      {
        tool: `tcplens analyze ${rel} --format json`,
        run: () => timeChild(TIME, ['-v', process.execPath, cli, 'analyze', file, '--format', 'json']),
        check: (r) => {
          const doc = JSON.parse(r.stdout) as { captures: { tcp_packets: number }[] };
          if (doc.captures[0]?.tcp_packets !== ctx.packets) throw new Error(`analyze loaded ${doc.captures[0]?.tcp_packets} TCP packets of ${ctx.packets}`);
          return '';
        },
      },
      {
        tool: `tshark -n -r ${rel} -T fields -e frame.number -e tcp.analysis.flags`,
        reference: true,
        run: () => timeChild(TIME, ['-v', 'tshark', '-n', '-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.analysis.flags']),
        check: (r) => `reference; ${r.stdout.split('\n').filter((l) => /\t\S/.test(l)).length} flagged frames`,
      },
    ];

    const rows: BenchRow[] = [];
    let reference: BenchRow | undefined;
    for (const m of measurements) {
      ctx.log(`${ctx.runs} runs: ${m.tool}`);
      try {
        const peaks: number[] = [];
        const { summary, last } = await repeat(ctx.runs, async () => {
          const run = await m.run();
          peaks.push(peakRssMb(run));
          return run;
        });
        const row: BenchRow = {
          benchmark: what, tool: m.tool, runs: ctx.runs,
          medianSeconds: summary.median, minSeconds: summary.min, maxSeconds: summary.max,
          ratePerSecond: ctx.packets / summary.median, ratio: '',
          notes: [`peak RSS ${Math.max(...peaks).toFixed(0)} MB`, m.check(last)].filter(Boolean).join('; '),
        };
        if (m.reference) reference = row;
        rows.push(row);
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ');
        ctx.log(`failed: ${message}`);
        rows.push({
          benchmark: what, tool: m.tool, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN,
          ratePerSecond: null, ratio: '', notes: `FAILED: ${message}`,
        });
      }
    }
    for (const r of rows) {
      if (reference && r !== reference && r.ratePerSecond !== null) {
        r.ratio = `${(r.ratePerSecond / reference.ratePerSecond!).toFixed(2)}x tshark`;
      }
    }
    return rows;
  },
};
