/**
 * Small, valid frames for writer tests, built byte by byte so every field is known: Ethernet II + IPv4
 * (header checksum filled in) + a 20-byte TCP header + payload. tshark dissects them without complaint.
 */

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface TcpFrameSpec {
  src?: [number, number, number, number];
  dst?: [number, number, number, number];
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  /** TCP flag byte (SYN = 0x02, ACK = 0x10 ...). */
  flags?: number;
  payload?: number;
}

/** An Ethernet/IPv4/TCP frame with `payload` bytes of 'x'. */
export function tcpFrame(spec: TcpFrameSpec = {}): Buffer {
  const payload = spec.payload ?? 0;
  const frame = Buffer.alloc(14 + 20 + 20 + payload, 0x78);
  Buffer.from([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]).copy(frame, 0); // dst MAC, src MAC
  frame.writeUInt16BE(0x0800, 12);
  const ip = frame.subarray(14, 34);
  ip.fill(0);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(spec.src ?? [10, 0, 0, 1]).copy(ip, 12);
  Buffer.from(spec.dst ?? [10, 0, 0, 2]).copy(ip, 16);
  ip.writeUInt16BE(ipv4Checksum(ip), 10);
  const tcp = frame.subarray(34, 54);
  tcp.fill(0);
  tcp.writeUInt16BE(spec.sport ?? 40000, 0);
  tcp.writeUInt16BE(spec.dport ?? 80, 2);
  tcp.writeUInt32BE(spec.seq ?? 1000, 4);
  tcp.writeUInt32BE(spec.ack ?? 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = spec.flags ?? 0x02;
  tcp.writeUInt16BE(65535, 14);
  return frame;
}
