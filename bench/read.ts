/**
 * Reading speed: how fast tcplens reads and decodes a 1,000,000-packet capture, against capinfos on the
 * same file. Every tool runs as a child process timed from spawn to exit, several times in sequence;
 * rows give the median with min and max, packets per second at the median and the ratio to capinfos.
 *   - tcplens read+decode: readCapture + FrameDecoder over every frame (bench/read-worker.ts)
 *   - tcplens read only:   readCapture alone, to show the reader's share
 *   - tcplens info:        the CLI as a user runs it (`tcplens info FILE --format json`)
 *   - capinfos -M:         Wireshark's capinfos, everything it reports (exact numbers), the reference;
 *                          and `capinfos -c -M` (packet count only)
 */
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { repeat, timeChild, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { cliArgs } from '../test/support/paths.js';

interface WorkerReport {
  packets: number;
  tcp: number;
  other: number;
  partial: boolean;
  error: string | null;
  seconds: number;
}

export const benchmark: BenchModule = {
  name: 'read',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file, meta } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const what = `read ${ctx.packets.toLocaleString('en-US')} packets (${(meta.sizeBytes / 1e6).toFixed(0)} MB pcap, -s ${meta.snaplen})`;
    const rel = path.relative(ctx.repoRoot, file);
    const worker = path.join(ctx.buildRoot, 'bench/read-worker.js');

    const checkWorker = (run: ChildRun, decode: boolean): WorkerReport => {
      const report = JSON.parse(run.stdout) as WorkerReport;
      if (report.packets !== ctx.packets || report.error) throw new Error(`read-worker read ${report.packets} packets of ${ctx.packets}: ${report.error}`);
      if (decode && report.tcp !== ctx.packets) throw new Error(`read-worker decoded ${report.tcp} TCP packets of ${ctx.packets} (${report.other} other)`);
      return report;
    };

    const inProcess = (r: WorkerReport): string =>
      `inside the process (no Node start-up): ${r.seconds.toFixed(3)} s, ${Math.round(r.packets / r.seconds).toLocaleString('en-US')} packets/s`;

    const measurements: { tool: string; run: () => Promise<ChildRun>; check: (r: ChildRun) => string }[] = [
      {
        tool: `tcplens read+decode: node ${path.relative(ctx.repoRoot, worker)} ${rel}`,
        run: () => timeChild(process.execPath, [worker, file]),
        check: (r) => inProcess(checkWorker(r, true)),
      },
      {
        tool: `tcplens read only: node ${path.relative(ctx.repoRoot, worker)} ${rel} --read-only`,
        run: () => timeChild(process.execPath, [worker, file, '--read-only']),
        check: (r) => inProcess(checkWorker(r, false)),
      },
      {
        tool: `tcplens info ${rel} --format json`,
        run: () => timeChild(process.execPath, [...cliArgs, 'info', file, '--format', 'json']),
        check: (r) => {
          const [info] = JSON.parse(r.stdout) as { packets: number }[];
          if (info?.packets !== ctx.packets) throw new Error(`tcplens info counted ${info?.packets} packets of ${ctx.packets}`);
          return '';
        },
      },
      {
        tool: `capinfos -M ${rel}`,
        run: () => timeChild('capinfos', ['-M', file]),
        check: (r) => {
          const counted = Number(/Number of packets:\s+(\d+)/.exec(r.stdout)?.[1]);
          if (counted !== ctx.packets) throw new Error(`capinfos counted ${counted} packets of ${ctx.packets}`);
          return 'reference: all of capinfos (counts, times, sizes, SHA256/SHA1/RIPEMD160 hashes)';
        },
      },
      {
        tool: `capinfos -c -M ${rel}`,
        run: () => timeChild('capinfos', ['-c', '-M', file]),
        check: () => 'packet count only',
      },
    ];

    const rows: BenchRow[] = [];
    for (const m of measurements) {
      ctx.log(`${ctx.runs} runs: ${m.tool}`);
      try {
        const { summary, last } = await repeat(ctx.runs, m.run);
        rows.push({
          benchmark: what, tool: m.tool, runs: ctx.runs,
          medianSeconds: summary.median, minSeconds: summary.min, maxSeconds: summary.max,
          ratePerSecond: ctx.packets / summary.median, ratio: '', notes: m.check(last),
        });
      } catch (err) {
        // One broken tool must not hide the others' numbers: the row says what failed.
        const message = (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ');
        ctx.log(`failed: ${message}`);
        rows.push({
          benchmark: what, tool: m.tool, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN,
          ratePerSecond: null, ratio: '', notes: `FAILED: ${message}`,
        });
      }
    }
    const decode = rows.find((r) => r.tool.startsWith('tcplens read+decode') && r.ratePerSecond !== null);
    if (decode) {
      decode.targets = [{
        goal: 'read + decode >= 1,000,000 packets/s (issue 6)',
        measured: `${Math.round(decode.ratePerSecond!).toLocaleString('en-US')} packets/s, process start to exit`,
        met: decode.ratePerSecond! >= 1_000_000,
      }];
    }
    const reference = rows.find((r) => r.tool.startsWith('capinfos -M ') && r.ratePerSecond !== null);
    for (const r of rows) {
      if (reference && r !== reference && r.ratePerSecond !== null) {
        r.ratio = `${(r.ratePerSecond / reference.ratePerSecond!).toFixed(2)}x capinfos`;
      }
    }
    return rows;
  },
};
