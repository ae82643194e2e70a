/**
 * recorder/rotate.ts: the names of the files and the -G period deadlines the drain thread is given. Whether
 * a packet starts a new file is the drain thread's rule (native/src/epb_file.cc), tested through it in
 * test/recorder/sink.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rotation } from '../../recorder/rotate.js';

const S = 1_000_000_000n;

test('without rotation options nothing rotates and the name is -w as given', () => {
  const r = new Rotation({ base: 'out.pcapng' });
  assert.equal(r.enabled, false);
  assert.equal(r.first(0n), 'out.pcapng');
  assert.equal(r.deadlineNs, null);
});

test('-C: names follow tcpdump (OUT, OUT1, OUT2)', () => {
  const r = new Rotation({ base: 'cap', maxBytes: 1_000_000 });
  assert.equal(r.first(0n), 'cap');
  assert.equal(r.next(0n), 'cap1');
  assert.equal(r.next(0n), 'cap2');
  assert.equal(r.filesOpened, 3);
  assert.equal(r.deadlineNs, null, 'no time rule under -C alone');
});

test('-C with -W cycles through W padded names, overwriting the oldest', () => {
  const r = new Rotation({ base: 'cap', maxBytes: 1000, maxFiles: 10 });
  assert.equal(r.first(0n), 'cap0');
  const names = Array.from({ length: 11 }, () => r.next(0n));
  assert.deepEqual(names, ['cap1', 'cap2', 'cap3', 'cap4', 'cap5', 'cap6', 'cap7', 'cap8', 'cap9', 'cap0', 'cap1']);
});

test('-G: deadlines on period boundaries measured from the start, without drift; a quiet gap skips whole periods', () => {
  const r = new Rotation({ base: 'cap', maxSeconds: 2 });
  r.first(10n * S);
  assert.equal(r.deadlineNs, 12n * S);
  assert.equal(r.next(12n * S + 300n), 'cap1');
  assert.equal(r.deadlineNs, 14n * S, 'the second period started at 12 s, not at the packet that opened it');
  assert.equal(r.next(19n * S), 'cap2');
  assert.equal(r.deadlineNs, 20n * S);
});

test('-G with -W stops after W files', () => {
  const r = new Rotation({ base: 'cap', maxSeconds: 1, maxFiles: 3 });
  assert.equal(r.first(0n), 'cap0');
  assert.equal(r.next(1n * S), 'cap1');
  assert.equal(r.next(2n * S), 'cap2');
  assert.equal(r.next(3n * S), null);
});
