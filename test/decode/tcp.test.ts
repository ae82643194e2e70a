/** The TCP header and options, on frames built byte by byte (Ethernet/IPv4 around them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../../analyzer/decode/index.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../../analyzer/decode/types.js';
import { be16, be32, bytes, ether, etherTcp, guarded, ipv4, tcp } from './build.js';

const decoder = new FrameDecoder();

const ETH = 1;
const TCP_AT = 14 + 20;

function decode(frame: Uint8Array, wireLen = frame.length) {
  const out = newDecodedPacket();
  const status = decoder.decode(ETH, guarded(frame), wireLen, out);
  return { status, out };
}

test('every fixed header field', () => {
  const frame = etherTcp(
    { sport: 443, dport: 51234, seq: 0xfedcba98, ack: 0x80000001, flags: 0xff, reserved: 0x0f, win: 0xabcd, urp: 0x1234, payload: 7 },
    { src: [192, 0, 2, 1], dst: [198, 51, 100, 200], ttl: 57, id: 0xbeef },
  );
  const { status, out } = decode(frame);
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.ipVersion, 4);
  assert.equal(out.src, '192.0.2.1');
  assert.equal(out.dst, '198.51.100.200');
  assert.equal(out.ttl, 57);
  assert.equal(out.ipId, 0xbeef);
  assert.equal(out.sport, 443);
  assert.equal(out.dport, 51234);
  assert.equal(out.seq, 0xfedcba98);
  assert.equal(out.ack, 0x80000001);
  assert.equal(out.flags, TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG | TCP_ECE | TCP_CWR);
  assert.equal(out.reserved, 0x0f);
  assert.equal(out.doff, 5);
  assert.equal(out.win, 0xabcd);
  assert.equal(out.urp, 0x1234);
  assert.equal(out.payloadLen, 7);
  assert.equal(out.tcpOffset, TCP_AT);
  assert.equal(out.tcpTruncated, false);
  assert.equal(out.vlan, -1);
  assert.equal(out.tunneled, false);
  assert.equal(out.mss, -1);
  assert.equal(out.wscale, -1);
  assert.equal(out.sackPerm, false);
  assert.equal(out.tsval, -1);
  assert.equal(out.tsecr, -1);
  assert.equal(out.sackBlocks, null);
});

test('a SYN with MSS, SACK-permitted, timestamps, NOP and window scale (Linux order)', () => {
  const options = [2, 4, ...be16(1460), 4, 2, 8, 10, ...be32(0x11223344), ...be32(0), 1, 3, 3, 7];
  const { status, out } = decode(etherTcp({ flags: TCP_SYN, options }));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.doff, 10);
  assert.equal(out.mss, 1460);
  assert.equal(out.sackPerm, true);
  assert.equal(out.tsval, 0x11223344);
  assert.equal(out.tsecr, 0);
  assert.equal(out.wscale, 7);
  assert.equal(out.payloadLen, 0);
});

test('SACK blocks: one to four, edges as unsigned numbers', () => {
  for (let n = 1; n <= 4; n++) {
    const edges: number[] = [];
    for (let i = 0; i < 2 * n; i++) edges.push((0xfffffff0 + i * 8) >>> 0);
    const options = n <= 3 ? [1, 1, 5, 2 + 8 * n, ...edges.flatMap(be32)] : [5, 2 + 8 * n, ...edges.flatMap(be32)];
    const { out } = decode(etherTcp({ options }));
    assert.deepEqual(out.sackBlocks, edges, `${n} blocks`);
  }
});

test('the packet is reset between frames: options of one frame never leak into the next', () => {
  const out = newDecodedPacket();
  decoder.decode(ETH, etherTcp({ options: [2, 4, ...be16(1400), 5, 10, ...be32(1), ...be32(2)] }), 0, out);
  assert.equal(out.mss, 1400);
  assert.deepEqual(out.sackBlocks, [1, 2]);
  decoder.decode(ETH, etherTcp(), 0, out);
  assert.equal(out.mss, -1);
  assert.equal(out.sackBlocks, null);
});

test('EOL ends the option list; options after it are not read', () => {
  const { out } = decode(etherTcp({ options: [0, 0, 0, 0, 2, 4, ...be16(536)] }));
  assert.equal(out.mss, -1);
});

test('malformed options are tolerated: the walk stops, earlier options are kept', () => {
  const cases: Array<[string, number[], number]> = [
    ['length 0', [2, 4, ...be16(1200), 8, 0, 0, 0], 1200],
    ['length 1', [2, 4, ...be16(1201), 3, 1, 0, 0], 1201],
    ['length past the header', [2, 4, ...be16(1202), 8, 40, 0, 0], 1202],
    ['kind in the last byte, no length', [2, 4, ...be16(1203), 1, 1, 1, 8], 1203],
  ];
  for (const [name, options, mss] of cases) {
    const { status, out } = decode(etherTcp({ options }));
    assert.equal(status, DecodeStatus.Tcp, name);
    assert.equal(out.mss, mss, name);
    assert.equal(out.tsval, -1, name);
  }
});

test('an option with the wrong length for its kind is skipped, the next one still read', () => {
  const options = [2, 6, 0, 0, 0, 0, 3, 2, 4, 2, 8, 10, ...be32(5), ...be32(6), 5, 5, 1, 2, 3];
  const { out } = decode(etherTcp({ options }));
  assert.equal(out.mss, -1, 'MSS of length 6 ignored');
  assert.equal(out.wscale, -1, 'window scale of length 2 ignored');
  assert.equal(out.sackPerm, true);
  assert.equal(out.tsval, 5);
  assert.equal(out.tsecr, 6);
  assert.equal(out.sackBlocks, null, 'a SACK option too short for one block has none');
});

test('data offset < 5 is still TCP (tshark shows the header), with no segment length', () => {
  for (const doff of [0, 1, 4]) {
    const { status, out } = decode(etherTcp({ doff, payload: 12 }));
    assert.equal(status, DecodeStatus.Tcp, `doff ${doff}`);
    assert.equal(out.doff, doff);
    assert.equal(out.payloadLen, 0);
    assert.equal(out.mss, -1);
  }
});

test('data offset past the IP payload: TCP, zero-length segment, options read only up to the capture', () => {
  const { status, out } = decode(etherTcp({ doff: 15, options: [2, 4, ...be16(999)] }));
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.payloadLen, 0);
  assert.equal(out.tcpTruncated, true);
  assert.equal(out.mss, 999);
});

test('snaplen cut inside the TCP header: < 4 bytes is not TCP (as tshark), 4..19 bytes is truncated TCP', () => {
  const full = etherTcp({ seq: 0x01020304, ack: 0x05060708, flags: TCP_ACK, win: 1000, payload: 100 });
  const wire = full.length;
  for (let have = 0; have < 4; have++) {
    const { status } = decode(full.subarray(0, TCP_AT + have), wire);
    assert.equal(status, DecodeStatus.Malformed, `${have} bytes`);
  }
  for (let have = 4; have < 20; have++) {
    const { status, out } = decode(full.subarray(0, TCP_AT + have), wire);
    assert.equal(status, DecodeStatus.Tcp, `${have} bytes`);
    assert.equal(out.tcpTruncated, true);
    assert.equal(out.sport, 40000);
    assert.equal(out.seq, have >= 8 ? 0x01020304 : 0);
    assert.equal(out.ack, have >= 12 ? 0x05060708 : 0);
    assert.equal(out.flags, have >= 14 ? TCP_ACK : 0);
    assert.equal(out.win, have >= 16 ? 1000 : 0);
  }
});

test('snaplen cut inside the options: options up to the cut, the rest unread; payload length from the IP header', () => {
  const full = etherTcp({ options: [2, 4, ...be16(1460), 1, 1, 8, 10, ...be32(77), ...be32(88)], payload: 1000 });
  const { status, out } = decode(full.subarray(0, TCP_AT + 26), full.length);
  assert.equal(status, DecodeStatus.Tcp);
  assert.equal(out.tcpTruncated, true);
  assert.equal(out.mss, 1460);
  assert.equal(out.tsval, -1);
  assert.equal(out.payloadLen, 1000);
});

test('payload length is tcp.len: from the IP total length, not the captured bytes nor Ethernet padding', () => {
  // A bare ACK padded to the 60-byte Ethernet minimum.
  const padded = bytes(etherTcp({ flags: TCP_ACK }), new Array<number>(6).fill(0));
  assert.equal(decode(padded).out.payloadLen, 0);
  // 1448 bytes of payload of which only 64 were captured.
  const big = etherTcp({ payload: 1448 });
  assert.equal(decode(big.subarray(0, 128), big.length).out.payloadLen, 1448);
  // An IP total length larger than the frame on the wire: bounded by what was on the wire.
  const lying = ether(0x0800, ipv4(tcp({ payload: 10 }), { totalLen: 1500 }));
  assert.equal(decode(lying).out.payloadLen, 10);
});
