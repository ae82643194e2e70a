/**
 * A rotation set against the same packets in one file (issue: capture sets): the bench capture
 * (bench/make-capture.ts, ctx.packets packets) cut by `editcap -F pcap -c 1000` into files of 1,000 packets, all
 * given to one `tcplens seq --frames` call, against `tcplens seq --frames` on those pieces merged into one file by
 * `mergecap`. The baseline is the merge, not the uncut capture: the capture is not in strict time order (tcpdump
 * on a veth), so the pieces merged by timestamp, as mergecap and tcplens merge a set, are another packet order
 * with other flags; against the merge both commands do the same work and must print the same flags.
 * The split run is allowed 64 open files (`ulimit -n 64`), so it finishing at all shows that open files stay
 * bounded. Target: within 1.3x the merged file's time and peak RSS.
 *
 * The ratios are medians of per-round ratios over at least MIN_ROUNDS rounds: on this 2-core virtual
 * machine one command's wall time moves by 15-30% from run to run, and with 3 rounds the set measured
 * anywhere from 1.12x to 1.36x for the same build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { interleavedRounds, pairedRatio, roundsRow, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { cliArgs } from '../test/support/paths.js';

const PER_FILE = 1000;
const FD_LIMIT = 64;
const MERGED = 'merged.pcap';
/** Rounds measured at least, whatever --runs says (each round is about 5 s). */
const MIN_ROUNDS = 9;

/** The pieces, cached in a directory next to the capture; the merged file lives beside them, not among them. */
function split(file: string, outDir: string, log: (m: string) => void): { pieces: string[]; dir: string } {
  // In the uncut file's own format (editcap writes pcapng unless told): the row measures the set, not the format.
  const dir = path.join(outDir, `${path.basename(file)}.split${PER_FILE}-pcap`);
  const pieceDir = path.join(dir, 'pieces');
  if (!existsSync(pieceDir) || readdirSync(pieceDir).length === 0) {
    log(`cutting ${file} into files of ${PER_FILE} packets`);
    mkdirSync(pieceDir, { recursive: true });
    execFileSync('editcap', ['-F', 'pcap', '-c', String(PER_FILE), file, path.join(pieceDir, 'part.pcap')]);
  }
  return { pieces: readdirSync(pieceDir).sort().map((f) => path.join(pieceDir, f)), dir };
}

/** The pieces merged by timestamp as mergecap merges (tcplens's frame numbers for a set are this file's). */
function merged(pieces: string[], dir: string, log: (m: string) => void): string {
  const out = path.join(dir, MERGED);
  if (!existsSync(out)) {
    log(`merging ${pieces.length} pieces with mergecap`);
    // Written under another name first, so that an interrupted merge is not taken for a finished one.
    execFileSync('mergecap', ['-F', 'pcap', '-w', `${out}.partial`, ...pieces]);
    renameSync(`${out}.partial`, out);
  }
  return out;
}

const flagRows = (r: ChildRun): number => r.stdout.split('\n').filter((l) => l.length > 0).length - 1;

/** Each output's (frame, flag) pairs, sorted: rows come ordered by capture then frame, and uids are per load. */
const framesAndFlags = (r: ChildRun): string => r.stdout.split('\n').slice(1).filter((l) => l.length > 0)
  .map((l) => l.split(',', 2).join(',')).sort().join('\n');

export const benchmark: BenchModule = {
  name: 'sets',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: file } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const { pieces, dir } = split(file, ctx.outDir, ctx.log);
    const whole = merged(pieces, dir, ctx.log);
    const rel = path.relative(ctx.repoRoot, whole);
    const one = { label: `tcplens seq ${rel} --frames --format csv (the pieces, mergecap'd)`, args: ['-v', process.execPath, ...cliArgs, 'seq', whole, '--frames', '--format', 'csv'] };
    const many = {
      label: `(ulimit -n ${FD_LIMIT}) tcplens seq <${pieces.length} files of ${PER_FILE} packets> --frames --format csv`,
      args: ['-v', 'bash', '-c', `ulimit -n ${FD_LIMIT} && exec "$@"`, 'bash', process.execPath, ...cliArgs, 'seq', ...pieces, '--frames', '--format', 'csv'],
    };
    const [a, b] = await interleavedRounds(Math.max(ctx.runs, MIN_ROUNDS), [one, many], ctx.log);
    const what = `${ctx.packets.toLocaleString('en-US')} packets: one file vs ${pieces.length.toLocaleString('en-US')} files in one call`;
    const rows: BenchRow[] = [
      roundsRow(what, one.label, a!, ctx.packets, (r) => `${flagRows(r)} flag rows`),
      roundsRow(what, many.label, b!, ctx.packets, (r) => {
        const mine = flagRows(r);
        const theirs = a!.last ? flagRows(a!.last) : NaN;
        return `${mine} flag rows, ${mine === theirs ? 'equal to' : 'NOT equal to'} the merged file's ${theirs}`
          + (a!.last && framesAndFlags(r) === framesAndFlags(a!.last) ? ' (the same flags on the same frames)' : ' (other flags or frames)');
      }),
    ];
    if (rows.every((r) => r.runs > 0)) {
      const time = pairedRatio(a!.seconds, b!.seconds);
      const cpu = pairedRatio(a!.cpu, b!.cpu);
      const rss = pairedRatio(a!.rssMb, b!.rssMb);
      const row = rows[1]!;
      row.ratio = `${time.toFixed(2)}x one file (CPU ${cpu.toFixed(2)}x; medians of per-round ratios)`;
      row.targets = [
        { goal: `${pieces.length} files within 1.3x one file's time`, measured: `${time.toFixed(2)}x wall, ${cpu.toFixed(2)}x CPU`, met: time <= 1.3 && cpu <= 1.3 },
        { goal: `${pieces.length} files within 1.3x one file's peak RSS`, measured: `${rss.toFixed(2)}x`, met: rss <= 1.3 },
        { goal: `${pieces.length} files with at most ${FD_LIMIT} open files`, measured: 'ran under ulimit -n 64', met: true },
      ];
    }
    return rows;
  },
};
