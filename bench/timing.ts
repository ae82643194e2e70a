/** Timing helpers shared by benchmark modules: wall-clock time of whole child processes, and summaries. */
import { spawn } from 'node:child_process';
import type { BenchRow } from './types.js';

export interface ChildRun {
  seconds: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args` to completion and measures wall-clock time from spawn to exit, so start-up (Node, module
 * loading, tshark's dissector registration ...) counts as a user would see it. Fails on non-zero exit or
 * after `timeoutMs` (the child is killed by its pid).
 */
export function timeChild(cmd: string, args: string[], timeoutMs = 600_000): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (status !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')} ended with ${signal ?? `status ${status}`}: ${stderr.trim().slice(0, 500)}`));
        return;
      }
      resolve({ seconds, stdout, stderr });
    });
  });
}

/** GNU time: `TIME -v cmd ...` reports peak RSS and CPU seconds of the whole process on stderr. */
const TIME = '/usr/bin/time';

/** Peak RSS in MB from `time -v` output on stderr. */
function peakRssMb(run: ChildRun): number {
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1]);
  return kb / 1024;
}

/** User + system CPU seconds from `time -v` output on stderr (all threads of the process). */
function cpuSeconds(run: ChildRun): number {
  const user = Number(/User time \(seconds\): ([\d.]+)/.exec(run.stderr)?.[1]);
  const sys = Number(/System time \(seconds\): ([\d.]+)/.exec(run.stderr)?.[1]);
  return user + sys;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new RangeError('no measurements to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * The median of the per-round ratios b[i] / a[i] of two commands measured in the same rounds
 * (interleavedRounds): a slower or faster spell of a shared machine falls on both halves of a round, where
 * a ratio of the two medians mixes rounds measured at different times.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  return summarize(Array.from({ length: n }, (_, i) => b[i]! / a[i]!)).median;
}

/** Runs `times` timed runs one after another (never in parallel: they would compete for the CPU). */
export async function repeat(times: number, once: () => Promise<ChildRun>): Promise<{ summary: Summary; last: ChildRun }> {
  const seconds: number[] = [];
  let last: ChildRun | undefined;
  for (let i = 0; i < times; i++) {
    last = await once();
    seconds.push(last.seconds);
  }
  return { summary: summarize(seconds), last: last! };
}

/** What interleavedRounds measured of one command: per run wall seconds, CPU seconds, peak RSS (MiB). */
export interface RoundSamples {
  seconds: number[];
  cpu: number[];
  rssMb: number[];
  last: ChildRun | null;
  /** Why the command failed (it is not run again after a failure); null when every run succeeded. */
  error: string | null;
}

/**
 * Runs every command once per round, one after another, `runs` rounds, each under `TIME -v` (so `args`
 * start with `-v`): noise from other work on a shared machine falls on all of them alike.
 */
export async function interleavedRounds(
  runs: number, commands: { label: string; args: string[] }[], log: (message: string) => void, timeoutMs?: number,
): Promise<RoundSamples[]> {
  const samples: RoundSamples[] = commands.map(() => ({ seconds: [], cpu: [], rssMb: [], last: null, error: null }));
  for (let round = 1; round <= runs; round++) {
    for (const [i, c] of commands.entries()) {
      const s = samples[i]!;
      if (s.error !== null) continue;
      log(`round ${round}/${runs}: ${c.label}`);
      try {
        const run = await timeChild(TIME, c.args, timeoutMs);
        s.seconds.push(run.seconds);
        s.cpu.push(cpuSeconds(run));
        s.rssMb.push(peakRssMb(run));
        s.last = run;
      } catch (err) {
        s.error = (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ');
        log(`failed: ${s.error}`);
      }
    }
  }
  return samples;
}

/**
 * One command's rounds as a table row: wall seconds (median/min/max), `work` units per second, and in the
 * notes the median CPU seconds, the largest peak RSS and what `check` says of the last run's output. A
 * command that failed, or whose output `check` rejects (by throwing), gives a FAILED row.
 */
export function roundsRow(benchmark: string, tool: string, s: RoundSamples, work: number, check: (r: ChildRun) => string): BenchRow {
  let notes: string;
  try {
    notes = s.error ?? check(s.last!);
  } catch (err) {
    s.error = err instanceof Error ? err.message : String(err);
    notes = s.error;
  }
  if (s.error !== null) {
    return {
      benchmark, tool, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN, ratePerSecond: null, ratio: '', notes: `FAILED: ${s.error}`,
    };
  }
  const wall = summarize(s.seconds);
  return {
    benchmark, tool, runs: s.seconds.length, medianSeconds: wall.median, minSeconds: wall.min, maxSeconds: wall.max,
    ratePerSecond: work / wall.median, ratio: '',
    notes: [`CPU ${summarize(s.cpu).median.toFixed(2)} s`, `peak RSS ${Math.max(...s.rssMb).toFixed(0)} MB`, notes].join('; '),
  };
}
