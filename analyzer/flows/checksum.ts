/**
 * TCP checksum verification, for Zeek's default semantics (`zeek` without -C drops a segment whose TCP
 * checksum is wrong and logs a 'C' in the history). tshark and tcplens by default do not verify, because
 * captures taken on the sending host carry checksums the NIC fills in later; `conns --verify-checksums`
 * asks for it.
 */
import type { DecodedPacket } from '../decode/types.js';

function ipv4Bytes(text: string, out: number[]): void {
  for (const part of text.split('.')) out.push(Number(part) & 0xff);
}

function ipv6Bytes(text: string, out: number[]): void {
  let s = text;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    ipv4Bytes(v4[1]!, tail);
    s = s.slice(0, -v4[1]!.length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, null];
  const words = (t: string): number[] => (t === '' ? [] : t.split(':').map((w) => parseInt(w, 16)));
  const hi = words(head);
  const lo = rest === null ? [] : words(rest);
  const fill = 8 - tail.length / 2 - hi.length - lo.length;
  for (const w of [...hi, ...new Array<number>(rest === null ? 0 : fill).fill(0), ...lo]) out.push(w >> 8, w & 0xff);
  out.push(...tail);
}

/**
 * True when the segment's TCP checksum is right, false when wrong, null when it cannot be checked (the
 * segment is not wholly in the frame, or it came from a reassembled datagram).
 */
export function tcpChecksumOk(data: Uint8Array, p: DecodedPacket): boolean | null {
  // Over the IP length, as Zeek checks it, also where PPPoE's length field cut the payload shorter.
  const tcpLen = p.doff * 4 + p.payloadLen + p.lengthFieldCut;
  if (p.tcpOffset < 0 || p.tcpTruncated || p.doff < 5 || p.tcpOffset + tcpLen > data.length) return null;
  const pseudo: number[] = [];
  if (p.ipVersion === 4) {
    ipv4Bytes(p.src, pseudo);
    ipv4Bytes(p.dst, pseudo);
    pseudo.push(0, 6, tcpLen >> 8, tcpLen & 0xff);
  } else {
    ipv6Bytes(p.src, pseudo);
    ipv6Bytes(p.dst, pseudo);
    pseudo.push(tcpLen >>> 24, (tcpLen >> 16) & 0xff, (tcpLen >> 8) & 0xff, tcpLen & 0xff, 0, 0, 0, 6);
  }
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | pseudo[i + 1]!;
  const end = p.tcpOffset + tcpLen;
  let i = p.tcpOffset;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum === 0xffff;
}
