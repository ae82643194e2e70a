/**
 * The highest replay rate each recorder takes without losing a frame (issue 14), side by side:
 * `tcplens record -s 128` and `tcpdump -s 128 -w ... tcp` listen on the same veth end at once (as in
 * bench/record.ts) while N parallel `tcplens replay` processes, each paced at rate/N, send into the other
 * end, so one sender's speed is not the ceiling. A bounded search over rates: doubling from START_RATE
 * until both tools have failed or the senders fall short of the asked rate, then bisection (geometric) of
 * the widest interval between a tool's highest passing and lowest failing rate; at most MAX_STEPS steps.
 * When the senders fall short of a rate, the next step asks for the same rate with one more replay
 * process (up to MAX_SENDERS: the machine's load changes from second to second, so a gain too small to
 * see from one to two senders does not prove the next one useless). Every step counts, retries included.
 * A tool passes a step when, in every trial of it, it captured every frame the senders sent and reported
 * 0 dropped (tcpdump: dropped by kernel + received by filter but never written). A tool's zero-drop rate
 * is the highest rate it passed with no failure at that rate or below (noise cannot raise it).
 *
 * The rate that counts is what the senders achieved on the wire, not what was asked: the sending veth
 * end's tx_packets (/proc/PID/net/dev of a process in the sending namespace), sampled every 10 ms, in the
 * busiest second of the trial (so the time between the replays' start-ups does not count), but never
 * above the asked rate (a replay that fell behind catches up in a burst). A step whose
 * achieved rate is below 90% of the asked one is the senders' maximum: the search goes no higher.
 *
 * tcpdump gets the expression `tcp` because tcplens records TCP only: without it tcpdump also keeps the
 * namespaces' own ICMPv6 (router solicitations, MLD), and "captured every frame sent" could not be exact.
 * Both run with their default buffers (tcplens' 8 MiB BPF ring, tcpdump's 2 MiB -B), as users start them.
 * Needs root (network namespaces). Not a test: nothing asserts a speed. See bench/README.md.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { withNetnsPair, netnsUnavailableReason, type NetnsPair } from '../test/support/netns.js';
import { parseTcpdump, parseTcplens, stopAndCount, watch, type ToolResult } from './record-lab.js';
import { summarize } from './timing.js';
import type { BenchContext, BenchModule, BenchRow, Target } from './types.js';
import { cliArgs } from '../test/support/paths.js';

/** First rate asked, frames per second: both tools kept up with 200,000 pps in bench/record.ts. */
const START_RATE = 200_000;
/** No rate below this is tried: a tool failing there is reported as failing at it. */
const MIN_RATE = 10_000;
/** Steps in all (each one `trials` times), sender retries included: bounds the module to a few minutes. */
const MAX_STEPS = 12;
/** Bisection stops when a tool's highest pass and lowest failure are within 10% of each other. */
const PRECISION = 1.1;
/** Seconds of traffic per trial: long enough that the 8 MiB ring (~60,000 records) cannot hide a shortfall. */
const SECONDS_PER_TRIAL = 3;
/** Trials per rate (at most; fewer with --runs): a tool passes a rate only when it loses nothing in all of them. */
const MAX_TRIALS = 3;
/** Each replay process is asked for at most this many frames per second (one reaches ~1.1M at --topspeed here). */
const PER_SENDER = 500_000;
/**
 * Parallel replay processes at most. 4 even on 2 cores: on a shared machine more runnable processes get
 * more of the CPU, and the receive path (both taps' kernel work) runs in the senders' context.
 */
const MAX_SENDERS = Math.max(4, Math.min(8, cpus().length));
/** A step whose senders achieved less than this share of the asked rate is the senders' maximum. */
const SENDER_SHORTFALL = 0.9;
const FIXTURE_FRAMES = 36;

export interface Trial {
  t: ToolResult;
  d: ToolResult;
  /** Frames the replays report sent (sum), and refused by the kernel. */
  sent: number;
  sendFailed: number;
  /** Frames per second on the sending veth end in the busiest second, and over the middle 90% of the frames. */
  achieved: number;
  middle: number;
  /** Frames that arrived on the recorders' veth end (its rx_packets), and the veth pair's drop counters. */
  delivered: number;
  vethDropped: number;
}

export interface Step {
  asked: number;
  senders: number;
  trials: Trial[];
  /** Median achieved rate over the trials. */
  achieved: number;
  /** The senders fell short of the asked rate: `achieved` is their maximum. */
  senderLimited: boolean;
}

