/**
 * The long form of the mutation fuzz (issue 9, item 6): `npm run fuzz -- --cases 20000 [--seed N]
 * [--first K] [--max-bytes B] [--cli-every M] [--timeout-ms T] [--keep DIR]`.
 * Prints what it ran (seed, case range, inputs, commands sampled) and each failing case with the seed
 * and case number that replay it (`--seed S --max-bytes B --first CASE --cases 1`: the inputs depend on
 * --max-bytes); exits 1 when any case failed.
 * The bounded CI run is test/fuzz/mutation.test.ts (same engine, fewer and smaller cases).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fuzzInputs } from '../test/fuzz/inputs.js';
import { describeFailure, runFuzz } from '../test/fuzz/runner.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    first: { type: 'string', default: '0' },
    'max-bytes': { type: 'string', default: String(1 << 20) },
    'cli-every': { type: 'string', default: '50' },
    'timeout-ms': { type: 'string', default: '60000' },
    keep: { type: 'string' },
  },
});

const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`fuzz: --${name} wants a non-negative integer, got ${v}\n`);
    process.exit(2);
  }
  return n;
};

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : num('seed', values.seed);
const cases = num('cases', values.cases);
const first = num('first', values.first);
const maxBytes = num('max-bytes', values['max-bytes']);
const cliEvery = num('cli-every', values['cli-every']);
const timeoutMs = num('timeout-ms', values['timeout-ms']);
const dir = values.keep ?? mkdtempSync(path.join(tmpdir(), 'tcplens-fuzz-'));
if (values.keep) mkdirSync(dir, { recursive: true });

const inputs = fuzzInputs(maxBytes);
const started = Date.now();
console.log(`fuzz: seed ${seed}, cases ${first}..${first + cases - 1}, ${inputs.length} inputs (corpus and fixtures up to ${maxBytes} bytes), ` +
  `${cliEvery > 0 ? `a command on every ${cliEvery}th case` : 'no command runs'}, ${timeoutMs} ms per case before it counts as a hang`);
let lastReport = started;
const summary = await runFuzz({
  seed, first, cases, inputs, dir, caseTimeoutMs: timeoutMs, cliEvery, keepFailures: values.keep !== undefined,
  onFailure: (f) => console.log(`FAIL ${describeFailure(f)}`),
  onProgress: (done) => {
    if (Date.now() - lastReport < 10_000) return;
    lastReport = Date.now();
    console.log(`fuzz: ${done}/${cases} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  },
});
if (!values.keep) rmSync(dir, { recursive: true, force: true });
const failedCases = new Set(summary.failures.map((f) => f.index)).size;
console.log(`fuzz: ran ${summary.cases} cases (${summary.cliCases} also through the command) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
  `${summary.damaged} reported damage; ${failedCases} failed` + (failedCases > 0 ? ` (replay one: npm run fuzz -- --seed ${seed} --max-bytes ${maxBytes} --first CASE --cases 1)` : ''));
process.exitCode = failedCases > 0 ? 1 : 0;
