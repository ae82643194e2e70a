/** The TS decoder's record offsets (native/index.ts RECORD) must equal bpf/snapshot.h as the addon compiled it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNative, RECORD } from '../../native/index.js';

// The addon is optional only off Linux; on Linux (CI) a missing build is a failure, not a skip.
const skip = process.platform === 'linux' ? false : `the recorder addon is Linux-only (this is ${process.platform})`;

test('RECORD matches the layout constants the addon exports from bpf/snapshot.h', { skip }, () => {
  const native = loadNative();
  assert.deepEqual({ ...RECORD }, native.layout());
});

test('clockSample pairs REALTIME and MONOTONIC tightly', { skip }, () => {
  const s = loadNative().clockSample();
  assert.equal(typeof s.realtimeNs, 'bigint');
  assert.ok(s.widthNs >= 0 && s.widthNs < 1_000_000, `width ${s.widthNs} ns`);
  // process.hrtime is CLOCK_MONOTONIC too: the sample's monotonic reading lies just before it.
  const now = process.hrtime.bigint();
  assert.ok(now >= s.monotonicNs && now - s.monotonicNs < 1_000_000_000n);
  const wall = BigInt(Date.now()) * 1_000_000n;
  const diff = wall - s.realtimeNs;
  assert.ok(diff >= -1_000_000n && diff < 1_000_000_000n, 'realtime reading is wall-clock time');
});

test('unknown interface is a typed error carrying the operation and errno', { skip }, () => {
  const native = loadNative();
  assert.throws(() => native.interfaceByName('tcplens-nope0'), (err: Error & { operation?: string; errno?: number }) => {
    assert.equal(err.name, 'RuntimeError');
    assert.equal(err.operation, 'if_nametoindex');
    assert.equal(err.errno, 19);
    assert.match(err.message, /unknown interface: tcplens-nope0/);
    return true;
  });
  assert.equal(native.interfaceByName('lo').index, 1);
});
