/**
 * Analysis speed and memory on the same capture (bench/make-capture.ts, ctx.packets packets: run with
 * --packets 10000000 for the 10-million-packet memory figure), each command as a user runs it (process
 * start to exit) under `/usr/bin/time -v`, so every row also reports peak RSS and CPU seconds:
 *   - tcplens seq FILE --frames --format csv   every flag out, frame by frame (the main comparison)
 *   - tcplens seq FILE --format csv            flags per connection
 *   - tcplens scans FILE --format csv          scan detection (when the command exists)
 *   - tcplens analyze FILE --format json       the whole report (packet rows only where its sections read them)
 *   - tshark -n -r FILE -T fields -e frame.number -e tcp.analysis.flags   the reference (same flags)
 *   - capinfos -M FILE                         a floor: one pass over the file, no TCP analysis
 *
 * The machine is shared, so the runs are interleaved: round i runs every command once, one after
 * another, and noise from other work falls on all of them alike. Rows give median/min/max wall seconds;
 * the notes add the median CPU seconds (user + sys, steadier than wall time here) and the peak RSS.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, roundsRow, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { cliArgs } from '../test/support/paths.js';

interface Measurement {
  tool: string;
  /** The row every other row's ratio is against. */
  reference?: 'tshark';
  /** A second yardstick, named in the notes of the seq rows. */
  floor?: boolean;
  args: string[];
  /** What the output says, checked on the last run; throws when the output is wrong. */
  check: (r: ChildRun) => string;
}

export const benchmark: BenchModule = {
  name: 'analyze',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file, meta } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const what = `sequence analysis of ${ctx.packets.toLocaleString('en-US')} packets (${(meta.sizeBytes / 1e6).toFixed(0)} MB pcap)`;
    const rel = path.relative(ctx.repoRoot, file);
    const lines = (r: ChildRun): number => r.stdout.split('\n').filter((l) => l.length > 0).length;
    const node = (args: string[]): string[] => ['-v', process.execPath, ...cliArgs, ...args];

    const measurements: Measurement[] = [
      {
        tool: `tcplens seq ${rel} --frames --format csv`,
        args: node(['seq', file, '--frames', '--format', 'csv']),
        check: (r) => `${lines(r) - 1} flag rows`,
      },
      {
        tool: `tcplens seq ${rel} --format csv`,
        args: node(['seq', file, '--format', 'csv']),
        check: (r) => `${lines(r) - 2} flagged connections`,
      },
      ...(existsSync(path.join(ctx.buildRoot, 'analyzer/cli/scans.js'))
        ? [{
            tool: `tcplens scans ${rel} --format csv`,
            args: node(['scans', file, '--format', 'csv']),
            check: (r: ChildRun) => `${lines(r) - 1} scans`,
          }]
        : []),
      {
        tool: `tcplens analyze ${rel} --format json`,
        args: node(['analyze', file, '--format', 'json']),
        check: (r) => {
          const doc = JSON.parse(r.stdout) as { captures: { tcp_packets: number }[] };
          if (doc.captures[0]?.tcp_packets !== ctx.packets) throw new Error(`analyze loaded ${doc.captures[0]?.tcp_packets} TCP packets of ${ctx.packets}`);
          return 'the whole report';
        },
      },
      {
        tool: `tshark -n -r ${rel} -T fields -e frame.number -e tcp.analysis.flags`,
        reference: 'tshark',
        args: ['-v', 'tshark', '-n', '-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.analysis.flags'],
        check: (r) => `reference; ${r.stdout.split('\n').filter((l) => /\t\S/.test(l)).length} flagged frames`,
      },
      {
        tool: `capinfos -M ${rel}`,
        floor: true,
        args: ['-v', 'capinfos', '-M', file],
        check: () => 'one pass over the file, no TCP analysis (a floor, not a competitor)',
      },
    ];

    const samples = await interleavedRounds(ctx.runs, measurements.map((m) => ({ label: m.tool, args: m.args })), ctx.log);

    const rows: BenchRow[] = [];
    let reference: BenchRow | undefined;
    let floor: BenchRow | undefined;
    for (const [i, m] of measurements.entries()) {
      const row = roundsRow(what, m.tool, samples[i]!, ctx.packets, m.check);
      rows.push(row);
      if (row.runs === 0) continue;
      if (m.reference) reference = row;
      if (m.floor) floor = row;
    }
    for (const r of rows) {
      if (r.ratePerSecond === null) continue;
      if (reference && r !== reference) r.ratio = `${(reference.medianSeconds / r.medianSeconds).toFixed(2)}x tshark`;
      if (floor && r !== floor && r.tool.startsWith('tcplens seq')) {
        r.notes += `; ${(r.medianSeconds / floor.medianSeconds).toFixed(2)}x capinfos -M's time`;
      }
    }
    // Issue 4/6's targets, on the command that prints what tshark prints: every flag, frame by frame.
    const seqFrames = rows.find((r) => r.tool.startsWith('tcplens seq') && r.tool.includes('--frames') && r.ratePerSecond !== null);
    if (seqFrames && reference && floor) {
      const faster = reference.medianSeconds / seqFrames.medianSeconds;
      const ofFloor = seqFrames.medianSeconds / floor.medianSeconds;
      seqFrames.targets = [
        { goal: `tcplens seq >= 10x faster than tshark on ${ctx.packets.toLocaleString('en-US')} packets (issues 4, 6)`, measured: `${faster.toFixed(1)}x`, met: faster >= 10 },
        { goal: 'tcplens seq takes <= 2x capinfos\' time (issue 6)', measured: `${ofFloor.toFixed(2)}x`, met: ofFloor <= 2 },
      ];
    }
    // Issue 14: the whole report against tshark's flag pass; scans against one read of the file.
    const analyzeRow = rows.find((r) => r.tool.startsWith('tcplens analyze') && r.ratePerSecond !== null);
    if (analyzeRow && reference) {
      const faster = reference.medianSeconds / analyzeRow.medianSeconds;
      analyzeRow.targets = [{ goal: 'tcplens analyze (every table) >= 20x faster than tshark\'s flag pass (issue 14)', measured: `${faster.toFixed(1)}x`, met: faster >= 20 }];
    }
    const scansRow = rows.find((r) => r.tool.startsWith('tcplens scans') && r.ratePerSecond !== null);
    if (scansRow && floor) {
      const ofFloor = scansRow.medianSeconds / floor.medianSeconds;
      scansRow.notes += `; ${ofFloor.toFixed(2)}x capinfos -M's time`;
      scansRow.targets = [{ goal: 'tcplens scans within 2x capinfos -M\'s time (issue 14)', measured: `${ofFloor.toFixed(2)}x`, met: ofFloor <= 2 }];
    }
    return rows;
  },
};
