/**
 * readCapture's contract beyond the bytes: a callback's own exception is not "damaged input" and
 * propagates; a cancelled read stops between chunks with partial:true and what was read so far;
 * the RawPacket object is reused (callers must copy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readCapture } from '../../analyzer/readers/index.js';
import type { RawPacket } from '../../analyzer/readers/types.js';
import { corpusDir, fixturesDir } from '../support/paths.js';

const fixture = path.join(fixturesDir, 'http-loopback.pcapng');

test('an exception thrown by the callback propagates unchanged', async () => {
  await assert.rejects(readCapture(fixture, () => { throw new TypeError('from the callback'); }), { name: 'TypeError', message: 'from the callback' });
});

test('an aborted signal ends the read as partial, with a CaptureError naming the offset', async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await readCapture(fixture, () => {}, { signal: ac.signal });
  assert.equal(r.partial, true);
  assert.match(r.error!.message, /: at byte \d+: expected to read on, but the read was cancelled$/);
  // The whole 5 KB file was in the first chunk: its packets were delivered before the check.
  assert.equal(r.packets, 36);
});

test('one RawPacket object is handed out for every packet, frames numbered 1..n', async () => {
  const seen = new Set<RawPacket>();
  const frames: number[] = [];
  const r = await readCapture(path.join(corpusDir, 'zeek/echo-connections.pcap.gz'), (p) => {
    seen.add(p);
    frames.push(p.frame);
  });
  assert.equal(r.compression, 'gzip');
  assert.equal(r.packets, 82582);
  assert.equal(seen.size, 1);
  assert.ok(frames.every((f, i) => f === i + 1));
});
