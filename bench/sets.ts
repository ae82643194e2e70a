/**
 * A rotation set against the same packets in one file (issue: capture sets): the bench capture
 * (bench/make-capture.ts, ctx.packets packets) cut by `editcap -c 1000` into files of 1,000 packets, all
 * given to one `tcplens seq --frames` call, against `tcplens seq --frames` on the uncut file. The split run
 * is allowed 64 open files (`ulimit -n 64`), so it finishing at all shows that open files stay bounded.
 * Target: within 1.3x the uncut file's time and peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, summarize } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';

const PER_FILE = 1000;
const FD_LIMIT = 64;

function split(file: string, outDir: string, log: (m: string) => void): string[] {
  const dir = path.join(outDir, `${path.basename(file)}.split${PER_FILE}`);
  if (!existsSync(dir) || readdirSync(dir).length === 0) {
    log(`cutting ${file} into files of ${PER_FILE} packets`);
    mkdirSync(dir, { recursive: true });
    execFileSync('editcap', ['-c', String(PER_FILE), file, path.join(dir, 'part.pcap')]);
  }
  return readdirSync(dir).sort().map((f) => path.join(dir, f));
}

export const benchmark: BenchModule = {
  name: 'sets',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const pieces = split(file, ctx.outDir, ctx.log);
    const cli = path.join(ctx.buildRoot, 'bin/tcplens.js');
    const rel = path.relative(ctx.repoRoot, file);
    const one = { label: `tcplens seq ${rel} --frames --format csv`, args: ['-v', process.execPath, cli, 'seq', file, '--frames', '--format', 'csv'] };
    const many = {
      label: `(ulimit -n ${FD_LIMIT}) tcplens seq <${pieces.length} files of ${PER_FILE} packets> --frames --format csv`,
      args: ['-v', 'bash', '-c', `ulimit -n ${FD_LIMIT} && exec "$@"`, 'bash', process.execPath, cli, 'seq', ...pieces, '--frames', '--format', 'csv'],
    };
    const [a, b] = await interleavedRounds(ctx.runs, [one, many], ctx.log);
    const what = `${ctx.packets.toLocaleString('en-US')} packets: one file vs ${pieces.length.toLocaleString('en-US')} files in one call`;
    const rows: BenchRow[] = [];
    const flagRows = (s: typeof a): number => s!.last!.stdout.split('\n').filter((l) => l.length > 0).length - 1;
    for (const [s, m] of [[a!, one], [b!, many]] as const) {
      if (s.error !== null) {
        rows.push({ benchmark: what, tool: m.label, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN, ratePerSecond: null, ratio: '', notes: `FAILED: ${s.error}` });
        continue;
      }
      const t = summarize(s.seconds);
      rows.push({
        benchmark: what, tool: m.label, runs: s.seconds.length, medianSeconds: t.median, minSeconds: t.min, maxSeconds: t.max,
        ratePerSecond: ctx.packets / t.median, ratio: '',
        notes: `CPU ${summarize(s.cpu).median.toFixed(2)} s, peak RSS ${summarize(s.rssMb).median.toFixed(0)} MiB, ${flagRows(s)} flag rows`,
      });
    }
    if (a!.error === null && b!.error === null) {
      const time = summarize(b!.seconds).median / summarize(a!.seconds).median;
      const rss = summarize(b!.rssMb).median / summarize(a!.rssMb).median;
      const row = rows[1]!;
      row.ratio = `${time.toFixed(2)}x one file`;
      row.targets = [
        { goal: `${pieces.length} files within 1.3x one file's time`, measured: `${time.toFixed(2)}x`, met: time <= 1.3 },
        { goal: `${pieces.length} files within 1.3x one file's peak RSS`, measured: `${rss.toFixed(2)}x`, met: rss <= 1.3 },
        { goal: `${pieces.length} files with at most ${FD_LIMIT} open files`, measured: 'ran under ulimit -n 64', met: true },
      ];
    }
    return rows;
  },
};
