/** IPv4 (options, fragments, bad lengths) and IPv6 (extension headers, fragments), built byte by byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../../analyzer/decode/index.js';
import { be16, be32, bytes, ether, ext6, fragment6, guarded, ipv4, ipv6, tcp } from './build.js';

/** One decoder for the file's frames; tests about reassembly start a fresh one. */
let decoder = new FrameDecoder();

function decode(frame: Uint8Array, wireLen = frame.length) {
  const out = newDecodedPacket();
  const status = decoder.decode(1, guarded(frame), wireLen, out);
  return { status, out };
}

test('IPv4 options are skipped by the header length', () => {
  // Record route (7), then NOP and EOL padding: IHL 9.
  const options = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0];
  const { status, out } = decode(ether(0x0800, ipv4(tcp({ sport: 25, payload: 5 }), { options })));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.sport, 25);
  assert.equal(out.tcpOffset, 14 + 36);
  assert.equal(out.payloadLen, 5);
});

test('IPv4 header length < 5 is malformed; so is a total length shorter than the header', () => {
  for (const ihl of [0, 1, 4]) {
    assert.equal(decode(ether(0x0800, ipv4(tcp(), { ihl }))).status, DecodeStatus.Malformed, `ihl ${ihl}`);
  }
  assert.equal(decode(ether(0x0800, ipv4(tcp(), { totalLen: 19 }))).status, DecodeStatus.Malformed);
  assert.equal(decode(ether(0x0800, ipv4(tcp(), { ihl: 15 }))).status, DecodeStatus.Malformed, 'options past the capture');
});

test('IPv4 total length 0 (segmentation offload) means the rest of the frame, as tshark', () => {
  const { status, out } = decode(ether(0x0800, ipv4(tcp({ payload: 3000 }), { totalLen: 0 })));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.payloadLen, 3000);
});

test('a non-TCP protocol is NotTcp; a header cut by the snaplen is Malformed', () => {
  assert.equal(decode(ether(0x0800, ipv4(new Uint8Array(8), { proto: 17 }))).status, DecodeStatus.NotTcp);
  const full = ether(0x0800, ipv4(tcp()));
  assert.equal(decode(full.subarray(0, 14 + 19), full.length).status, DecodeStatus.Malformed);
  assert.equal(decode(full.subarray(0, 10), full.length).status, DecodeStatus.Malformed);
});

test('the EtherType is not trusted over the version nibble (as tshark): IPv6 behind 0x0800 decodes', () => {
  const { status, out } = decode(ether(0x0800, ipv6(tcp())));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.ipVersion, 6);
  assert.equal(decode(ether(0x0800, bytes([0x50], new Uint8Array(40)))).status, DecodeStatus.Malformed, 'version 5');
});

test('IPv4 fragments: the TCP header shows on the frame that completes the datagram', () => {
  decoder = new FrameDecoder();
  const segment = tcp({ sport: 5001, seq: 77, payload: 2000 - 20 });
  const first = segment.subarray(0, 1480);
  const second = segment.subarray(1480);
  const spec = { id: 0x4242, src: [192, 0, 2, 7], dst: [192, 0, 2, 8] };
  // Out of order: the last fragment first, then the first one completes the datagram.
  const last = decode(ether(0x0800, ipv4(second, { ...spec, frag: 1480 / 8 })));
  assert.equal(last.status, DecodeStatus.NotTcp);
  const done = decode(ether(0x0800, ipv4(first, { ...spec, frag: 0x2000 })));
  assert.equal(done.status, DecodeStatus.Tcp);
  assert.equal(done.out.sport, 5001);
  assert.equal(done.out.seq, 77);
  assert.equal(done.out.payloadLen, 2000 - 20, 'tcp.len of the whole datagram');
  assert.equal(done.out.src, '192.0.2.7');
  assert.equal(done.out.tcpOffset, -1, 'the header is not in this frame\'s bytes as a whole');
  // In order, three fragments.
  const a = decode(ether(0x0800, ipv4(segment.subarray(0, 800), { ...spec, id: 1, frag: 0x2000 })));
  const b = decode(ether(0x0800, ipv4(segment.subarray(800, 1600), { ...spec, id: 1, frag: 0x2000 | 100 })));
  const c = decode(ether(0x0800, ipv4(segment.subarray(1600), { ...spec, id: 1, frag: 200 })));
  assert.deepEqual([a.status, b.status, c.status], [DecodeStatus.NotTcp, DecodeStatus.NotTcp, DecodeStatus.Tcp]);
  assert.equal(c.out.seq, 77);
});

