import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MonotonicToWall, type ClockPair } from '../../recorder/clock.js';

function scripted(samples: ClockPair[]): () => ClockPair {
  let i = 0;
  return () => samples[Math.min(i++, samples.length - 1)]!;
}

test('converts a monotonic stamp with REALTIME - MONOTONIC', () => {
  const c = new MonotonicToWall(scripted([{ realtimeNs: 1_700_000_000_000_000_000n, monotonicNs: 5_000_000_000n, widthNs: 40 }]));
  assert.equal(c.offsetNs, 1_699_999_995_000_000_000n);
  assert.equal(c.toWallNs(5_000_000_123n), 1_700_000_000_000_000_123n);
  assert.equal(c.widthNs, 40);
});

test('refresh follows a stepped or slewed wall clock and reports the change', () => {
  const c = new MonotonicToWall(scripted([
    { realtimeNs: 1_000_000_000_000n, monotonicNs: 1_000n, widthNs: 10 },
    { realtimeNs: 1_000_000_500_000n + 2_000_000_000n, monotonicNs: 2_000_001_000n, widthNs: 12 },
  ]));
  const before = c.toWallNs(3_000_000_000n);
  assert.equal(c.refresh(), 500_000n);
  assert.equal(c.toWallNs(3_000_000_000n) - before, 500_000n);
  assert.equal(c.widthNs, 12);
});
