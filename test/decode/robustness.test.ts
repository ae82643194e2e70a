/**
 * Bad input never throws and never reads past the captured bytes: every sample frame (each link type and
 * tunnel) cut at every length, then mutated at random (seeded, so a failure can be replayed), and random
 * bytes under every link type. Frames are read through a guard that throws on any out-of-range read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeStatus, FrameDecoder, newDecodedPacket, type DecodedPacket } from '../../analyzer/decode/index.js';
import { be16, be32, bytes, ether, ext6, fragment6, guarded, inWindow, ipv4, ipv6, le16, le32, MAC_A, MAC_B, tagged, tcp, udp } from './build.js';

/** Mutated frames share one decoder, as a capture's frames do: fragments of one may meet another. */
const decoder = new FrameDecoder();

const seg = tcp({ options: [2, 4, ...be16(1460), 1, 3, 3, 7, 4, 2, 8, 10, ...be32(1), ...be32(2), 5, 10, ...be32(3), ...be32(4)], payload: 6 });
const v4 = ipv4(seg, { options: [1, 1, 1, 0] });
const v6 = ipv6(ext6(44, fragment6(6, 0, 1, seg)), { next: 0 });
const inner = ether(0x0800, v4);
const llc = [0xaa, 0xaa, 0x03, 0, 0, 0, 8, 0];
const wlan = bytes([0x88, 0x01, 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], [0, 0], llc, v4);
const out4 = (proto: number, p: Uint8Array) => ether(0x0800, ipv4(p, { proto }));

const samples: Array<[string, number, Uint8Array]> = [
  ['ether v4', 1, ether(0x0800, v4)],
  ['ether v6', 1, ether(0x86dd, v6)],
  ['qinq', 1, tagged([[0x88a8, 1], [0x8100, 2]], 0x0800, v4)],
  ['raw', 101, v4],
  ['ipv6', 229, v6],
  ['sll', 113, bytes(new Uint8Array(14), be16(0x0800), v4)],
  ['sll2', 276, bytes(be16(0x86dd), new Uint8Array(18), v6)],
  ['null', 0, bytes(le32(2), v4)],
  ['loop', 108, bytes(be32(30), v6)],
  ['ppp', 9, bytes([0xff, 0x03, 0, 0x21], v4)],
  ['fddi', 10, bytes(new Uint8Array(13), llc, v4)],
  ['arcnet', 129, bytes([1, 2, 0, 0, 0xd4, 0, 0, 1], v4)],
  ['ipoib', 242, bytes(new Uint8Array(40), be16(0x0800), [0, 0], v4)],
  ['nflog', 239, bytes([2, 0, 0, 1], le16(4 + v4.length), le16(9), v4)],
  ['juniper', 178, bytes([0x4d, 0x47, 0x43, 0x80], be16(4), [1, 2, 3, 4], inner)],
  ['ppi', 192, bytes([0, 0], le16(8), le32(105), wlan)],
  ['radiotap', 127, bytes([0, 0], le16(8), le32(0), wlan)],
  ['gre', 1, out4(47, bytes([0xb0, 0], be16(0x6558), new Uint8Array(12), inner))],
  ['vxlan', 1, out4(17, udp(50000, 4789, bytes(new Uint8Array(8), inner)))],
  ['geneve', 1, out4(17, udp(6081, 6081, bytes([1, 0], be16(0x6558), be32(0), be32(0), inner)))],
  ['gtp', 1, out4(17, udp(2152, 2152, bytes([0x34, 0xff], be16(0), be32(0), [0, 0, 0, 0x85, 1, 0, 0, 0], v4)))],
  ['teredo', 1, out4(17, udp(3544, 3544, bytes([0, 1, 1, 1, 0, 0], new Uint8Array(9), v6)))],
  ['mpls', 1, ether(0x8847, bytes(be32(0x1000), be32(0x1ff), v4))],
  ['pppoe', 1, ether(0x8864, bytes([0x11, 0, 0, 1], be16(v4.length + 2), [0, 0x21], v4))],
  ['ipip', 1, out4(4, v4)],
  ['sflow', 1, out4(17, udp(6343, 6343, bytes(be32(5), be32(1), new Uint8Array(4), be32(0), be32(0), be32(0), be32(1),
    be32(3), be32(100), new Uint8Array(40), be32(1), be32(1), be32(80), be32(1), be32(80), be32(0), be32(14 + 20 + 20), inner)))],
];