type Tool = 'tcplens' | 'tcpdump';
const TOOLS: Tool[] = ['tcplens', 'tcpdump'];
const resultOf = (trial: Trial, tool: Tool): ToolResult => (tool === 'tcplens' ? trial.t : trial.d);
const trialPasses = (trial: Trial, tool: Tool): boolean => {
  const r = resultOf(trial, tool);
  return r.dropped === 0 && r.captured === trial.sent && trial.sent > 0;
};
const passes = (step: Step, tool: Tool): boolean => step.trials.every((x) => trialPasses(x, tool));
/**
 * The rate a step stands for: what the senders achieved, but never more than was asked (a paced replay
 * that fell behind catches up in a burst, so its busiest second can exceed the asked rate).
 */
const rateOf = (step: Step): number => Math.min(step.asked, step.achieved);

/** Per tool: the highest rate passed below the lowest rate failed (non-monotonic noise cannot invert them). */
export function bounds(steps: Step[], tool: Tool): { pass: Step | null; fail: Step | null } {
  let fail: Step | null = null;
  for (const s of steps) if (!passes(s, tool) && (fail === null || rateOf(s) < rateOf(fail))) fail = s;
  let pass: Step | null = null;
  for (const s of steps) {
    if (passes(s, tool) && (fail === null || rateOf(s) < rateOf(fail)) && (pass === null || rateOf(s) > rateOf(pass))) pass = s;
  }
  return { pass, fail };
}

const round = (r: number): number => Math.max(MIN_RATE, Math.round(r / 1000) * 1000);

/**
 * The senders' maximum was reached: the last step at the highest rate asked fell short of it (an earlier
 * shortfall that more senders made up for does not count).
 */
function sendersAtMaximum(steps: Step[]): boolean {
  const top = Math.max(...steps.map((s) => s.asked));
  return steps.filter((s) => s.asked === top).at(-1)?.senderLimited ?? false;
}

/** Replay processes for a new rate: enough for PER_SENDER each, and never fewer than a lower rate needed. */
function sendersFor(steps: Step[], rate: number): number {
  const below = steps.filter((s) => s.asked <= rate).map((s) => s.senders);
  return Math.min(MAX_SENDERS, Math.max(Math.ceil(rate / PER_SENDER), ...below));
}

/** The next rate to ask for and from how many senders, or null when the search is done. */
export function nextStep(steps: Step[]): { rate: number; senders: number } | null {
  if (steps.length === 0) return { rate: START_RATE, senders: sendersFor(steps, START_RATE) };
  // 0. The senders fell short: the same rate from one more.
  const last = steps[steps.length - 1]!;
  if (last.senderLimited && last.senders < MAX_SENDERS) {
    return { rate: last.asked, senders: last.senders + 1 };
  }
  const asked = new Set(steps.map((s) => s.asked));
  const fresh = (r: number): { rate: number; senders: number } | null => (asked.has(r) ? null : { rate: r, senders: sendersFor(steps, r) });
  const senderMax = sendersAtMaximum(steps);
  const b = TOOLS.map((tool) => bounds(steps, tool));
  // 1. Doubling while a tool has not failed yet and the senders keep up.
  if (!senderMax && b.some(({ fail }) => fail === null)) return fresh(2 * Math.max(...steps.map((s) => s.asked)));
  // 2. Halving below a tool that failed at every rate tried.
  const neverPassed = b.filter(({ pass, fail }) => pass === null && fail !== null && rateOf(fail) > MIN_RATE);
  if (neverPassed.length > 0) return fresh(round(Math.min(...neverPassed.map(({ fail }) => rateOf(fail!))) / 2));
  // 3. Bisection of the widest interval.
  const open = b.filter(({ pass, fail }) => pass !== null && fail !== null && rateOf(fail) / rateOf(pass) > PRECISION);
  open.sort((x, y) => rateOf(y.fail!) / rateOf(y.pass!) - rateOf(x.fail!) / rateOf(x.pass!));
  for (const { pass, fail } of open) {
    const r = round(Math.sqrt(rateOf(pass!) * rateOf(fail!)));
    if (r > rateOf(pass!) && r < rateOf(fail!) && !asked.has(r)) return fresh(r);
  }
  return null;
}

/** Counters of one interface as the namespace of `pid` sees it (/proc/PID/net/dev). */
function netdev(pid: number, dev: string): { rxPackets: number; rxDrop: number; txPackets: number; txDrop: number } {
  for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== dev) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    return { rxPackets: f[1]!, rxDrop: f[3]!, txPackets: f[9]!, txDrop: f[11]! };
  }
  throw new Error(`no ${dev} in /proc/${pid}/net/dev`);
}

