/**
 * What follows an IP header, by protocol number: TCP, or a tunnel that leads to another IP header.
 * ICMP and ICMPv6 stop here on purpose: the TCP header an ICMP error quotes is not a TCP segment, and
 * tshark's TCP counts in the corpus leave such frames out.
 */
import { inflateRawSync } from 'node:zlib';
import { u16 } from './bytes.js';
import { decodeEthernet } from './ether.js';
import { decodeTcp } from './tcp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeGre, decodeMpls, decodeUdp } from './tunnels.js';
import { MAX_DEPTH } from './state.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

const IPPROTO_IPIP = 4;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_IPV6 = 41;
const IPPROTO_GRE = 47;
const IPPROTO_AH = 51;
const IPPROTO_ETHERIP = 97;
const IPPROTO_COMP = 108;
const IPPROTO_MPLS = 137;
const IPCOMP_DEFLATE = 2;
/** Decompressed IPComp payloads are only decoded for headers: a bound keeps a zip bomb harmless. */
const IPCOMP_MAX_OUTPUT = 65536;

export function decodeIpPayload(
  proto: number, d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number,
): DecodeStatus {
  if (proto === IPPROTO_TCP) return decodeTcp(d, off, cend, wend, out);
  if (depth >= MAX_DEPTH) return DecodeStatus.NotTcp;
  switch (proto) {
    case IPPROTO_IPIP:
      return decodeIpv4(d, off, cend, wend, out, depth + 1);
    case IPPROTO_IPV6:
      return decodeIpv6(d, off, cend, wend, out, depth + 1);
    case IPPROTO_UDP:
      return decodeUdp(d, off, cend, wend, out, depth + 1);
    case IPPROTO_GRE:
      return decodeGre(d, off, cend, wend, out, depth + 1);
    case IPPROTO_MPLS:
      return decodeMpls(d, off, cend, wend, out, depth + 1);
    case IPPROTO_AH:
      // IPv4 Authentication Header: next header, then length in 32-bit words minus 2.
      if (cend - off < 2) return DecodeStatus.Malformed;
      return decodeIpPayload(d[off]!, d, off + (d[off + 1]! + 2) * 4, cend, wend, out, depth + 1);
    case IPPROTO_COMP:
      return decodeIpcomp(d, off, cend, out, depth + 1);
    case IPPROTO_ETHERIP:
      // EtherIP (RFC 3378): 2-byte header, then an Ethernet frame.
      return decodeEthernet(d, off + 2, cend, wend, out, depth + 1);
    default:
      return DecodeStatus.NotTcp;
  }
}

/**
 * IPComp (RFC 3173) with DEFLATE, which tshark decompresses and decodes further. Rare, so the native
 * inflate call and its allocation stay off the common path.
 */
function decodeIpcomp(d: Uint8Array, off: number, cend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 4) return DecodeStatus.Malformed;
  // The CPI is usually negotiated (>= 256), so like tshark just try DEFLATE unless another
  // well-known algorithm (1 OUI, 3 LZS, 4 LZJH) is named.
  const cpi = u16(d, off + 2);
  if (cpi !== IPCOMP_DEFLATE && cpi < 256) return DecodeStatus.NotTcp;
  const inflated = inflateOrNull(d.subarray(off + 4, cend));
  if (inflated === null) return DecodeStatus.NotTcp;
  return decodeIpPayload(d[off]!, inflated, 0, inflated.length, inflated.length, out, depth);
}

function inflateOrNull(compressed: Uint8Array): Uint8Array | null {
  try {
    return inflateRawSync(compressed, { maxOutputLength: IPCOMP_MAX_OUTPUT });
  } catch {
    return null;
  }
}