function checkOne(linktype: number, data: Uint8Array, wireLen: number, name: string): void {
  const out = newDecodedPacket();
  let status: DecodeStatus;
  try {
    status = decoder.decode(linktype, guarded(data), wireLen, out);
  } catch (err) {
    assert.fail(`${name}: threw ${(err as Error).message} on ${Buffer.from(data).toString('hex')}`);
  }
  assert.ok(status >= DecodeStatus.Tcp && status <= DecodeStatus.Malformed, `${name}: status ${status}`);
  if (status === DecodeStatus.Tcp) {
    assert.ok(out.src.length > 0 && out.dst.length > 0, `${name}: addresses`);
    assert.ok(out.sport >= 0 && out.sport <= 0xffff && out.dport >= 0 && out.dport <= 0xffff, `${name}: ports`);
    assert.ok(out.seq >= 0 && out.seq <= 0xffffffff && out.ack >= 0 && out.ack <= 0xffffffff, `${name}: seq/ack`);
    assert.ok(Number.isInteger(out.payloadLen) && out.payloadLen >= 0, `${name}: payload length ${out.payloadLen}`);
  }
}

test('every sample decodes to TCP whole', () => {
  for (const [name, linktype, frame] of samples) {
    const out = newDecodedPacket();
    assert.equal(new FrameDecoder().decode(linktype, guarded(frame), frame.length, out), DecodeStatus.Tcp, name);
  }
});

test('cut at every length (snaplen), with the full wire length: no throw, no read past the capture', () => {
  for (const [name, linktype, frame] of samples) {
    for (let len = 0; len <= frame.length; len++) checkOne(linktype, frame.subarray(0, len), frame.length, `${name} cut at ${len}`);
  }
});

test('random byte mutations of every sample (seeded): no throw, no read past the capture', () => {
  let seed = 0x5eed;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  for (const [name, linktype, frame] of samples) {
    for (let i = 0; i < 300; i++) {
      const copy = frame.slice();
      const flips = 1 + (rnd() % 4);
      for (let f = 0; f < flips; f++) copy[rnd() % copy.length] = rnd() & 0xff;
      const len = rnd() % 4 === 0 ? rnd() % (copy.length + 1) : copy.length;
      checkOne(linktype, copy.subarray(0, len), copy.length + (rnd() % 3) * 100, `${name} mutation ${i} (seed state ${seed})`);
    }
  }
});

test('random bytes under every link type, and unknown link types: no throw', () => {
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  const linktypes = [...new Set(samples.map(([, lt]) => lt)), 7, 12, 14, 50, 51, 104, 105, 228, 274, 3, 999];
  for (const lt of linktypes) {
    for (let i = 0; i < 200; i++) {
      const data = new Uint8Array(rnd() % 120);
      for (let j = 0; j < data.length; j++) data[j] = rnd() & 0xff;
      checkOne(lt, data, data.length + (rnd() % 2) * 1000, `linktype ${lt} random ${i}`);
    }
  }
});

test('a frame inside a reader\'s window (decodePacket) decodes as the frame alone, reading nothing around it', () => {
  const strip = (d: DecodedPacket) => JSON.stringify(d);
  for (const [name, linktype, frame] of samples) {
    for (let len = 0; len <= frame.length; len++) {
      const cut = frame.subarray(0, len);
      const alone = newDecodedPacket();
      const statusAlone = new FrameDecoder().decode(linktype, cut, frame.length, alone);
      const at = { linktype, capLen: len, wireLen: frame.length, ...inWindow(cut, 13) };
      const inPlace = newDecodedPacket();
      let status: DecodeStatus;
      try {
        status = new FrameDecoder().decodePacket(at, inPlace);
      } catch (err) {
        assert.fail(`${name} cut at ${len}: threw ${(err as Error).message}`);
      }
      assert.equal(status, statusAlone, `${name} cut at ${len}: status`);
      if (status === DecodeStatus.Tcp) assert.equal(strip(inPlace), strip(alone), `${name} cut at ${len}: fields (tcpOffset relative to the frame)`);
    }
  }
});
