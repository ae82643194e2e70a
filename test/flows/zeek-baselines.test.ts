/**
 * Zeek as the oracle for connections: conn_state, history and packet counts of `tcplens conns` against
 * the conn.logs Zeek's own test suite recorded for the corpus traces (test/flows/zeek-baselines, with
 * Zeek's -C semantics where the btest used it and `--verify-checksums` where it did not). Each must
 * agree on at least 98% of all the connections, and every connection that differs must be one that
 * docs/conns.md lists as kept different (below, with the reason): a new difference fails the test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agreement, compareBaseline, describe, readBaselines, type ConnComparison } from './zeek-oracle.js';

const MIN_SHARE = 0.98;

/** Baselines whose differences tcplens keeps on purpose (docs/conns.md, "Kept different"). */
const KEPT_DIFFERENT: Record<string, string> = {
  'core.tunnels.gre-aruba-amsdu': 'one frame carries two TCP segments (802.11 A-MSDU): the decoder reads the first; Zeek ran with -b, so no port-based role flip',
};

test('conn_state, history and packet counts agree with Zeek on at least 98% of the connections', async () => {
  const baselines = readBaselines();
  assert.ok(baselines.length >= 40, `expected the extracted Zeek baselines (found ${baselines.length})`);
  const all: ConnComparison[] = [];
  for (const b of baselines) all.push(...(await compareBaseline(b)));
  const lines: string[] = [];
  for (const key of ['state', 'history', 'packets'] as const) {
    const a = agreement(all, key);
    lines.push(`${key}: ${a.equal}/${a.total} (${((100 * a.equal) / a.total).toFixed(1)}%)`);
  }
  console.log(lines.join('\n'));
  const differing = all.filter((c) => c.state === false || c.history === false || c.packets === false);
  for (const c of differing) console.log(`  ${describe(c)}${c.baseline in KEPT_DIFFERENT ? `  [kept different: ${KEPT_DIFFERENT[c.baseline]}]` : ''}`);
  for (const key of ['state', 'history', 'packets'] as const) {
    const a = agreement(all, key);
    assert.ok(a.total >= 60, `${key}: too few connections compared (${a.total})`);
    assert.ok(a.equal / a.total >= MIN_SHARE, `${key}: ${a.equal}/${a.total} below 98%:\n` +
      all.filter((c) => c[key] === false).map(describe).join('\n'));
  }
  const unexplained = differing.filter((c) => !(c.baseline in KEPT_DIFFERENT));
  assert.deepEqual(unexplained.map(describe), [], 'differences docs/conns.md does not explain');
});
