/**
 * What the recorder benchmarks share (bench/record.ts, bench/record-max.ts): start a recorder in a
 * namespace and wait until it is attached, sample the CPU time of each of its threads from
 * /proc/PID/task/TID/schedstat, stop it by PID with SIGINT and read each tool's exit summary.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { NetnsPair } from '../test/support/netns.js';

export interface ToolResult {
  captured: number;
  dropped: number;
  cpuSeconds: number;
  /** CPU seconds from attach to the stop signal: recording alone, without the one-time cost of stopping. */
  recordingCpuSeconds: number;
  /** CPU seconds from attach to exit per thread name (comm), largest first. */
  threads: [string, number][];
}

/**
 * CPU time of every thread of `pid` in seconds, keyed "tid comm", from /proc/PID/task/TID/schedstat (time
 * on CPU in ns, so a run of 40,000 packets is not lost in the 10 ms ticks of utime/stime). Threads that
 * ended are not listed (the sampler keeps their last reading: at most 50 ms old while the tool runs, 1 ms
 * once it has been told to stop).
 */
export function threadSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      // The main thread and V8's helpers share the name "node": tell the main one apart.
      out.set(`${tid} ${tid === String(pid) ? 'main' : comm}`, ns / 1e9);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}


/** Per thread name: seconds in `last` minus seconds in `first` (threads born later count from 0). */
export function perThreadName(first: Map<string, number>, last: Map<string, number>): [string, number][] {
  const byName = new Map<string, number>();
  for (const [key, seconds] of last) {
    const name = key.slice(key.indexOf(' ') + 1).replace(/\d+$/, 'N');
    byName.set(name, (byName.get(name) ?? 0) + seconds - (first.get(key) ?? 0));
  }
  return [...byName].filter(([, s]) => s >= 0.0005).sort((a, b) => b[1] - a[1]);
}

export interface Watched {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<void>;
  /** CPU seconds per thread at the last sample, and when the tool reported itself attached. */
  lastThreads: () => Map<string, number>;
  readyThreads: Map<string, number>;
  /** Call right before signalling the tool to stop; returns the CPU seconds per thread at that moment. */
  stopping: () => Map<string, number>;
}

export function watch(pair: NetnsPair, ns: string, cmd: string, args: string[], ready: RegExp): Promise<Watched> {
  const child = pair.spawn(ns, cmd, args);
  let err = '';
  let threads = new Map<string, number>();
  // ip netns exec execs the command in place: the child's PID is the tool's.
  // Threads are never forgotten: one that ended (the drain thread, at stop) keeps its last reading.
  const sample = (): void => {
    for (const [key, seconds] of threadSeconds(child.pid!)) threads.set(key, seconds);
  };
  let sampler = setInterval(sample, 50);
  const exited = new Promise<void>((resolve) => child.on('exit', () => {
    clearInterval(sampler);
    resolve();
  }));
  // From the stop signal on, sample every millisecond: a tool's stop (final drain, statistics, unmapping
  // its ring, exit) takes a few ms and would otherwise fall between two samples.
  const stopping = (): Map<string, number> => {
    clearInterval(sampler);
    sample();
    const atStop = new Map(threads);
    sampler = setInterval(sample, 1);
    return atStop;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready: ${err}`)), 20_000);
    child.stdout!.resume();
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (ready.test(err)) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err, exited, lastThreads: () => threads, readyThreads: threadSeconds(child.pid!), stopping });
      }
    });
  });
}

export async function stopAndCount(w: Watched, parse: (stderr: string) => { captured: number; dropped: number }): Promise<ToolResult> {
  const atStop = w.stopping();
  w.child.kill('SIGINT');
  // Bounded wait, and the timer is cleared: left running it kept the bench process alive 30 s after its last tool.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([w.exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
  clearTimeout(timer);
  const threads = perThreadName(w.readyThreads, w.lastThreads());
  const total = (t: [string, number][]): number => t.reduce((a, [, s]) => a + s, 0);
  return { ...parse(w.stderr()), cpuSeconds: total(threads), recordingCpuSeconds: total(perThreadName(w.readyThreads, atStop)), threads };
}

export function number(re: RegExp, text: string): number {
  const m = re.exec(text);
  if (!m) throw new Error(`no ${re} in: ${text.slice(-400)}`);
  return Number(m[1]);
}

export const parseTcplens = (s: string): { captured: number; dropped: number } => ({
  captured: number(/(\d+) packets captured/, s),
  dropped: number(/(\d+) packets dropped by ring buffer/, s),
});
// tcpdump: packets the kernel handed over but tcpdump never read (still in its ring at exit) count as lost too.
export const parseTcpdump = (s: string): { captured: number; dropped: number } => ({
  captured: number(/(\d+) packets captured/, s),
  dropped: number(/(\d+) packets dropped by kernel/, s) + number(/(\d+) packets received by filter/, s) - number(/(\d+) packets captured/, s),
});
