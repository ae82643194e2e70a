/**
 * The block encoders byte by byte against layouts written out by hand from the pcapng draft, the hot-path
 * encoder against the allocating one, and the validation that must throw before anything is produced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIdb, encodeIsb, encodeShb, nsToTicks } from '../../recorder/pcapng/blocks.js';
import { encodeEpb, encodeEpbInto, epbSize } from '../support/pcapng/epb.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

test('SHB without options: magic, version 1.0, section length -1, lengths', () => {
  assert.deepEqual(encodeShb({}), hex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000'));
});

test('SHB with a comment padded to 4 and closed by opt_endofopt', () => {
  assert.deepEqual(
    encodeShb({ comment: 'abc' }),
    hex('0a0d0d0a 28000000 4d3c2b1a 0100 0000 ffffffffffffffff 0100 0300 61626300 00000000 28000000'),
  );
});

test('SHB hardware, os and userappl use option codes 2, 3, 4; several comments stay in order', () => {
  const b = encodeShb({ comment: ['a', 'bb'], hardware: 'h', os: 'o', userappl: 'u' });
  assert.equal(b.readUInt32LE(4), b.length);
  assert.equal(b.readUInt32LE(b.length - 4), b.length);
  assert.deepEqual(
    b.subarray(24, b.length - 4),
    hex('0100 0100 61000000 0100 0200 62620000 0200 0100 68000000 0300 0100 6f000000 0400 0100 75000000 00000000'),
  );
});

test('IDB: link type, reserved 0, snaplen, if_tsresol 9 by default', () => {
  assert.deepEqual(
    encodeIdb({ linktype: 1, snaplen: 96 }),
    hex('01000000 20000000 0100 0000 60000000 0900 0100 09000000 00000000 20000000'),
  );
});

test('IDB name, description and another resolution', () => {
  const b = encodeIdb({ linktype: 113, snaplen: 0, name: 'eth0', description: 'up', tsresol: 6 });
  assert.deepEqual(
    b,
    hex('01000000 30000000 7100 0000 00000000 0200 0400 65746830 0300 0200 75700000 0900 0100 06000000 00000000 30000000'),
  );
});

test('EPB: timestamp high then low, lengths, data padded, epb_flags, trailing length', () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5]);
  const b = encodeEpb({ interfaceId: 0, tsNs: 0x0000000100000002n, wireLen: 60, data, flags: 1 });
  assert.deepEqual(
    b,
    hex('06000000 34000000 00000000 01000000 02000000 05000000 3c000000 0102030405 000000 0200 0400 01000000 00000000 34000000'),
  );
});

test('EPB without flags has no options at all', () => {
  const b = encodeEpb({ interfaceId: 3, tsNs: 7n, wireLen: 4, data: Uint8Array.from([9, 9, 9, 9]) });
  assert.deepEqual(b, hex('06000000 24000000 03000000 00000000 07000000 04000000 04000000 09090909 24000000'));
});

test('EPB timestamps scale to the interface resolution (truncating)', () => {
  const b = encodeEpb({ interfaceId: 0, tsNs: 1_700_000_000_123_456_789n, wireLen: 0, data: new Uint8Array(0), tsresol: 6 });
  const ticks = (BigInt(b.readUInt32LE(12)) << 32n) | BigInt(b.readUInt32LE(16));
  assert.equal(ticks, 1_700_000_000_123_456n);
  assert.equal(nsToTicks(1_500n, 12, 'x'), 1_500_000n);
});

test('encodeEpbInto writes exactly what encodeEpb makes, for every padding and with or without flags', () => {
  const target = Buffer.alloc(4096, 0xee); // garbage around the block must not leak into it
  for (let capLen = 0; capLen <= 9; capLen++) {
    for (const flags of [0, 1, 2]) {
      const data = Uint8Array.from({ length: capLen }, (_, i) => i + 1);
      const tsNs = 1_763_870_000_987_654_321n + BigInt(capLen);
      const expected = encodeEpb({ interfaceId: 2, tsNs, wireLen: capLen + 100, data, flags });
      target.fill(0xee);
      const end = encodeEpbInto(target, 8, 2, tsNs, capLen + 100, data, flags);
      assert.equal(end - 8, expected.length);
      assert.equal(epbSize(capLen, flags !== 0), expected.length);
      assert.deepEqual(target.subarray(8, end), expected, `capLen ${capLen} flags ${flags}`);
      assert.equal(target[7], 0xee);
      assert.equal(target[end], 0xee);
    }
  }
});

test('ISB: counters as 64-bit values, start/end times as high/low halves', () => {
  assert.deepEqual(
    encodeIsb({ interfaceId: 0, tsNs: 0x0000000500000006n, recv: 10n, drop: 2n }),
    hex('05000000 34000000 00000000 05000000 06000000 0400 0800 0a00000000000000 0500 0800 0200000000000000 00000000 34000000'),
  );
  const b = encodeIsb({ interfaceId: 1, tsNs: 9n, startNs: 0x0000000100000002n, endNs: 3n, filterAccept: 4n, osDrop: 5n });
  assert.deepEqual(
    b.subarray(20, b.length - 4),
    hex('0200 0800 01000000 02000000 0300 0800 00000000 03000000 0600 0800 0400000000000000 0700 0800 0500000000000000 00000000'),
  );
});

test('bad inputs throw TypeError or RangeError', () => {
  const data = new Uint8Array(4);
  assert.throws(() => encodeIdb({ linktype: 70000, snaplen: 0 }), RangeError);
  assert.throws(() => encodeIdb({ linktype: 1.5, snaplen: 0 }), TypeError);
  assert.throws(() => encodeIdb({ linktype: 1, snaplen: -1 }), RangeError);
  assert.throws(() => encodeIdb({ linktype: 1, snaplen: 0, tsresol: 20 }), RangeError);
  assert.throws(() => encodeIdb({ linktype: 1, snaplen: 0, name: 'x'.repeat(65536) }), RangeError);
  assert.throws(() => encodeIdb({ linktype: 1, snaplen: 0, name: 5 as unknown as string }), TypeError);
  // The limit counts UTF-8 bytes, not characters: 32768 two-byte characters do not fit.
  assert.throws(() => encodeShb({ comment: 'é'.repeat(32768) }), RangeError);
  assert.doesNotThrow(() => encodeShb({ comment: 'x'.repeat(65535) }));
  assert.throws(() => encodeEpb({ interfaceId: -1, tsNs: 0n, wireLen: 4, data }), RangeError);
  assert.throws(() => encodeEpb({ interfaceId: 0, tsNs: -1n, wireLen: 4, data }), RangeError);
  assert.throws(() => encodeEpb({ interfaceId: 0, tsNs: 1n << 64n, wireLen: 4, data }), RangeError);
  assert.throws(() => encodeEpb({ interfaceId: 0, tsNs: 5 as unknown as bigint, wireLen: 4, data }), TypeError);
  assert.throws(() => encodeEpb({ interfaceId: 0, tsNs: 0n, wireLen: 2 ** 32, data }), RangeError);
  assert.throws(() => encodeEpb({ interfaceId: 0, tsNs: 0n, wireLen: 4, data: [1, 2] as unknown as Uint8Array }), TypeError);
  assert.throws(() => encodeIsb({ interfaceId: 0, tsNs: 0n, drop: -1n }), RangeError);
  assert.throws(() => encodeIsb({ interfaceId: 0, tsNs: 0n, recv: 3 as unknown as bigint }), TypeError);
});

test('encodeEpbInto refuses a block that does not fit and leaves the target untouched', () => {
  const target = Buffer.alloc(40, 0xee);
  assert.throws(() => encodeEpbInto(target, 0, 0, 1n, 20, new Uint8Array(20), 0), RangeError);
  assert.throws(() => encodeEpbInto(target, 0, 0, -1n, 2, new Uint8Array(2), 0), RangeError);
  assert.throws(() => encodeEpbInto(target, 0, 0, 1n, 2 ** 32, new Uint8Array(2), 0), RangeError);
  assert.throws(() => encodeEpbInto(target, 0, 0.5, 1n, 2, new Uint8Array(2), 0), RangeError);
  assert.ok(target.every((b) => b === 0xee));
});

test('encodeEpbInto writes correctly into views with a byte offset and when targets alternate', () => {
  const backing = Buffer.alloc(1000, 0xee);
  const a = backing.subarray(3, 400); // odd byte offset into the ArrayBuffer
  const b = Buffer.alloc(400, 0xee);
  const data = Uint8Array.from([7, 7, 7, 7, 7, 7]);
  const expected = encodeEpb({ interfaceId: 1, tsNs: 123_456_789_012n, wireLen: 60, data, flags: 2 });
  for (const target of [a, b, a, b]) {
    const end = encodeEpbInto(target, 4, 1, 123_456_789_012n, 60, data, 2);
    assert.deepEqual(target.subarray(4, end), expected);
  }
  assert.equal(backing[3 + 3], 0xee);
  assert.equal(backing[2], 0xee);
});