test('a first fragment cut by the snaplen is not reassembled: decoded on its own (as tshark)', () => {
  decoder = new FrameDecoder();
  const frame = ether(0x0800, ipv4(tcp({ sport: 7, payload: 1400 }), { frag: 0x2000 }));
  const { status, out } = decode(frame.subarray(0, 96), frame.length);
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.sport, 7);
  const later = ether(0x0800, ipv4(new Uint8Array(600), { frag: 0x2000 | 200 }));
  assert.equal(decode(later.subarray(0, 96), later.length).status, DecodeStatus.NotTcp);
});

test('IPv6 extension headers: hop-by-hop, routing, destination options, AH, atomic fragment', () => {
  const seg = tcp({ sport: 8080, payload: 4 });
  const ah = bytes([6, 4, 0, 0], be32(0x100), be32(1), new Uint8Array(12)); // (4 + 2) * 4 = 24 bytes
  const chain = ext6(43, bytes(
    [60, 0, 0, 0, 0, 0, 0, 0],             // routing -> destination options
    ext6(44, fragment6(51, 0, 9, bytes(ah, seg))),
  ));
  const { status, out } = decode(ether(0x86dd, ipv6(chain, { next: 0 })));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.sport, 8080);
  assert.equal(out.payloadLen, 4);
  assert.equal(out.ipId, -1);
});

test('IPv6 extension header chains are bounded, and a header past the capture is malformed', () => {
  let chain = tcp();
  for (let i = 0; i < 20; i++) chain = ext6(i === 0 ? 6 : 60, chain);
  assert.equal(decode(ether(0x86dd, ipv6(chain, { next: 60 }))).status, DecodeStatus.Malformed);
  const cut = ether(0x86dd, ipv6(ext6(6, tcp()), { next: 0 }));
  assert.equal(decode(cut.subarray(0, 14 + 41), cut.length).status, DecodeStatus.Malformed);
});

test('IPv6 fragments are reassembled like IPv4 ones; a later fragment alone is not TCP', () => {
  decoder = new FrameDecoder();
  const seg = tcp({ sport: 6000, payload: 100 });
  const f1 = decode(ether(0x86dd, ipv6(fragment6(6, 0x0001, 5, seg.subarray(0, 64)), { next: 44 })));
  assert.equal(f1.status, DecodeStatus.NotTcp);
  const f2 = decode(ether(0x86dd, ipv6(fragment6(6, 64, 5, seg.subarray(64)), { next: 44 })));
  assert.equal(f2.status, DecodeStatus.Tcp);
  assert.equal(f2.out.sport, 6000);
  assert.equal(f2.out.payloadLen, 100);
  const lone = decode(ether(0x86dd, ipv6(fragment6(6, 64, 6, seg.subarray(64)), { next: 44 })));
  assert.equal(lone.status, DecodeStatus.NotTcp);
});

test('ICMP errors quoting a TCP header are not TCP (tshark\'s corpus counts leave them out)', () => {
  const quoted = ipv4(tcp().subarray(0, 8));
  const icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0], quoted);
  assert.equal(decode(ether(0x0800, ipv4(icmp, { proto: 1 }))).status, DecodeStatus.NotTcp);
  const icmp6 = bytes([1, 4, 0, 0, 0, 0, 0, 0], ipv6(tcp()));
  assert.equal(decode(ether(0x86dd, ipv6(icmp6, { next: 58 }))).status, DecodeStatus.NotTcp);
});

test('payload length from the IPv6 payload length; 0 (jumbo or offload) means the rest of the frame', () => {
  assert.equal(decode(ether(0x86dd, ipv6(tcp({ payload: 9 })))).out.payloadLen, 9);
  assert.equal(decode(ether(0x86dd, ipv6(tcp({ payload: 9 }), { payloadLen: 0 }))).out.payloadLen, 9);
  const padded = bytes(ether(0x86dd, ipv6(tcp())), be16(0));
  assert.equal(decode(padded).out.payloadLen, 0);
});
