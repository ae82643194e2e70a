/**
 * The contract between bench/run.ts and each benchmark module: a module measures one thing side by side
 * with a reference tool and returns rows; run.ts runs the modules in sequence and renders one table.
 * To add a benchmark: write bench/NAME.ts exporting `benchmark: BenchModule`, add it to MODULES in run.ts.
 */

export interface BenchContext {
  /** Repository root (bench/, fixtures/, node_modules/). */
  repoRoot: string;
  /** The compiled tree the benchmark runs from (dist/ or .build/NAME/): holds bin/tcplens.js. */
  buildRoot: string;
  /** Cache for generated captures and other large artefacts: bench/out/ (gitignored). */
  outDir: string;
  /** Packets in the capture a benchmark generates or uses (--packets, default 1,000,000). */
  packets: number;
  /** Timed runs per measurement; rows report median, min and max (--runs, default 5). */
  runs: number;
  /** Replay rates for the record benchmark, frames per second, 0 = --topspeed (--rates; default in bench/record.ts). */
  recordRates?: number[];
  /** Progress line on stderr (stdout carries only the results table). */
  log(message: string): void;
}

export interface BenchRow {
  /** What is measured, e.g. "read+decode 1,000,000 packets". */
  benchmark: string;
  /** The tool and exact command that was timed. */
  tool: string;
  runs: number;
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  /** Work per second at the median (packets/s for readers), or null when the row has no such rate. */
  ratePerSecond: number | null;
  /** How this row compares with the reference tool of its benchmark, e.g. "2.1x capinfos"; '' for the reference. */
  ratio: string;
  notes: string;
  /** Targets of the issues this row is measured against (bench/run.ts lists them in their own table). */
  targets?: Target[];
}

export interface Target {
  /** The goal as the issue states it, e.g. "read + decode >= 1,000,000 packets/s". */
  goal: string;
  /** The figure that decides it, e.g. "3,456,843 packets/s". */
  measured: string;
  met: boolean;
}

export interface BenchModule {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
