/**
 * Tunnels: the innermost IP and TCP headers are reported, with tunneled = true. Each tunnel is built
 * byte by byte around the same inner segment (10.9.9.1:1234 -> 10.9.9.2:80 or the IPv6 pair).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../../analyzer/decode/index.js';
import { be16, be32, bytes, ether, guarded, ipv4, ipv6, MAC_A, MAC_B, tagged, tcp, udp } from './build.js';

const decoder = new FrameDecoder();

const innerV4 = ipv4(tcp({ sport: 1234, dport: 80, seq: 99, payload: 3 }), { src: [10, 9, 9, 1], dst: [10, 9, 9, 2], ttl: 9 });
const innerV6 = ipv6(tcp({ sport: 1234, dport: 80, seq: 99, payload: 3 }));
const outer = (proto: number, payload: Uint8Array) => ether(0x0800, ipv4(payload, { proto, src: [203, 0, 113, 1], dst: [203, 0, 113, 2] }));

function decode(frame: Uint8Array, linktype = 1) {
  const out = newDecodedPacket();
  const status = decoder.decode(linktype, guarded(frame), frame.length, out);
  return { status, out };
}

function assertInner(frame: Uint8Array, name: string, v6 = false, tunneled = true, linktype = 1): void {
  const { status, out } = decode(frame, linktype);
  assert.equal(status, DecodeStatus.Tcp, name);
  assert.equal(out.src, v6 ? '2001:db8::1' : '10.9.9.1', name);
  assert.equal(out.dst, v6 ? '2001:db8::2' : '10.9.9.2', name);
  assert.equal(out.sport, 1234, name);
  assert.equal(out.seq, 99, name);
  assert.equal(out.payloadLen, 3, name);
  assert.equal(out.tunneled, tunneled, name);
  if (!v6) assert.equal(out.ttl, 9, `${name}: ttl of the inner header`);
}

test('IP-in-IP, IPv6-in-IPv4 (6in4), IPv4-in-IPv6', () => {
  assertInner(outer(4, innerV4), 'ipip');
  assertInner(outer(41, innerV6), '6in4', true);
  assertInner(ether(0x86dd, ipv6(innerV4, { next: 4 })), '4in6');
});

test('GRE: plain, with checksum/key/sequence, transparent Ethernet bridging, PPTP, WCCP, ERSPAN II and III', () => {
  assertInner(outer(47, bytes([0, 0], be16(0x0800), innerV4)), 'gre');
  assertInner(outer(47, bytes([0xb0, 0], be16(0x86dd), be32(0), be32(7), be32(1), innerV6)), 'gre C K S', true);
  assertInner(outer(47, bytes([0x20, 0], be16(0x6558), be32(1), ether(0x0800, innerV4))), 'gre bridging');
  assertInner(outer(47, bytes([0x30, 0x81], be16(0x880b), be16(20), be16(1), be32(5), be32(4), [0xff, 0x03], be16(0x0021), innerV4)), 'pptp');
  assertInner(outer(47, bytes([0, 0], be16(0x883e), innerV4)), 'wccp without redirect header');
  assertInner(outer(47, bytes([0, 0], be16(0x883e), be32(0x05590048), innerV4)), 'wccp redirect header');
  assertInner(outer(47, bytes([0x10, 0], be16(0x88be), be32(1), new Uint8Array(8), ether(0x0800, innerV4))), 'erspan ii');
  assertInner(outer(47, bytes([0, 0], be16(0x88be), ether(0x0800, innerV4))), 'erspan i');
  assertInner(outer(47, bytes([0x10, 0], be16(0x22eb), be32(1), new Uint8Array(12), ether(0x0800, innerV4))), 'erspan iii');
  const wlan = bytes([0x08, 0x02, 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], [0xaa, 0xaa, 0x03, 0, 0, 0], be16(0x0800), innerV4);
  assertInner(outer(47, bytes([0, 0], be16(0x8200), wlan)), 'aruba 802.11');
});

test('UDP tunnels by port: VXLAN, VXLAN-GPE, Geneve with options, GRE-in-UDP, AYIYA', () => {
  assertInner(outer(17, udp(55555, 4789, bytes([0x08, 0, 0, 0], be32(0x00010000), ether(0x0800, innerV4)))), 'vxlan');
  assertInner(outer(17, udp(4789, 55555, bytes([0x08, 0, 0, 0], be32(0x00010000), ether(0x86dd, innerV6)))), 'vxlan, reply', true);
  assertInner(outer(17, udp(55555, 4790, bytes([0x0c, 0, 0, 1], be32(0), innerV4))), 'vxlan-gpe');
  const geneveOpts = new Uint8Array(8);
  assertInner(outer(17, udp(55555, 6081, bytes([0x02, 0], be16(0x6558), be32(0x00000a00), geneveOpts, ether(0x0800, innerV4)))), 'geneve');
  assertInner(outer(17, udp(55555, 6081, bytes([0x00, 0], be16(0x0800), be32(0), innerV4))), 'geneve ipv4');
  assertInner(outer(17, udp(55555, 4754, bytes([0, 0], be16(0x0800), innerV4))), 'gre in udp');
  const ayiya = bytes([0x41, 0x52, 0x11, 41], be32(0), new Uint8Array(16), new Uint8Array(20));
  assertInner(outer(17, udp(5072, 53859, bytes(ayiya, innerV6))), 'ayiya', true);
  const vxlanToDns = outer(17, udp(53, 4789, bytes([0x08, 0, 0, 0], be32(0x00010000), ether(0x0800, innerV4))));
  assert.equal(decode(vxlanToDns).status, DecodeStatus.NotTcp, 'the lower, well-known port 53 wins (DNS, as in tshark)');
});

test('GTP-U: T-PDU plain, with sequence number, with an extension header chain; other messages carry nothing', () => {
  const gtp = (flags: number, type: number, extra: number[], payload: Uint8Array) =>
    bytes([flags, type], be16(extra.length + payload.length), be32(0x1234), extra, payload);
  assertInner(outer(17, udp(2152, 2152, gtp(0x30, 0xff, [], innerV4))), 'gtp-u');
  assertInner(outer(17, udp(2152, 2152, gtp(0x32, 0xff, [0, 1, 0, 0], innerV4))), 'gtp-u with sequence');
  assertInner(outer(17, udp(2152, 2152, gtp(0x34, 0xff, [0, 0, 0, 0x85, 1, 0x10, 0, 0], innerV6))), 'gtp-u extension', true);
  assert.equal(decode(outer(17, udp(2152, 2152, gtp(0x30, 0x01, [], innerV4)))).status, DecodeStatus.NotTcp, 'echo request');
});

test('Teredo: bare, with origin indication, with authentication', () => {
  assertInner(outer(17, udp(3544, 40000, innerV6)), 'teredo', true);
  assertInner(outer(17, udp(3544, 40000, bytes([0, 0], be16(0x1234), be32(0), innerV6))), 'teredo origin', true);
  const auth = bytes([0, 1, 2, 0], [0xaa, 0xbb], new Uint8Array(8), [0]);
  assertInner(outer(17, udp(40000, 3544, bytes(auth, [0, 0], be16(1), be32(0), innerV6))), 'teredo auth + origin', true);
});

test('Teredo on other ports, as Zeek finds it: a Teredo-prefix address or a Teredo header, and an exact IPv6 length', () => {
  const teredoAddr = [0x20, 0x01, 0, 0, 0x41, 0x37, 0x9e, 0x50, 0, 0, 0, 0, 0, 0, 0, 0];
  const toRelay = ipv6(tcp({ sport: 1234, dport: 80, seq: 99, payload: 3 }), { src: teredoAddr });
  const { status, out } = decode(outer(17, udp(3797, 32900, toRelay)));
  assert.equal(status, DecodeStatus.Tcp, 'IPv6 from a 2001:0::/32 address');
  assert.equal(out.src, '2001:0:4137:9e50::');
  assert.equal(out.tunneled, true);
  assertInner(outer(17, udp(3797, 32900, bytes([0, 0], be16(0x1234), be32(0), innerV6))), 'origin indication first', true);
  assert.equal(decode(outer(17, udp(3797, 32900, innerV6))).status, DecodeStatus.NotTcp, 'no Teredo address, no Teredo header: plain UDP');
  const longer = ipv6(tcp({ sport: 1234, dport: 80, payload: 3 }), { src: teredoAddr, payloadLen: 40 });
  assert.equal(decode(outer(17, udp(3797, 32900, longer))).status, DecodeStatus.NotTcp, 'IPv6 length not the rest of the datagram');
});

test('tunnel identity: one outer connection is one tunnel in both directions; another outer connection is another', () => {
  const gtp = (payload: Uint8Array) => bytes([0x30, 0xff], be16(payload.length), be32(0x1234), payload);
  const via = (src: number[], dst: number[], sport: number, dport: number, payload: Uint8Array) =>
    ether(0x0800, ipv4(udp(sport, dport, payload), { proto: 17, src, dst }));
  const A = [198, 51, 100, 1];
  const B = [198, 51, 100, 2];
  const id = (frame: Uint8Array): number => decode(frame).out.tunnelId;
  const up = id(via(A, B, 2152, 2152, gtp(innerV4)));
  assert.notEqual(up, 0, 'tunneled');
  assert.equal(id(via(B, A, 2152, 2152, gtp(innerV4))), up, 'the reverse direction of the same outer connection');
  assert.notEqual(id(via(B, A, 5906, 2152, gtp(innerV4))), up, 'another outer UDP connection (GTP, one port per direction)');
  assert.notEqual(id(via(A, [198, 51, 100, 3], 2152, 2152, gtp(innerV4))), up, 'another outer endpoint');
  const vxlan = (sport: number) => via(A, B, sport, 4789, bytes([0x08, 0, 0, 0], be32(0x00010000), ether(0x0800, innerV4)));
  assert.equal(id(vxlan(40000)), id(vxlan(50000)), 'VXLAN: the source port (a hash of the inner flow) does not count');
  assert.equal(decode(ether(0x0800, innerV4)).out.tunnelId, 0, 'not tunneled');
});

test('MPLS (with a label stack, over Ethernet and PPP, Ethernet pseudowire) and PPPoE over QinQ', () => {
  const labels = bytes(be32((100 << 12) | 0x0ff), be32((200 << 12) | 0x1ff));
  assertInner(ether(0x8847, bytes(labels, innerV4)), 'mpls', false, false);
  assertInner(ether(0x8847, bytes(labels, innerV6)), 'mpls v6', true, false);
  assertInner(bytes([0xff, 0x03], be16(0x0281), labels, innerV4), 'mpls over ppp', false, false, 9);
  const pw = decode(ether(0x8847, bytes(labels, be32(0), ether(0x0800, innerV4))));
  assert.equal(pw.status, DecodeStatus.Tcp, 'ethernet pseudowire with control word');
  assertInner(outer(137, bytes(labels, innerV4)), 'mpls in ip');
  const pppoe = bytes([0x11, 0x00], be16(0x0001), be16(innerV4.length + 2), be16(0x0021), innerV4);
  assertInner(tagged([[0x88a8, 10], [0x8100, 20]], 0x8864, bytes(pppoe, new Uint8Array(6))), 'pppoe over qinq', false, false);
});

test("PPPoE's length bounds the segment as tshark has it; bytes it cut that the IP length claims are lengthFieldCut (Zeek's view)", () => {
  const segment = ipv4(tcp({ sport: 1234, dport: 80, seq: 99, payload: 6 }), { src: [10, 9, 9, 1], dst: [10, 9, 9, 2] });
  const pppoe = bytes([0x11, 0x00], be16(0x0001), be16(segment.length + 2 - 6), be16(0x0021), segment);
  const { status, out } = decode(tagged([[0x88a8, 10], [0x8100, 20]], 0x8864, pppoe));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.payloadLen, 0, "tshark's tcp.len: PPPoE's payload ends after the TCP header");
  assert.equal(out.lengthFieldCut, 6, 'the 6 bytes the IP length claims, all in the frame');
  const whole = bytes([0x11, 0x00], be16(0x0001), be16(segment.length + 2), be16(0x0021), segment);
  assert.equal(decode(tagged([[0x8100, 20]], 0x8864, whole)).out.lengthFieldCut, 0, 'lengths agree: nothing cut');
});

test('IPComp with DEFLATE inside AH is inflated and decoded, like tshark', () => {
  const comp = bytes([4, 0], be16(0x4242), deflateRawSync(innerV4));
  const ah = bytes([108, 4, 0, 0], be32(0x1000), be32(1), new Uint8Array(12));
  assertInner(outer(51, bytes(ah, comp)), 'ah + ipcomp');
  assert.equal(decode(outer(108, bytes([4, 0], be16(0x4242), [1, 2, 3, 4]))).status, DecodeStatus.NotTcp, 'not deflate data');
});

test('sFlow: the TCP header of a sampled packet', () => {
  const sampled = ether(0x0800, innerV4);
  const record = bytes(be32(1), be32(16 + sampled.length), be32(1), be32(1500), be32(4), be32(sampled.length), sampled);
  const flowSample = bytes(be32(1), be32(0), be32(0), be32(0), be32(0), be32(0), be32(0), be32(0), be32(0), be32(0), be32(1), record);
  const datagram = bytes(be32(5), be32(1), [192, 0, 2, 1], be32(0), be32(1), be32(0), be32(1), be32(3), be32(flowSample.length), flowSample);
  assertInner(outer(17, udp(50000, 6343, datagram)), 'sflow');
});

test('tunnels within tunnels are bounded: a GRE loop of 100 levels does not recurse forever', () => {
  let p: Uint8Array = innerV4;
  for (let i = 0; i < 100; i++) p = ipv4(bytes([0, 0], be16(0x0800), p), { proto: 47 });
  const { status } = decode(ether(0x0800, p));
  assert.notEqual(status, DecodeStatus.Tcp);
});
