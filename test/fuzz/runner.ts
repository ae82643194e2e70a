/**
 * The mutation fuzz of readers, decoder and loader: makes each case (mutate.ts), writes it to a file,
 * has the library check it in a child process (worker.ts) under a per-case time bound, and every
 * `cliEvery`-th case also runs one `tcplens` command on it. Shared by the bounded CI test
 * (test/fuzz/mutation.test.ts) and the long form (`npm run fuzz`, bench/fuzz.ts).
 *
 * A case fails when: the library throws or its tables disagree, a case takes longer than the bound (a
 * hang: the child is killed by its PID and a new one started), the child dies (a crash), or the command
 * exits with anything but 0 or 1, says "internal error", or prints any other stderr line than one
 * "tcplens: FILE: at byte N: expected X" for the damage and "tcplens: warning: FILE: ..." notes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.js';
import { makeCase, type FuzzCase, type Input } from './mutate.js';
import type { LibraryVerdict } from './library-check.js';
import type { CaseRequest } from './worker.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

export interface FuzzOptions {
  seed: number;
  /** Case numbers first .. first + cases - 1. */
  first?: number;
  cases: number;
  inputs: readonly Input[];
  /** Directory for the case file (and, with keepFailures, the failing inputs). */
  dir: string;
  /** A case not answered within this is a hang. Generous: a hang detector, not a speed test. */
  caseTimeoutMs: number;
  /** Also run a command on every N-th case (0: never). */
  cliEvery: number;
  keepFailures?: boolean;
  onFailure?: (f: FuzzFailure) => void;
  onProgress?: (done: number) => void;
}

export interface FuzzFailure {
  seed: number;
  index: number;
  input: string;
  mutations: string[];
  gzip: FuzzCase['gzip'];
  via: 'library' | string;
  problem: string;
  /** Where the failing bytes were kept (keepFailures). */
  kept?: string;
}

export interface FuzzSummary {
  cases: number;
  cliCases: number;
  damaged: number;
  failures: FuzzFailure[];
}

const CLI_COMMANDS: readonly string[][] = [
  ['info'], ['seq', '--frames'], ['scans'], ['analyze'], ['query', 'SELECT state, count(*) FROM flows GROUP BY ALL'], ['seq'],
];

class Worker {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private pending: { id: number; resolve: (v: LibraryVerdict | { dead: string }) => void } | null = null;

  private start(): Promise<void> {
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    this.ready = new Promise((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`fuzz worker exited before it was ready (${code ?? signal}): ${stderr}`)));
    });
    child.on('message', (msg: { id?: number } & LibraryVerdict) => {
      if (this.pending && msg.id === this.pending.id) {
        const p = this.pending;
        this.pending = null;
        p.resolve(msg);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.pending) {
        const p = this.pending;
        this.pending = null;
        p.resolve({ dead: `worker died (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
      }
    });
    return this.ready;
  }

  /** The verdict, or 'hang' after `timeoutMs` (the child is then killed), or the child's death. */
  async check(req: CaseRequest, timeoutMs: number): Promise<LibraryVerdict | { dead: string } | 'hang'> {
    if (this.child === null) await this.start();
    const answer = new Promise<LibraryVerdict | { dead: string }>((resolve) => (this.pending = { id: req.id, resolve }));
    this.child!.send(req);
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), timeoutMs)));
    const result = await Promise.race([answer, hang]);
    clearTimeout(timer);
    if (result === 'hang') {
      this.pending = null;
      this.kill();
    }
    return result;
  }

  kill(): void {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
  }
}

/** Problems with one command's run on a case file; empty when it behaved. */
export function cliProblems(file: string, r: { status: number | null; stdout: string; stderr: string }): string[] {
  const problems: string[] = [];
  if (r.status === null) return ['no exit within the time bound (killed)'];
  if (r.status !== 0 && r.status !== 1) problems.push(`exit status ${r.status}`);
  if (/internal error/.test(r.stderr)) problems.push(`internal error: ${r.stderr.trim().split('\n')[0]}`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  const damage = lines.filter((l) => l.startsWith(`tcplens: ${file}: at byte `) && /: at byte \d+: expected .+$/.test(l));
  const notes = lines.filter((l) => l.startsWith(`tcplens: warning: ${file}: `) || l.startsWith(`tcplens: warning: ${path.resolve(file)}: `));
  const other = lines.filter((l) => !damage.includes(l) && !notes.includes(l));
  if (other.length > 0) problems.push(`unexpected stderr: ${other[0]}`);
  if (damage.length > 1) problems.push(`${damage.length} damage lines for one file`);
  if (r.status === 1 && damage.length !== 1) problems.push('exit 1 without one damage line');
  if (r.status === 0 && damage.length !== 0) problems.push('damage reported with exit 0');
  return problems;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const first = opts.first ?? 0;
  const file = path.join(opts.dir, 'case.cap');
  const worker = new Worker();
  const summary: FuzzSummary = { cases: 0, cliCases: 0, damaged: 0, failures: [] };
  const fail = (c: FuzzCase, via: string, problem: string): void => {
    const f: FuzzFailure = { seed: c.seed, index: c.index, input: c.input, mutations: c.mutations, gzip: c.gzip, via, problem };
    if (opts.keepFailures) {
      f.kept = path.join(opts.dir, `failure-${c.seed}-${c.index}.cap`);
      writeFileSync(f.kept, c.bytes);
    }
    summary.failures.push(f);
    opts.onFailure?.(f);
  };
  try {
    for (let index = first; index < first + opts.cases; index++) {
      const c = makeCase(opts.seed, index, opts.inputs);
      writeFileSync(file, c.bytes);
      // Damage in a gzip stream is placed at a decompressed offset, which may lie past the file's size.
      const gzip = c.bytes.length >= 2 && c.bytes[0] === 0x1f && c.bytes[1] === 0x8b;
      const verdict = await worker.check({ id: index, file, size: c.bytes.length, gzip }, opts.caseTimeoutMs);
      if (verdict === 'hang') fail(c, 'library', `no answer within ${opts.caseTimeoutMs} ms (hang)`);
      else if ('dead' in verdict) fail(c, 'library', verdict.dead);
      else {
        if (verdict.damaged) summary.damaged++;
        for (const p of verdict.problems) fail(c, 'library', p);
      }
      if (opts.cliEvery > 0 && index % opts.cliEvery === 0) {
        const args = CLI_COMMANDS[(index / opts.cliEvery) % CLI_COMMANDS.length]!;
        const [command, ...rest] = args;
        const r = await runCli([command!, file, ...rest], { timeoutMs: opts.caseTimeoutMs * 4 });
        summary.cliCases++;
        for (const p of cliProblems(file, r)) fail(c, `tcplens ${args.join(' ')}`, p);
      }
      summary.cases++;
      opts.onProgress?.(summary.cases);
    }
  } finally {
    worker.kill();
    rmSync(file, { force: true });
  }
  return summary;
}

/** One failure as a line a person can act on: how to replay it and what went wrong. */
export function describeFailure(f: FuzzFailure): string {
  return `seed ${f.seed} case ${f.index} (${f.input}; ${f.gzip === 'none' ? '' : `gzip ${f.gzip}; `}${f.mutations.join(', ')}) via ${f.via}: ${f.problem}` +
    (f.kept ? ` [bytes in ${f.kept}]` : '');
}
