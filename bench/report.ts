/// <reference lib="dom" />
/**
 * `tcplens report` at scale: for the 1M- and 10M-packet benchmark captures (bench/make-capture.ts), the
 * seconds `tcplens report FILE -o OUT.html` takes (process start to exit), the size of the page, and
 * Chromium's time to first paint of the whole report: navigation start to the page's `tcplens-drawn`
 * mark, set after every chart of every section has drawn (headless Debian Chromium, network off, a new
 * page each run). The target (issue 11): under 5 s for 10M packets.
 *
 * Sizes: ctx.packets and 10,000,000; TCPLENS_BENCH_REPORT_SIZES=1000000 (comma list) measures only those.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { summarize } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';
import { chromiumUnavailableReason, launchBrowser } from '../test/report/browser.js';
import { cliArgs } from '../test/support/paths.js';

const TARGET_SECONDS_10M = 5;

function sizes(ctx: BenchContext): number[] {
  const env = process.env['TCPLENS_BENCH_REPORT_SIZES'];
  if (env) return env.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set([ctx.packets, 10_000_000])].sort((a, b) => a - b);
}

export const benchmark: BenchModule = {
  name: 'report',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const why = chromiumUnavailableReason();
    if (why) throw new Error(`report benchmark needs Chromium: ${why}`);
    const rows: BenchRow[] = [];
    mkdirSync(ctx.outDir, { recursive: true });
    for (const packets of sizes(ctx)) {
      const { path: file, meta } = await ensureCapture({ packets, outDir: ctx.outDir, log: ctx.log });
      const out = path.join(ctx.outDir, `report-${packets}.html`);
      const rel = path.relative(ctx.repoRoot, file);
      const label = packets.toLocaleString('en-US');
      ctx.log(`report: tcplens report ${rel}`);
      const makeTimes: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const t = process.hrtime.bigint();
        execFileSync(process.execPath, [...cliArgs, 'report', file, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
        makeTimes.push(Number(process.hrtime.bigint() - t) / 1e9);
      }
      const bytes = statSync(out).size;
      const make = summarize(makeTimes);
      rows.push({
        benchmark: `report of ${label} packets (${(meta.sizeBytes / 1e6).toFixed(0)} MB pcap)`,
        tool: `tcplens report ${rel} -o ${path.relative(ctx.repoRoot, out)}`,
        runs: ctx.runs, medianSeconds: make.median, minSeconds: make.min, maxSeconds: make.max,
        ratePerSecond: packets / make.median, ratio: '',
        notes: `page ${(bytes / 1e6).toFixed(2)} MB`,
      });
      ctx.log(`report: first paint of ${path.basename(out)} in Chromium`);
      const paints: number[] = [];
      const session = await launchBrowser();
      try {
        for (let i = 0; i < ctx.runs; i++) {
          const opened = await session.open(out);
          const drawn = await opened.page.evaluate(() => performance.getEntriesByName('tcplens-drawn')[0]?.startTime ?? NaN);
          if (opened.errors.length > 0 || opened.blocked.length > 0 || !Number.isFinite(drawn)) {
            throw new Error(`report page failed: ${[...opened.errors, ...opened.blocked].join('; ') || 'no tcplens-drawn mark'}`);
          }
          paints.push(drawn / 1000);
          await opened.page.close();
        }
      } finally {
        await session.close();
      }
      const paint = summarize(paints);
      rows.push({
        benchmark: `report of ${label} packets: Chromium time to first paint`,
        tool: 'chromium --headless (puppeteer-core), navigation start to every chart drawn',
        runs: ctx.runs, medianSeconds: paint.median, minSeconds: paint.min, maxSeconds: paint.max,
        ratePerSecond: null, ratio: '',
        notes: `page ${(bytes / 1e6).toFixed(2)} MB`,
        ...(packets >= 10_000_000 ? { targets: [{ goal: `report of 10M packets paints in Chromium in < ${TARGET_SECONDS_10M} s`, measured: `${paint.median.toFixed(2)} s`, met: paint.median < TARGET_SECONDS_10M }] } : {}),
      });
    }
    return rows;
  },
};
