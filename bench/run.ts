/**
 * `npm run bench` (node dist/bench/run.js [--packets N] [--runs N] [--only NAME,...] [--rates PPS,...] [--out FILE]): runs the
 * benchmark modules one after another (never in parallel: they measure CPU), prints one Markdown table on
 * stdout and writes it, with the machine it ran on, to bench/RESULTS.md (or --out FILE, so a run of a
 * few modules need not replace the full results). Progress goes to stderr. A module that
 * fails is reported in the table and makes the exit status 1; the others still run.
 * Not a test: nothing here asserts a speed. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { buildRoot, repoRoot } from '../test/support/paths.js';
import { benchmark as analyze } from './analyze.js';
import { benchmark as conns } from './conns.js';
import { benchmark as memory } from './memory.js';
import { benchmark as read } from './read.js';
import { benchmark as record, filterBenchmark as recordFilter } from './record.js';
import { benchmark as recordMax } from './record-max.js';
import { benchmark as sets } from './sets.js';
import { benchmark as report } from './report.js';
import { benchmark as scaling } from './scaling.js';
import { benchmark as startup } from './startup.js';
import { benchmark as write } from './write.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';

/** Every benchmark, in the order they run. Add new modules here. */
const MODULES: BenchModule[] = [read, write, analyze, conns, sets, memory, record, recordMax, recordFilter, report, startup, scaling];

function parseArgs(argv: string[]): { packets: number; runs: number; only: string[] | null; out: string; recordRates: number[] | null } {
  const opts = { packets: 1_000_000, runs: 5, only: null as string[] | null, out: path.join(repoRoot, 'bench/RESULTS.md'), recordRates: null as number[] | null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    const int = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${arg} needs a positive integer, got ${value}`);
      i++;
      return n;
    };
    if (arg === '--packets') opts.packets = int();
    else if (arg === '--runs') opts.runs = int();
    else if (arg === '--only' && value) {
      opts.only = value.split(',');
      i++;
    } else if (arg === '--rates' && value) {
      opts.recordRates = value.split(',').map((r) => {
        const n = Number(r);
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`--rates needs packets per second (0 = top speed), got ${r}`);
        return n;
      });
      i++;
    } else if (arg === '--out' && value) {
      opts.out = path.resolve(value);
      i++;
    } else throw new RangeError(`unknown argument ${arg} (use --packets N, --runs N, --only NAME,... --rates PPS,... --out FILE)`);
  }
  return opts;
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return `${cmd}: not found`;
  }
}

const fmtSeconds = (s: number): string => (Number.isNaN(s) ? '-' : s.toFixed(3));
const fmtRate = (r: number | null): string => (r === null ? '' : Math.round(r).toLocaleString('en-US'));

export function renderTable(rows: BenchRow[]): string {
  const lines = [
    '| benchmark | tool | runs | median s | min s | max s | per second (median) | ratio | notes |',
    '|---|---|--:|--:|--:|--:|--:|---|---|',
  ];
  for (const r of rows) {
    const notes = r.notes.replaceAll('|', '/');
    lines.push(`| ${r.benchmark} | \`${r.tool}\` | ${r.runs} | ${fmtSeconds(r.medianSeconds)} | ${fmtSeconds(r.minSeconds)} | ` +
      `${fmtSeconds(r.maxSeconds)} | ${fmtRate(r.ratePerSecond)} | ${r.ratio} | ${notes} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Every target the rows carry: goal, measured figure, met or not, and the row it comes from. */
export function renderTargets(rows: BenchRow[]): string {
  const lines = ['| target | measured | met | measured by |', '|---|---|---|---|'];
  for (const r of rows) {
    for (const t of r.targets ?? []) lines.push(`| ${t.goal} | ${t.measured} | ${t.met ? 'yes' : '**no**'} | ${r.benchmark}: \`${r.tool}\` |`);
  }
  return lines.length > 2 ? `${lines.join('\n')}\n` : '';
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const ctx: BenchContext = {
    repoRoot, buildRoot, outDir: path.join(repoRoot, 'bench/out'), packets: opts.packets, runs: opts.runs,
    ...(opts.recordRates ? { recordRates: opts.recordRates } : {}),
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  };
  const modules = opts.only ? MODULES.filter((m) => opts.only!.includes(m.name)) : MODULES;
  if (modules.length === 0) throw new RangeError(`no benchmark named ${opts.only!.join(',')}; have ${MODULES.map((m) => m.name).join(', ')}`);
  const rows: BenchRow[] = [];
  let failed = false;
  const isFailure = (r: BenchRow): boolean => r.notes.startsWith('FAILED');
  for (const m of modules) {
    ctx.log(`module ${m.name}`);
    try {
      const got = await m.run(ctx);
      if (got.some(isFailure)) failed = true;
      rows.push(...got);
    } catch (err) {
      failed = true;
      const message = err instanceof Error ? err.message : String(err);
      ctx.log(`module ${m.name} failed: ${message}`);
      rows.push({ benchmark: m.name, tool: '(failed)', runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN, ratePerSecond: null, ratio: '', notes: `FAILED: ${message}` });
    }
  }
  const targets = renderTargets(rows);
  const table = `${targets ? `## Targets\n\n${targets}\n## Every measurement\n\n` : ''}${renderTable(rows)}`;
  process.stdout.write(table);
  const cpu = cpus();
  const machine = [
    `- date: ${new Date().toISOString()}`,
    `- command: \`npm run bench --${process.argv.slice(2).map((a) => ` ${a}`).join('')}\``,
    `- machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores (shared with other work while measuring), Node ${process.version}`,
    `- ${version('tshark', ['-v'])}; ${version('tcpdump', ['--version'])}`,
  ].join('\n');
  writeFileSync(opts.out,
    `# Benchmark results\n\nWritten by \`bench/run.ts\`; see bench/README.md for what each row measures.\n\n${machine}\n\n${table}`);
  return failed ? 1 : 0;
}

main().then((status) => (process.exitCode = status), (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
