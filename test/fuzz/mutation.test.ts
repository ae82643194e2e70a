/**
 * Issue 9 item 6: the bounded, seeded mutation fuzz of readers, decoder and loader that CI runs (about a
 * minute on two cores). 600 cases made from small corpus captures and the fixtures by byte flips, cuts,
 * extreme length fields, duplicated and inserted bytes (test/fuzz/mutate.ts), each loaded through the
 * public library (openCaptures) in a child process under a per-case bound, and every 20th also run
 * through one `tcplens` command (info, seq, scans, analyze, query in turn). No case may throw, hang, crash,
 * print "internal error", exit other than 0/1, or report damage other than one "FILE: at byte N:
 * expected X" line. The seed is fixed so CI repeats; TCPLENS_FUZZ_SEED tries another by hand, and the
 * long form is `npm run fuzz -- --cases 20000`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fuzzInputs } from './inputs.js';
import { describeFailure, runFuzz } from './runner.js';

const SEED = Number(process.env['TCPLENS_FUZZ_SEED'] ?? 0x5eed09);
const CASES = 600;
/** Inputs up to 32 KiB: 500 of the corpus's captures and most fixtures, each case a few dozen ms. */
const MAX_INPUT_BYTES = 32 * 1024;

test(`mutation fuzz, seed ${SEED}: ${CASES} damaged captures through the library, every 20th through the command`, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-mfuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const inputs = fuzzInputs(MAX_INPUT_BYTES);
  assert.ok(inputs.length > 400, `${inputs.length} inputs`);
  const summary = await runFuzz({ seed: SEED, cases: CASES, inputs, dir, caseTimeoutMs: 60_000, cliEvery: 20 });
  t.diagnostic(`${summary.cases} cases (${summary.cliCases} through the command), ${summary.damaged} reported damage, ${summary.failures.length} failures`);
  assert.equal(summary.cases, CASES);
  assert.ok(summary.damaged > CASES / 4, 'the mutations do damage the captures');
  assert.deepEqual(summary.failures.map(describeFailure), []);
});
