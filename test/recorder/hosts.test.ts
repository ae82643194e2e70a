import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv6Bytes } from '../../recorder/record.js';

test('ipv6Bytes turns every textual form into the 16 network-order bytes', () => {
  const cases: [string, string][] = [
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['fd00:199::2', 'fd000199000000000000000000000002'],
    ['2607:f8b0:400c:c03::1a', '2607f8b0400c0c03000000000000001a'],
    ['2001:470:e5bf:dead:4957:2174:e82c:4887', '20010470e5bfdead49572174e82c4887'],
    ['fe80::', 'fe800000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::10.1.2.3', '0064ff9b00000000000000000a010203'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ];
  for (const [text, hex] of cases) assert.equal(ipv6Bytes(text).toString('hex'), hex, text);
});
