/**
 * A rotation set against the same packets in one file (issue: capture sets): the bench capture
 * (bench/make-capture.ts, ctx.packets packets) cut by `editcap -F pcap -c 1000` into files of 1,000 packets, all
 * given to one `tcplens seq --frames` call, against `tcplens seq --frames` on the uncut file. The split run
 * is allowed 64 open files (`ulimit -n 64`), so it finishing at all shows that open files stay bounded.
 * Target: within 1.3x the uncut file's time and peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, roundsRow, summarize, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';

const PER_FILE = 1000;
const FD_LIMIT = 64;

function split(file: string, outDir: string, log: (m: string) => void): string[] {
  // In the uncut file's own format (editcap writes pcapng unless told): the row measures the set, not the format.
  const dir = path.join(outDir, `${path.basename(file)}.split${PER_FILE}-pcap`);
  if (!existsSync(dir) || readdirSync(dir).length === 0) {
    log(`cutting ${file} into files of ${PER_FILE} packets`);
    mkdirSync(dir, { recursive: true });
    execFileSync('editcap', ['-F', 'pcap', '-c', String(PER_FILE), file, path.join(dir, 'part.pcap')]);
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
    const flagRows = (r: ChildRun): string => `${r.stdout.split('\n').filter((l) => l.length > 0).length - 1} flag rows`;
    const rows: BenchRow[] = [roundsRow(what, one.label, a!, ctx.packets, flagRows), roundsRow(what, many.label, b!, ctx.packets, flagRows)];
    if (rows.every((r) => r.runs > 0)) {
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
