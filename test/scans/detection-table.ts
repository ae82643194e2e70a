/**
 * The detection-delay table of docs/scans.md, computed through the command users run:
 * `tcplens scans FILE --method threshold|trw --format json` on every capture of fixtures/scans and of
 * ../shared/corpus. Prints Markdown.
 *
 *   node dist/test/scans/detection-table.js --table [--no-corpus]
 *
 * Without --table it does nothing (the test runner loads every file under test/), so it never slows
 * `npm test`; test/scans/trw.test.ts checks the claims the table supports.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { corpusEntries } from '../support/corpus.js';
import { fixturesDir } from '../support/paths.js';

const METHODS = ['threshold', 'trw'] as const;
type Method = (typeof METHODS)[number];

interface Found { scanner: string; probes_to_detect: number | null }
interface Result { label: string; benign: boolean; scans: Record<Method, Found[]>; exit: Record<Method, number | null> }

/** Fixtures whose traffic holds no scan (make.sh's benign recipes and the anomalies capture). */
export function isBenignFixture(name: string): boolean {
  return name.startsWith('benign-') || name === 'anomalies';
}

async function run(label: string, file: string, benign: boolean): Promise<Result> {
  const result: Result = { label, benign, scans: { threshold: [], trw: [] }, exit: { threshold: null, trw: null } };
  for (const method of METHODS) {
    const r = await runCli(['scans', file, '--method', method, '--format', 'json'], { timeoutMs: 300_000 });
    result.exit[method] = r.status;
    // Exit 1 = a damaged capture, results up to the damage: still counted.
    if (r.status === 0 || r.status === 1) result.scans[method] = JSON.parse(r.stdout || '[]') as Found[];
  }
  return result;
}

/** Runs `jobs` with at most `width` at a time, results in input order. */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

const delays = (found: Found[]) => found.map((s) => s.probes_to_detect ?? '-').join(', ') || '-';

function median(xs: number[]): number | string {
  if (xs.length === 0) return '-';
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const withCorpus = !process.argv.includes('--no-corpus');
  const dir = path.join(fixturesDir, 'scans');
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort();
  const fixtureJobs = fixtures.map((f) => () => run(f, path.join(dir, f), isBenignFixture(f.replace(/\.pcap$/, ''))));
  const corpusJobs = withCorpus ? corpusEntries().map((e) => () => run(e.path, e.absPath, true)) : [];
  const fx = await pool(fixtureJobs, 2);
  const corpus = await pool(corpusJobs, 2);

  const lines: string[] = [];
  lines.push('| fixture | traffic | threshold: scans | threshold: probes to detect | trw: scans | trw: probes to detect |');
  lines.push('|---|---|---|---|---|---|');
  for (const r of fx) {
    lines.push(`| ${r.label} | ${r.benign ? 'benign' : 'scan'} | ${r.scans.threshold.length} | ${delays(r.scans.threshold)} | ${r.scans.trw.length} | ${delays(r.scans.trw)} |`);
  }
  lines.push('');
  lines.push('| method | scans found in scan fixtures | median probes to detect | false alarms: scans on benign fixtures | corpus captures with a scan | scans in the corpus |');
  lines.push('|---|---|---|---|---|---|');
  for (const m of METHODS) {
    const found = fx.filter((r) => !r.benign).flatMap((r) => r.scans[m]);
    const falseFx = fx.filter((r) => r.benign).reduce((n, r) => n + r.scans[m].length, 0);
    const corpusHits = corpus.filter((r) => r.scans[m].length > 0);
    lines.push(`| ${m} | ${found.length} | ${median(found.map((s) => s.probes_to_detect).filter((x): x is number => x !== null))} | ${falseFx} | ${withCorpus ? `${corpusHits.length} of ${corpus.length}` : 'not run'} | ${withCorpus ? corpusHits.reduce((n, r) => n + r.scans[m].length, 0) : '-'} |`);
  }
  if (withCorpus) {
    const hits = corpus.filter((r) => METHODS.some((m) => r.scans[m].length > 0));
    const failed = corpus.filter((r) => METHODS.some((m) => r.exit[m] !== 0 && r.exit[m] !== 1));
    lines.push('');
    lines.push('| corpus capture with a scan | threshold: scans (probes to detect) | trw: scans (probes to detect) |');
    lines.push('|---|---|---|');
    for (const r of hits) {
      lines.push(`| ${r.label} | ${r.scans.threshold.length} (${delays(r.scans.threshold)}) | ${r.scans.trw.length} (${delays(r.scans.trw)}) |`);
    }
    if (hits.length === 0) lines.push('| (none) | | |');
    lines.push('');
    lines.push(`Corpus captures whose run failed (exit other than 0 or 1): ${failed.map((r) => r.label).join(', ') || 'none'}.`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv.includes('--table')) {
  main().catch((err: unknown) => {
    process.stderr.write(`detection-table: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
