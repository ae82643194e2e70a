/** Every link type the decoder knows, on frames built byte by byte; unknown link types are reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../../analyzer/decode/index.js';
import { be16, bytes, ether, guarded, ipv4, ipv6, le16, le32, MAC_A, MAC_B, tagged, tcp, be32 } from './build.js';

const decoder = new FrameDecoder();

function decode(linktype: number, frame: Uint8Array) {
  const out = newDecodedPacket();
  const status = decoder.decode(linktype, guarded(frame), frame.length, out);
  return { status, out };
}

const v4 = ipv4(tcp({ sport: 1111, dport: 2222 }));
const v6 = ipv6(tcp({ sport: 3333, dport: 4444 }));
const llcSnap = (type: number) => [0xaa, 0xaa, 0x03, 0, 0, 0, ...be16(type)];

function assertV4(linktype: number, frame: Uint8Array, name: string): void {
  const { status, out } = decode(linktype, frame);
  assert.equal(status, DecodeStatus.Tcp, name);
  assert.equal(out.src, '10.0.0.1', name);
  assert.equal(out.sport, 1111, name);
  assert.equal(out.tunneled, false, name);
}

function assertV6(linktype: number, frame: Uint8Array, name: string): void {
  const { status, out } = decode(linktype, frame);
  assert.equal(status, DecodeStatus.Tcp, name);
  assert.equal(out.ipVersion, 6, name);
  assert.equal(out.src, '2001:db8::1', name);
  assert.equal(out.sport, 3333, name);
}

test('Ethernet (1), IPv4 and IPv6', () => {
  assertV4(1, ether(0x0800, v4), 'ether ipv4');
  assertV6(1, ether(0x86dd, v6), 'ether ipv6');
  assert.equal(decode(1, ether(0x0806, new Uint8Array(28))).status, DecodeStatus.NotTcp, 'ARP');
});

test('802.3 length field with LLC/SNAP', () => {
  const payload = bytes(llcSnap(0x0800), v4);
  assertV4(1, bytes(MAC_B, MAC_A, be16(payload.length), payload, new Array<number>(10).fill(0)), '802.3 snap');
});

test('raw IP: 101, 12, 14 by version nibble; 228 IPv4; 229 IPv6', () => {
  for (const lt of [101, 12, 14]) {
    assertV4(lt, v4, `raw ${lt} v4`);
    assertV6(lt, v6, `raw ${lt} v6`);
  }
  assertV4(228, v4, 'ipv4');
  assertV6(229, v6, 'ipv6');
});

test('Linux cooked SLL (113) and SLL2 (276)', () => {
  const sll = (proto: number, p: Uint8Array) => bytes([0, 0], be16(1), be16(6), MAC_A, [0, 0], be16(proto), p);
  assertV4(113, sll(0x0800, v4), 'sll v4');
  assertV6(113, sll(0x86dd, v6), 'sll v6');
  assertV4(113, sll(0x0004, bytes(llcSnap(0x0800), v4)), 'sll llc');
  const sll2 = (proto: number, p: Uint8Array) => bytes(be16(proto), [0, 0], be32(2), be16(1), [0], [6], MAC_A, [0, 0], p);
  assertV4(276, sll2(0x0800, v4), 'sll2 v4');
  assertV6(276, sll2(0x86dd, v6), 'sll2 v6');
  assertV4(276, sll2(0x8100, bytes(be16(7), be16(0x0800), v4)), 'sll2 vlan');
});

test('BSD loopback NULL (0) in either byte order and LOOP (108); AF_INET6 as 10, 24, 28, 30', () => {
  assertV4(0, bytes(le32(2), v4), 'null LE AF_INET');
  assertV4(0, bytes(be32(2), v4), 'null BE AF_INET');
  for (const af of [10, 24, 28, 30]) {
    assertV6(0, bytes(le32(af), v6), `null LE ${af}`);
    assertV6(0, bytes(be32(af), v6), `null BE ${af}`);
    assertV6(108, bytes(be32(af), v6), `loop ${af}`);
  }
  assertV4(108, bytes(be32(2), v4), 'loop AF_INET');
  assert.equal(decode(0, bytes(le32(7), v4)).status, DecodeStatus.NotTcp, 'unknown address family');
});

test('PPP (9), PPP-HDLC (50), Cisco HDLC (104), PPPoE without Ethernet (51)', () => {
  assertV4(9, bytes([0xff, 0x03], be16(0x0021), v4), 'ppp with address/control');
  assertV4(9, bytes(be16(0x0021), v4), 'ppp without address/control');
  assertV4(9, bytes([0x21], v4), 'ppp compressed protocol');
  assertV6(50, bytes([0xff, 0x03], be16(0x0057), v6), 'ppp hdlc v6');
  assertV4(104, bytes([0x0f, 0x00], be16(0x0800), v4), 'c-hdlc');
  assertV4(51, bytes([0x11, 0x00], be16(1), be16(v4.length + 2), be16(0x0021), v4), 'ppp over ethernet, no ethernet');
});

test('FDDI (10): 13-byte header then LLC/SNAP', () => {
  assertV4(10, bytes([0x50], MAC_B, MAC_A, llcSnap(0x0800), v4), 'fddi');
});

test('ARCnet Linux (129): RFC 1051 and RFC 1201 (with an exception packet); ARCnet BSD (7)', () => {
  assertV4(129, bytes([0x01, 0x02, 0, 0, 0xf0], v4), 'rfc1051');
  assertV4(129, bytes([0x01, 0x02, 0, 0, 0xd4, 0x00, 0x00, 0x01], v4), 'rfc1201');
  assertV4(129, bytes([0x01, 0x02, 0, 0, 0xd4, 0xff, 0xff, 0xff, 0xd4, 0x00, 0x00, 0x01], v4), 'rfc1201 exception');
  assertV4(7, bytes([0x01, 0x02, 0xf0], v4), 'bsd');
});

test('IP over InfiniBand (242): 40-byte pseudo-header, EtherType, reserved', () => {
  assertV4(242, bytes(new Array<number>(40).fill(0), be16(0x0800), [0, 0], v4), 'ipoib');
});

test('NFLOG (239): TLVs in either byte order, the payload TLV holds the IP packet', () => {
  const tlvLe = (type: number, value: Uint8Array) => {
    const len = 4 + value.length;
    return bytes(le16(len), le16(type), value, new Array<number>((4 - (len % 4)) % 4).fill(0));
  };
  const tlvBe = (type: number, value: Uint8Array) => {
    const len = 4 + value.length;
    return bytes(be16(len), be16(type), value, new Array<number>((4 - (len % 4)) % 4).fill(0));
  };
  const hdr = new Uint8Array([0, 0, 0, 0]);
  const v4tcp = ipv4(tcp({ sport: 1111, payload: 3 }));
  assertV4(239, bytes([2, 0, 0, 1], tlvLe(1, hdr), tlvLe(10, new Uint8Array(5)), tlvLe(9, v4tcp)), 'nflog LE');
  assertV4(239, bytes([2, 0, 0, 1], tlvBe(1, hdr), tlvBe(9, v4tcp)), 'nflog BE');
  assertV6(239, bytes([10, 0, 0, 1], tlvLe(9, v6)), 'nflog v6');
});

test('Juniper Ethernet (178): magic, flags, extension TLVs, then Ethernet', () => {
  const ext = [0x01, 0x02, 0x8c, 0x00];
  assertV4(178, bytes([0x4d, 0x47, 0x43, 0x80], be16(ext.length), ext, ether(0x0800, v4)), 'juniper with extensions');
  assertV4(178, bytes([0x4d, 0x47, 0x43, 0x00], ether(0x0800, v4)), 'juniper without extensions');
  assert.equal(decode(178, bytes([0x4d, 0x47, 0x44, 0x00], ether(0x0800, v4))).status, DecodeStatus.Malformed, 'bad magic');
});

test('Ethernet mPacket (274): preamble and SMD before the frame', () => {
  assertV4(274, bytes([0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5], ether(0x0800, v4)), 'mpacket');
});

const wlanData = (fc0: number, fc1: number, extra: number[], body: Uint8Array) =>
  bytes([fc0, fc1, 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], extra, body);

test('802.11 (105): data, QoS data, 4-address, A-MSDU; protected and null frames carry no TCP', () => {
  const body = bytes(llcSnap(0x0800), v4);
  assertV4(105, wlanData(0x08, 0x01, [], body), 'data');
  assertV4(105, wlanData(0x88, 0x01, [0, 0], body), 'qos data');
  assertV4(105, wlanData(0x88, 0x03, [...MAC_B, 0, 0], body), 'qos data, 4 addresses');
  assertV4(105, wlanData(0x88, 0x81, [0, 0, 0, 0, 0, 0], body), 'qos data with HT control');
  const sub1 = bytes(MAC_A, MAC_B, be16(8 + 28), llcSnap(0x0806), new Uint8Array(28));
  const sub2 = bytes(MAC_A, MAC_B, be16(body.length), body);
  assertV4(105, wlanData(0x88, 0x01, [0x80, 0], bytes(sub1, [0, 0], sub2)), 'a-msdu, TCP in the second subframe');
  assert.equal(decode(105, wlanData(0x88, 0x41, [0, 0], body)).status, DecodeStatus.NotTcp, 'protected');
  assert.equal(decode(105, wlanData(0xc8, 0x01, [0, 0], body)).status, DecodeStatus.NotTcp, 'qos null');
  assert.equal(decode(105, wlanData(0x80, 0x00, [], body)).status, DecodeStatus.NotTcp, 'beacon');
});

test('radiotap (127) and PPI (192) in front of 802.11', () => {
  const frame = wlanData(0x08, 0x02, [], bytes(llcSnap(0x0800), v4));
  assertV4(127, bytes([0, 0], le16(12), le32(0x00000002), [0x10, 0, 0, 0], frame), 'radiotap');
  assertV4(192, bytes([0, 0], le16(8), le32(105), frame), 'ppi');
  assertV4(192, bytes([0, 0], le16(8), le32(1), ether(0x0800, v4)), 'ppi ethernet');
});

test('802.1Q, 802.1ad QinQ and 0x9100 tags: the outermost VLAN id is kept', () => {
  const one = decode(1, tagged([[0x8100, 0x2064]], 0x0800, v4));
  assert.equal(one.status, DecodeStatus.Tcp);
  assert.equal(one.out.vlan, 100, 'priority bits masked off');
  const qinq = decode(1, tagged([[0x88a8, 300], [0x8100, 42]], 0x86dd, v6));
  assert.equal(qinq.status, DecodeStatus.Tcp);
  assert.equal(qinq.out.vlan, 300);
  assert.equal(qinq.out.src, '2001:db8::1');
  const old = decode(1, tagged([[0x9100, 7], [0x9100, 8], [0x8100, 9]], 0x0800, v4));
  assert.equal(old.status, DecodeStatus.Tcp);
  assert.equal(old.out.vlan, 7);
  const deep = decode(1, tagged(Array.from({ length: 40 }, () => [0x8100, 1] as [number, number]), 0x0800, v4));
  assert.notEqual(deep.status, DecodeStatus.Tcp, 'tag stacks are bounded');
});

test('unknown link types are reported as such', () => {
  for (const lt of [2, 147, 65535, 0x7fffffff]) {
    assert.equal(decode(lt, ether(0x0800, v4)).status, DecodeStatus.UnknownLinktype, `linktype ${lt}`);
  }
});
