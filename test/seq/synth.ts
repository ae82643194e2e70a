/**
 * Hand-built TCP conversations for the rule tests. One scenario is a list of segments between a client
 * (10.0.0.1:40000) and a server (10.0.0.2:80); each becomes both a DecodedPacket (fed straight to the
 * engine) and a frame of a real pcap file (Ethernet/IPv4/TCP), so the same expectation can be checked
 * against our engine and against tshark, the oracle.
 */
import { writeFileSync } from 'node:fs';
import { newDecodedPacket, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type DecodedPacket } from '../../analyzer/decode/types.js';

export const SYN = TCP_SYN;
export const ACK = TCP_ACK;
export const FIN = TCP_FIN;
export const RST = TCP_RST;
export const PSH = 0x08;

export interface Segment {
  /** 'c' client -> server, 's' server -> client. */
  from: 'c' | 's';
  flags: number;
  seq: number;
  ack: number;
  len?: number;
  win?: number;
  /** Window scale option (SYNs). */
  ws?: number;
  /** Milliseconds since the first segment; default: 1 ms after the previous one. */
  t?: number;
  /** Client port, to make a second connection (default 40000). */
  cport?: number;
}

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

export interface TimedPacket {
  frame: number;
  tsSec: number;
  tsNsec: number;
  packet: DecodedPacket;
}

const BASE_SEC = 1_700_000_000;

function times(segs: Segment[]): number[] {
  const out: number[] = [];
  let t = 0;
  for (const s of segs) {
    t = s.t ?? (out.length === 0 ? 0 : t + 1);
    out.push(t);
  }
  return out;
}

/** The scenario as decoded packets with timestamps (microsecond resolution, as in the pcap). */
export function decodedPackets(segs: Segment[]): TimedPacket[] {
  const ts = times(segs);
  return segs.map((s, i) => {
    const p = newDecodedPacket();
    const cport = s.cport ?? 40000;
    p.src = s.from === 'c' ? CLIENT : SERVER;
    p.dst = s.from === 'c' ? SERVER : CLIENT;
    p.sport = s.from === 'c' ? cport : 80;
    p.dport = s.from === 'c' ? 80 : cport;
    p.seq = s.seq >>> 0;
    p.ack = s.ack >>> 0;
    p.flags = s.flags;
    p.doff = s.ws === undefined ? 5 : 6;
    p.win = s.win ?? 1000;
    p.payloadLen = s.len ?? 0;
    p.wscale = s.ws ?? -1;
    const usec = Math.round(ts[i]! * 1000);
    return { frame: i + 1, tsSec: BASE_SEC + Math.floor(usec / 1e6), tsNsec: (usec % 1e6) * 1000, packet: p };
  });
}

/** Writes the scenario as a classic pcap (LINKTYPE_ETHERNET, microseconds), mode 0600. */
export function writeScenarioPcap(file: string, segs: Segment[]): void {
  const ts = times(segs);
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20);
  parts.push(gh);
  segs.forEach((s, i) => {
    const frame = ethernetFrame(s);
    const usec = Math.round(ts[i]! * 1000);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(BASE_SEC + Math.floor(usec / 1e6), 0);
    rh.writeUInt32LE(usec % 1e6, 4);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    parts.push(rh, frame);
  });
  writeFileSync(file, Buffer.concat(parts), { mode: 0o600 });
}

function ethernetFrame(s: Segment): Buffer {
  const len = s.len ?? 0;
  const optLen = s.ws === undefined ? 0 : 4;
  const tcpLen = 20 + optLen;
  const ipLen = 20 + tcpLen + len;
  const f = Buffer.alloc(14 + ipLen);
  f.writeUInt16BE(0x0800, 12);
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(ipLen, ip + 2);
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  const [src, dst] = s.from === 'c' ? [CLIENT, SERVER] : [SERVER, CLIENT];
  Buffer.from(src.split('.').map(Number)).copy(f, ip + 12);
  Buffer.from(dst.split('.').map(Number)).copy(f, ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += f.readUInt16BE(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, ip + 10);
  const t = ip + 20;
  const cport = s.cport ?? 40000;
  f.writeUInt16BE(s.from === 'c' ? cport : 80, t);
  f.writeUInt16BE(s.from === 'c' ? 80 : cport, t + 2);
  f.writeUInt32BE(s.seq >>> 0, t + 4);
  f.writeUInt32BE(s.ack >>> 0, t + 8);
  f[t + 12] = (tcpLen / 4) << 4;
  f[t + 13] = s.flags;
  f.writeUInt16BE(s.win ?? 1000, t + 14);
  if (s.ws !== undefined) {
    f[t + 20] = 1; // NOP
    f[t + 21] = 3; // window scale
    f[t + 22] = 3;
    f[t + 23] = s.ws;
  }
  return f;
}
