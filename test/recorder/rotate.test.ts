import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rotation } from '../../recorder/rotate.js';

const S = 1_000_000_000n;

test('without rotation options nothing rotates and the name is -w as given', () => {
  const r = new Rotation({ base: 'out.pcapng' });
  assert.equal(r.enabled, false);
  assert.equal(r.first(0n), 'out.pcapng');
  assert.equal(r.shouldRotate(10 ** 12, 10, 10n ** 15n), false);
});

test('-C rotates once the file holds at least the limit, names follow tcpdump (OUT, OUT1, OUT2)', () => {
  const r = new Rotation({ base: 'cap', maxBytes: 1_000_000 });
  assert.equal(r.first(0n), 'cap');
  assert.equal(r.shouldRotate(999_999, 5, 0n), false);
  assert.equal(r.shouldRotate(1_000_000, 5, 0n), true);
  assert.equal(r.next(0n), 'cap1');
  assert.equal(r.next(0n), 'cap2');
  assert.equal(r.filesOpened, 3);
});

test('a file never rotates before it holds a packet', () => {
  const r = new Rotation({ base: 'cap', maxBytes: 10, maxSeconds: 1 });
  r.first(0n);
  assert.equal(r.shouldRotate(5000, 0, 100n * S), false);
});

test('-C with -W cycles through W padded names, overwriting the oldest', () => {
  const r = new Rotation({ base: 'cap', maxBytes: 1000, maxFiles: 10 });
  assert.equal(r.first(0n), 'cap0');
  const names = Array.from({ length: 11 }, () => r.next(0n));
  assert.deepEqual(names, ['cap1', 'cap2', 'cap3', 'cap4', 'cap5', 'cap6', 'cap7', 'cap8', 'cap9', 'cap0', 'cap1']);
});

test('-G rotates on period boundaries measured from the start, without drift', () => {
  const r = new Rotation({ base: 'cap', maxSeconds: 2 });
  r.first(10n * S);
  assert.equal(r.shouldRotate(100, 1, 11n * S), false);
  assert.equal(r.shouldRotate(100, 1, 12n * S), true);
  assert.equal(r.next(12n * S + 300n), 'cap1');
  // the second period started at 12 s, not at the packet that opened it
  assert.equal(r.shouldRotate(100, 1, 14n * S - 1n), false);
  assert.equal(r.shouldRotate(100, 1, 14n * S), true);
  // a quiet gap skips whole periods
  assert.equal(r.next(19n * S), 'cap2');
  assert.equal(r.shouldRotate(100, 1, 20n * S - 1n), false);
  assert.equal(r.shouldRotate(100, 1, 20n * S), true);
});

test('-G with -W stops after W files', () => {
  const r = new Rotation({ base: 'cap', maxSeconds: 1, maxFiles: 3 });
  assert.equal(r.first(0n), 'cap0');
  assert.equal(r.next(1n * S), 'cap1');
  assert.equal(r.next(2n * S), 'cap2');
  assert.equal(r.next(3n * S), null);
});

test('deadlineNs is the time shouldRotate starts answering yes under -G, and follows each period', () => {
  const r = new Rotation({ base: 'x', maxSeconds: 2 });
  assert.equal(new Rotation({ base: 'x', maxBytes: 10 }).deadlineNs, null);
  r.first(1_000n);
  assert.equal(r.deadlineNs, 2_000_001_000n);
  assert.equal(r.shouldRotate(0, 1, r.deadlineNs! - 1n), false);
  assert.equal(r.shouldRotate(0, 1, r.deadlineNs!), true);
  r.next(5_000_000_000n); // a packet 5 s in: two periods later, no drift
  assert.equal(r.deadlineNs, 6_000_001_000n);
});
