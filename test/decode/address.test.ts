/**
 * Address text: IPv4 dotted quad, IPv6 as tshark prints it (checked against tshark itself on a capture
 * written here), and the bounded caches returning the same text as fresh formatting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatIpv6, ipv4Text, ipv6Text } from '../../analyzer/decode/address.js';
import { tshark } from '../support/tshark.js';
import { bytes, ipv6, le32, tcp } from './build.js';

function v6(text: string): Uint8Array {
  // Test-side parser for the literal forms used below (full or with one "::"), independent of the code.
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = tail === null ? [] : words(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return new Uint8Array(all.flatMap((w) => [w >>> 8, w & 0xff]));
}

test('IPv4 text, including 0.0.0.0 and 255.255.255.255 (a cache slot starts empty, never "0.0.0.0")', () => {
  assert.equal(ipv4Text(new Uint8Array([0, 0, 0, 0]), 0), '0.0.0.0');
  assert.equal(ipv4Text(new Uint8Array([255, 255, 255, 255]), 0), '255.255.255.255');
  assert.equal(ipv4Text(new Uint8Array([9, 9, 10, 0, 20, 1]), 2), '10.0.20.1');
});

test('IPv6 text: RFC 5952 compression, lowercase, embedded IPv4 forms as glibc/tshark print them', () => {
  const cases: Array<[string, string]> = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['0:0:0:0:0:ffff:c000:201', '::ffff:192.0.2.1'],
    ['0:0:0:0:0:0:c000:201', '::192.0.2.1'],
    ['0:0:0:0:0:0:0:2', '::2'],
    ['64:ff9b:0:0:0:0:c000:201', '64:ff9b::c000:201'],
  ];
  for (const [input, want] of cases) {
    assert.equal(formatIpv6(v6(input), 0), want, input);
    assert.equal(ipv6Text(v6(input), 0), want, `${input} (cached)`);
  }
});

test('the caches are bounded and always agree with fresh formatting, however many addresses pass', () => {
  const buf = new Uint8Array(16);
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  for (let i = 0; i < 50_000; i++) {
    for (let j = 0; j < 16; j++) buf[j] = j < 8 && rnd() % 3 === 0 ? 0 : rnd() & 0xff;
    const quad = `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
    assert.equal(ipv4Text(buf, 0), quad);
    assert.equal(ipv4Text(buf, 0), quad, 'second lookup (cache hit)');
    const text = formatIpv6(buf, 0);
    assert.equal(ipv6Text(buf, 0), text);
    assert.equal(ipv6Text(buf, 0), text);
  }
});

test('IPv6 text equals tshark\'s ipv6.src/ipv6.dst on a capture of varied addresses', async () => {
  const addrs: Uint8Array[] = [];
  const literals = ['::', '::1', '2001:db8::1', '2001:db8:0:0:1:0:0:1', 'fe80::', '1:0:0:2:0:0:0:3', '0:0:0:0:0:ffff:c000:201',
    '0:0:0:0:0:0:c000:201', '0:0:0:0:0:0:0:2', '1:2:3:4:5:6:7:8', 'ff02::1:ff00:1', '2001:0:0:1:0:0:0:1', '0:1:0:0:0:0:0:0'];
  for (const l of literals) addrs.push(v6(l));
  let seed = 99;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  for (let i = 0; i < 200; i++) {
    const a = new Uint8Array(16);
    for (let j = 0; j < 16; j += 2) {
      const zero = rnd() % 2 === 0;
      a[j] = zero ? 0 : rnd() & 0xff;
      a[j + 1] = zero ? 0 : rnd() & 0xff;
    }
    addrs.push(a);
  }
  // A pcap of raw IPv6 (LINKTYPE_IPV6 = 229) frames, each from addrs[i] to addrs[i + 1].
  const records: Uint8Array[] = [bytes(le32(0xa1b2c3d4), [2, 0, 4, 0], le32(0), le32(0), le32(65535), le32(229))];
  for (let i = 0; i + 1 < addrs.length; i++) {
    const pkt = ipv6(tcp(), { src: [...addrs[i]!], dst: [...addrs[i + 1]!] });
    records.push(bytes(le32(i), le32(0), le32(pkt.length), le32(pkt.length), pkt));
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-addr-'));
  try {
    const file = path.join(dir, 'addresses.pcap');
    writeFileSync(file, bytes(...records), { mode: 0o600 });
    const { stdout } = await tshark(['-n', '-r', file, '-T', 'fields', '-e', 'ipv6.src', '-e', 'ipv6.dst']);
    const rows = stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, addrs.length - 1);
    rows.forEach(([src, dst], i) => {
      assert.equal(ipv6Text(addrs[i]!, 0), src, `frame ${i + 1} src`);
      assert.equal(ipv6Text(addrs[i + 1]!, 0), dst, `frame ${i + 1} dst`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