/** A process parked in namespace `ns` (killed by PID at cleanup), through which its counters are read. */
async function anchor(pair: NetnsPair, ns: string): Promise<number> {
  const child = pair.spawn(ns, 'sleep', ['600']);
  const pid = child.pid!;
  // ip netns exec execs sleep in place once it has entered the namespace: until then /proc/PID/net is ours.
  for (let i = 0; i < 500; i++) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return pid;
    } catch {
      /* not there yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`sleep in namespace ${ns} did not start`);
}

/**
 * Frames per second in the busiest second of the trial (from 10 ms samples of the sending end's
 * tx_packets), and over the middle 90% of the frames. The busiest second is the rate the recorders faced
 * with every sender running: the replays start a few hundred ms apart (Node's start-up on a busy
 * machine), which lowers the whole-run average without the senders being short of the rate.
 */
function achievedRates(samples: Array<{ s: number; tx: number }>): { busiest: number; middle: number } {
  const base = samples[0]!.tx;
  const total = samples[samples.length - 1]!.tx - base;
  if (total <= 0) return { busiest: 0, middle: 0 };
  const i5 = samples.findIndex((x) => x.tx - base >= 0.05 * total);
  const i95 = samples.findIndex((x) => x.tx - base >= 0.95 * total);
  const span = samples[i95]!.s - samples[i5]!.s;
  const middle = span > 0 ? (samples[i95]!.tx - samples[i5]!.tx) / span : 0;
  let busiest = 0;
  for (let i = 0, j = 0; i < samples.length; i++) {
    while (j < samples.length && samples[j]!.s - samples[i]!.s < 1) j++;
    if (j === samples.length) break;
    busiest = Math.max(busiest, (samples[j]!.tx - samples[i]!.tx) / (samples[j]!.s - samples[i]!.s));
  }
  return { busiest: busiest || middle, middle };
}

interface Sender {
  child: ChildProcess;
  done: Promise<{ sent: number; failed: number }>;
}

function startSender(pair: NetnsPair, fixture: string, loops: number, pps: number): Sender {
  const child = pair.spawn(pair.a, process.execPath, [...cliArgs, 'replay', fixture, '-i', pair.vethA, '--loop', String(loops), '--pps', String(pps)]);
  let err = '';
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<{ sent: number; failed: number }>((resolve, reject) => {
    child.on('exit', (status, signal) => {
      const sent = /(\d+) frames sent/.exec(err);
      // Exit 1 with a count means some frames were refused (named on stderr): counted, not fatal.
      if (!sent) reject(new Error(`replay ended with ${signal ?? `status ${status}`}: ${err.trim().slice(-400)}`));
      else resolve({ sent: Number(sent[1]), failed: Number(/, (\d+) failed/.exec(err)?.[1] ?? 0) });
    });
  });
  return { child, done };
}

async function trial(ctx: BenchContext, rate: number, senders: number): Promise<Trial> {
  const fixture = path.join(ctx.repoRoot, 'fixtures/http-loopback.pcapng');
  const ours = path.join(ctx.outDir, 'record-max.pcapng');
  const theirs = path.join(ctx.outDir, 'record-max.tcpdump.pcap');
  const loops = Math.max(1, Math.round((rate / senders) * SECONDS_PER_TRIAL / FIXTURE_FRAMES));
  try {
    return await withNetnsPair(async (pair) => {
      const senderSide = await anchor(pair, pair.a);
      const rec = await watch(pair, pair.b, process.execPath, [...cliArgs, 'record', '-i', pair.vethB, '-w', ours, '-s', '128'], /"msg":"recording"/);
      const td = await watch(pair, pair.b, 'tcpdump', ['-i', pair.vethB, '-s', '128', '-n', '-w', theirs, 'tcp'], /listening on/);
      const receiverSide = rec.child.pid!;
      const rx0 = netdev(receiverSide, pair.vethB);
      const tx0 = netdev(senderSide, pair.vethA);
      const t0 = process.hrtime.bigint();
      const samples: Array<{ s: number; tx: number }> = [];
      const sample = (): void => {
        samples.push({ s: Number(process.hrtime.bigint() - t0) / 1e9, tx: netdev(senderSide, pair.vethA).txPackets });
      };
      sample();
      const sampler = setInterval(sample, 10);
      const started = Array.from({ length: senders }, () => startSender(pair, fixture, loops, rate / senders));
      // Bounded: a replay that has not ended long after its traffic should have is killed by its PID.
      const limit = setTimeout(() => {
        for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      }, (SECONDS_PER_TRIAL * 10 + 30) * 1000);
      let sent: Array<{ sent: number; failed: number }>;
      try {
        sent = await Promise.all(started.map((s) => s.done));
      } finally {
        clearTimeout(limit);
        clearInterval(sampler);
      }
      sample();
      await new Promise((r) => setTimeout(r, 1500)); // both drain what they hold
      const rx1 = netdev(receiverSide, pair.vethB);
      const tx1 = netdev(senderSide, pair.vethA);
      const t = await stopAndCount(rec, parseTcplens);
      const d = await stopAndCount(td, parseTcpdump);
      const rates = achievedRates(samples);
      return {
        t, d,
        sent: sent.reduce((a, x) => a + x.sent, 0),
        sendFailed: sent.reduce((a, x) => a + x.failed, 0),
        achieved: rates.busiest,
        middle: rates.middle,
        delivered: rx1.rxPackets - rx0.rxPackets,
        vethDropped: tx1.txDrop - tx0.txDrop + rx1.rxDrop - rx0.rxDrop,
      };
    });
  } finally {
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
}

/** One rate from `senders` replay processes, `trials` times (fewer once both tools have lost frames). */
async function measureStep(ctx: BenchContext, rate: number, senders: number): Promise<Step> {
  const trials: Trial[] = [];
  const count = Math.min(ctx.runs, MAX_TRIALS);
  for (let i = 1; i <= count; i++) {
    ctx.log(`record-max: ${rate} pps from ${senders} replay process(es) (trial ${i} of ${count})`);
    const started = process.hrtime.bigint();
    const x = await trial(ctx, rate, senders);
    ctx.log(`record-max:   achieved ${Math.round(x.achieved)} pps (busiest second; ${Math.round(x.middle)} over the middle 90%), sent ${x.sent}, delivered ${x.delivered}; ` +
      `tcplens ${x.t.captured} captured/${x.t.dropped} dropped, tcpdump ${x.d.captured}/${x.d.dropped} (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)`);
    trials.push(x);
    if (TOOLS.every((tool) => trials.some((y) => !trialPasses(y, tool)))) break;
  }
  const achieved = summarize(trials.map((x) => x.achieved)).median;
  return { asked: rate, senders, trials, achieved, senderLimited: achieved < SENDER_SHORTFALL * rate };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const replays = (n: number): string => `${n} replay${n > 1 ? 's' : ''}`;

/** Asked and achieved rate of a step, and the senders. */
function stepRate(step: Step): string {
  const middle = summarize(step.trials.map((x) => x.middle)).median;
  return `${fmt(step.asked)} asked, ${fmt(step.achieved)} achieved in the busiest second (${fmt(middle)} over the middle 90% of the frames) ` +
    `by ${replays(step.senders)}${step.senderLimited ? ', short of it' : ''}`;
}

/** What each tool did at a step, trial by trial, and frames lost before the taps (if any). */
function stepOutcome(step: Step): string {
  const tool = (name: Tool): string => step.trials.map((x) => {
    const r = resultOf(x, name);
    return trialPasses(x, name) ? 'ok' : `${r.captured}/${x.sent} captured, ${r.dropped} dropped`;
  }).join(' + ');
  const path = step.trials.some((x) => x.delivered < x.sent || x.vethDropped > 0 || x.sendFailed > 0)
    ? `; veth delivered ${step.trials.map((x) => `${x.delivered}/${x.sent}`).join(' + ')}, veth drops ${step.trials.map((x) => x.vethDropped).join('/')}, send failures ${step.trials.map((x) => x.sendFailed).join('/')}`
    : '';
  return `tcplens ${tool('tcplens')}, tcpdump ${tool('tcpdump')}${path}`;
}

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const why = netnsUnavailableReason();
  if (why) throw new Error(`record-max benchmark needs network namespaces: ${why}`);
  mkdirSync(ctx.outDir, { recursive: true });
  const steps: Step[] = [];
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = nextStep(steps);
    if (next === null) break;
    steps.push(await measureStep(ctx, next.rate, next.senders));
  }
  const trials = Math.min(ctx.runs, MAX_TRIALS);
  const label = `record-max: highest rate with 0 drops, ${steps.length} steps (doubling from ${fmt(START_RATE)} pps, then bisection), up to ${trials} trial${trials > 1 ? 's' : ''} of ${SECONDS_PER_TRIAL} s each`;
  const senderMax = Math.max(...steps.map((s) => s.achieved));
  const found = new Map(TOOLS.map((tool) => [tool, bounds(steps, tool)] as const));
  // Where the search ended without a tool failing: the senders' maximum, or (no sender short) the step limit.
  const ceiling = sendersAtMaximum(steps)
    ? `the senders' maximum (${fmt(senderMax)} pps achieved, up to ${replays(Math.max(...steps.map((s) => s.senders)))})`
    : `the highest rate tried, ${fmt(Math.max(...steps.map(rateOf)))} pps (the step limit, not the senders, ended the search)`;
  const best = (tool: Tool): number => {
    const { pass } = found.get(tool)!;
    return pass ? rateOf(pass) : 0;
  };

  const row = (tool: Tool, command: string, ratio: string): BenchRow => {
    const { pass, fail } = found.get(tool)!;
    const at = pass ?? fail ?? steps[steps.length - 1]!;
    const results = at.trials.map((x) => resultOf(x, tool));
    const cpu = summarize(results.map((r) => r.cpuSeconds));
    const perM = summarize(results.map((r) => (r.captured > 0 ? r.cpuSeconds / (r.captured / 1e6) : 0)));
    const recordingPerM = summarize(results.map((r) => (r.captured > 0 ? r.recordingCpuSeconds / (r.captured / 1e6) : 0)));
    const median = results.find((r) => r.cpuSeconds === cpu.median) ?? results[0]!;
    const verdict = pass
      ? `0 drops up to ${fmt(rateOf(pass))} pps (${stepRate(pass)})`
      : `lost frames at every rate tried, down to ${fmt(rateOf(at))} pps`;
    const limit = fail
      ? `first failing rate: ${fmt(rateOf(fail))} pps (${stepRate(fail)}): ${stepOutcome(fail)}`
      : `no failing rate: no drops up to ${ceiling}`;
    // Passes above the first failure (noise on a shared machine) are named, not counted.
    const above = fail ? steps.filter((s) => passes(s, tool) && rateOf(s) > rateOf(fail)).map((s) => fmt(rateOf(s))) : [];
    const noise = above.length > 0 ? `; also passed above it, at ${above.join(', ')} pps (not counted)` : '';
    return {
      benchmark: label, tool: command, runs: results.length,
      medianSeconds: cpu.median, minSeconds: cpu.min, maxSeconds: cpu.max,
      ratePerSecond: pass ? rateOf(pass) : null,
      ratio,
      notes: `${verdict}; ${limit}${noise}; CPU s (all threads, attach to exit) at ${pass ? 'the highest passing rate' : 'the lowest failing rate'} in the s columns: ` +
        `${perM.median.toFixed(2)} (${perM.min.toFixed(2)}-${perM.max.toFixed(2)}) CPU s per million packets, ${recordingPerM.median.toFixed(2)} while recording (stop left out), captured ${results.map((r) => r.captured).join('/')}; ` +
        `by thread (median trial): ${median.threads.map(([n, s]) => `${n} ${s.toFixed(3)}`).join(', ') || '-'}`,
    };
  };

  const ours = best('tcplens');
  const theirs = best('tcpdump');
  const dump = row('tcpdump', 'tcpdump -s 128 -w FILE tcp', '');
  const lens = row('tcplens', 'tcplens record -s 128', theirs > 0 ? `${(ours / theirs).toFixed(2)}x tcpdump's zero-drop rate` : 'tcpdump passed no rate: no ratio');
  const bothAtSenderMax = !found.get('tcplens')!.fail && !found.get('tcpdump')!.fail;
  const target: Target = {
    goal: "tcplens zero-drop rate >= tcpdump's on the same veth (issue 14)",
    measured: `${fmt(ours)} pps vs ${fmt(theirs)} pps${bothAtSenderMax ? ` (neither dropped up to ${ceiling})` : found.get('tcplens')!.fail ? '' : ` (tcplens: no drops up to ${ceiling})`}`,
    met: ours >= theirs,
  };
  lens.targets = [target];
  const sender: BenchRow = {
    benchmark: label, tool: `tcplens replay x N (N = rate / ${fmt(PER_SENDER)} rounded up, one more while short of the rate, at most ${MAX_SENDERS}; each at rate/N)`, runs: steps.reduce((a, s) => a + s.trials.length, 0),
    medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN,
    ratePerSecond: senderMax,
    ratio: '',
    notes: `the senders: asked vs achieved (sending veth end's tx_packets, median of the trials), in the order tried; per second = the highest achieved. ${steps.map((s, i) => `${i + 1}. ${stepRate(s)}: ${stepOutcome(s)}`).join('; ')}`,
  };
  return [dump, lens, sender];
}

export const benchmark: BenchModule = { name: 'record-max', run };
