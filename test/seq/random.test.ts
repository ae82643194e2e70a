/**
 * Differential test against the oracle: seeded random conversations (test/seq/random-scenarios.ts),
 * written as pcap files, read by tshark 4.0 and by tcplens (reader + decoder + engine), compared frame
 * by frame and flag by flag. Exact agreement is required: these small conversations have no
 * ambiguity, so any difference is a rule we got wrong.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SEQ_FLAGS } from '../../analyzer/seq/index.js';
import { compareWithTshark, failures, totals, type FileAgreement } from './oracle.js';
import { randomScenario } from './random-scenarios.js';
import { writeScenarioPcap } from './synth.js';

const SCENARIOS = 40;
const SEGMENTS = 300;
const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-seq-random-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test(`${SCENARIOS} seeded random conversations of ${SEGMENTS} segments agree with tshark on every frame`, async () => {
  const results: FileAgreement[] = [];
  for (let i = 0; i < SCENARIOS; i++) {
    const seed = 5000 + i;
    const file = path.join(dir, `seed-${seed}.pcap`);
    writeScenarioPcap(file, randomScenario(seed, SEGMENTS));
    results.push(await compareWithTshark(file, `seed ${seed}`));
  }
  const sum = totals(results);
  // The generator must keep exercising every rule, or this test would prove less than it claims.
  SEQ_FLAGS.forEach((flag, code) => assert.ok(sum[code]!.tshark > 0, `no ${flag} in the random conversations`));
  const exact = results.flatMap((r) =>
    r.flags.flatMap((a, code) => (a.both === a.tshark && a.both === a.ours ? [] : [`${r.path} ${SEQ_FLAGS[code]}`])));
  assert.deepEqual(exact, [], `differences:\n${failures(results).join('\n')}`);
});
