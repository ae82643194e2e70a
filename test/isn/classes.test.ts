import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessIsn, type IsnSample } from '../../analyzer/isn/index.js';
import { prng } from '../support/prng.js';


/** Irregular connection times: gaps of 50 ms to 2 s, as in a real capture (not nmap's fixed 100 ms). */
function times(count: number, rand: () => number): number[] {
  const out: number[] = [];
  let t = 1_700_000_000;
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += 0.05 + rand() * 1.95;
  }
  return out;
}

const u32 = (x: number) => ((x % 4294967296) + 4294967296) % 4294967296;

test('constant ISNs: class constant, gcd 0, SP 0', () => {
  const r = prng(1);
  const samples = times(8, r).map((ts) => ({ ts, isn: 0x1234 }));
  const a = assessIsn(samples);
  assert.equal(a.class, 'constant');
  assert.equal(a.gcd, 0);
  assert.equal(a.sp, 0);
  assert.equal(a.difficulty, 'Trivial joke');
});

for (const step of [1, 800, 64000]) {
  test(`incremental by ${step} per connection, with other connections in between: class incremental, gcd ${step}`, () => {
    const r = prng(step);
    let isn = 4294967296 - 3 * step; // crosses the 2^32 wrap on purpose
    const samples: IsnSample[] = times(12, r).map((ts) => {
      const s = { ts, isn: u32(isn) };
      isn += step * (1 + Math.floor(r() * 3)); // 1-3 connections made since the last one we saw
      return s;
    });
    const a = assessIsn(samples);
    assert.equal(a.class, 'incremental', a.reason);
    assert.equal(a.gcd, step);
    assert.ok(a.deltas.every((d) => d > 0));
    assert.ok((a.sp ?? 99) < 6, `SP ${a.sp} should be Easy or worse`);
  });
}

test('time-dependent at 250 000/s with jittery clock reads: class time-dependent with the right rate', () => {
  const r = prng(7);
  const base = 4294967296 - 400_000; // wraps
  const samples = times(15, r).map((ts, i) => ({ ts, isn: u32(Math.floor(base + (ts - 1_700_000_000) * 250_000 + i % 3)) }));
  const a = assessIsn(samples);
  assert.equal(a.class, 'time-dependent', a.reason);
  assert.ok(Math.abs(a.ratePerSec! - 250_000) < 2_500, `rate ${a.ratePerSec}`);
  assert.equal(a.isr, Math.round(8 * Math.log2(250_000)));
});

test('uniformly random ISNs: class random, SP "Good luck!"', () => {
  const r = prng(42);
  const samples = times(20, r).map((ts) => ({ ts, isn: Math.floor(r() * 4294967296) }));
  const a = assessIsn(samples);
  assert.equal(a.class, 'random', a.reason);
  assert.ok(a.sp! >= 16 * 8, `SP ${a.sp}`);
  assert.equal(a.difficulty, 'Good luck!');
});

test('random positive increments (old Windows/BSD style): class random, reason says so', () => {
  const r = prng(3);
  let isn = 1000;
  const samples = times(20, r).map((ts) => {
    const s = { ts, isn: u32(isn) };
    isn += 1 + Math.floor(r() * 2 ** 24);
    return s;
  });
  const a = assessIsn(samples);
  assert.equal(a.class, 'random');
  assert.match(a.reason, /random positive increments/);
});

test('fewer than 4 samples: insufficient, no class claimed', () => {
  const a = assessIsn([{ ts: 1, isn: 5 }, { ts: 2, isn: 10 }, { ts: 3, isn: 15 }]);
  assert.equal(a.class, 'insufficient');
});

test("nmap's measures on nmap's own probe spacing: 6 probes 100 ms apart, +64000 each", () => {
  const samples = [0, 1, 2, 3, 4, 5].map((i) => ({ ts: 10 + i * 0.1, isn: 5000 + i * 64000 }));
  const a = assessIsn(samples);
  assert.deepEqual(a.diffs, [64000, 64000, 64000, 64000, 64000]);
  assert.equal(a.gcd, 64000);
  assert.ok(Math.abs(a.ratePerSec! - 640000) < 1e-3);
  assert.equal(a.isr, Math.round(8 * Math.log2(640000)));
  assert.equal(a.class, 'incremental');
  assert.equal(a.sp, 0);
});

test('DIFF1 takes the shorter way round the 2^32 circle', () => {
  const a = assessIsn([
    { ts: 0, isn: 10 },
    { ts: 1, isn: 4294967290 },
    { ts: 2, isn: 10 },
    { ts: 3, isn: 4294967290 },
  ]);
  assert.deepEqual(a.diffs, [16, 16, 16]);
  assert.deepEqual(a.deltas, [-16, 16, -16]);
  assert.equal(a.class, 'random'); // back and forth: not a counter
});
