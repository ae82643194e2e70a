/**
 * Link layers: where the network layer starts for each LINKTYPE_* number the corpus (and the recorder)
 * produces, and what protocol it is. Unknown link types are reported as such, never guessed.
 */
import { u16, u16le, u32, u32le } from './bytes.js';
import { decodeEthernet, decodeEthertype, decodeIpByVersion, decodeLlc } from './ether.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodePpp } from './tunnels.js';
import { decodeWlan } from './wlan.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_ARCNET_BSD = 7;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_FDDI = 10;
export const LINKTYPE_RAW_BSD12 = 12;
export const LINKTYPE_RAW_BSD14 = 14;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_PPP_ETHER = 51;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_C_HDLC = 104;
export const LINKTYPE_IEEE802_11 = 105;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_ARCNET_LINUX = 129;
export const LINKTYPE_JUNIPER_ETHER = 178;
export const LINKTYPE_PPI = 192;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_NFLOG = 239;
export const LINKTYPE_IPOIB = 242;
export const LINKTYPE_ETHERNET_MPACKET = 274;
export const LINKTYPE_LINUX_SLL2 = 276;

/** BSD address family values: AF_INET is 2 everywhere; AF_INET6 differs between systems. */
const AF_INET = 2;
function isAfInet6(af: number): boolean {
  // Linux 10, Windows 23, NetBSD/OpenBSD 24, Solaris 26, FreeBSD 28, macOS 30.
  return af === 10 || af === 23 || af === 24 || af === 26 || af === 28 || af === 30;
}

const MAX_LINK_NESTING = 4;

export function decodeLink(
  linktype: number, d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number,
): DecodeStatus {
  switch (linktype) {
    case LINKTYPE_ETHERNET:
      return decodeEthernet(d, off, cend, wend, out, depth);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD12:
    case LINKTYPE_RAW_BSD14:
      return decodeIpByVersion(d, off, cend, wend, out, depth);
    case LINKTYPE_IPV4:
      return decodeIpv4(d, off, cend, wend, out, depth);
    case LINKTYPE_IPV6:
      return decodeIpv6(d, off, cend, wend, out, depth);
    case LINKTYPE_LINUX_SLL:
      if (cend - off < 16) return DecodeStatus.Malformed;
      return decodeSllProtocol(u16(d, off + 14), d, off + 16, cend, wend, out, depth);
    case LINKTYPE_LINUX_SLL2:
      if (cend - off < 20) return DecodeStatus.Malformed;
      return decodeSllProtocol(u16(d, off), d, off + 20, cend, wend, out, depth);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      return decodeNull(d, off, cend, wend, out, depth);
    case LINKTYPE_PPP:
    case LINKTYPE_PPP_HDLC:
      return decodePpp(d, off, cend, wend, out, depth);
    case LINKTYPE_PPP_ETHER:
      // PPPoE without the Ethernet header: 6 bytes of PPPoE, then PPP.
      return decodePpp(d, off + 6, cend, wend, out, depth);
    case LINKTYPE_C_HDLC:
      // Cisco HDLC: address, control, then an EtherType.
      if (cend - off < 4) return DecodeStatus.Malformed;
      return decodeEthertype(u16(d, off + 2), d, off + 4, cend, wend, out, depth);
    case LINKTYPE_FDDI:
      // Frame control, destination, source (13 bytes), then 802.2 LLC.
      return decodeLlc(d, off + 13, cend, wend, out, depth);
    case LINKTYPE_ARCNET_LINUX:
      return decodeArcnet(d, off + 2, cend, wend, out, depth);
    case LINKTYPE_ARCNET_BSD:
      return decodeArcnet(d, off, cend, wend, out, depth);
    case LINKTYPE_IPOIB:
      // 40-byte pseudo-header (addresses), then an EtherType and 2 reserved bytes.
      if (cend - off < 44) return DecodeStatus.Malformed;
      return decodeEthertype(u16(d, off + 40), d, off + 44, cend, wend, out, depth);
    case LINKTYPE_NFLOG:
      return decodeNflog(d, off, cend, wend, out, depth);
    case LINKTYPE_JUNIPER_ETHER:
      return decodeJuniperEther(d, off, cend, wend, out, depth);
    case LINKTYPE_ETHERNET_MPACKET:
      // 802.3br mPacket: 7 bytes of preamble and the start-of-mPacket delimiter, then the frame.
      return decodeEthernet(d, off + 8, cend, wend, out, depth);
    case LINKTYPE_IEEE802_11:
      return decodeWlan(d, off, cend, wend, out, depth);
    case LINKTYPE_IEEE802_11_RADIOTAP:
      if (cend - off < 4) return DecodeStatus.Malformed;
      return decodeWlan(d, off + u16le(d, off + 2), cend, wend, out, depth);
    case LINKTYPE_PPI:
      return decodePpi(d, off, cend, wend, out, depth);
    default:
      return DecodeStatus.UnknownLinktype;
  }
}

/** Linux cooked capture: the protocol field is an EtherType, except for a few small special values. */
function decodeSllProtocol(
  proto: number, d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number,
): DecodeStatus {
  if (proto <= 1500) {
    // 0x0004: 802.2 LLC frame follows; 0x0001/0x0003 (Novell 802.3, whole Ethernet frames) carry no TCP.
    return proto === 0x0004 ? decodeLlc(d, off, cend, wend, out, depth) : DecodeStatus.NotTcp;
  }
  return decodeEthertype(proto, d, off, cend, wend, out, depth);
}

/** BSD loopback: a 4-byte address family, in the capturing host's byte order (network order for LOOP). */
function decodeNull(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 4) return DecodeStatus.Malformed;
  // PPP frames on some BSD loopback captures start with address/control FF 03 instead.
  if (d[off] === 0xff && d[off + 1] === 0x03) return decodePpp(d, off, cend, wend, out, depth);
  const le = u32le(d, off);
  const af = (le & 0xffff0000) === 0 ? le : u32(d, off);
  if (af === AF_INET) return decodeIpv4(d, off + 4, cend, wend, out, depth);
  if (isAfInet6(af)) return decodeIpv6(d, off + 4, cend, wend, out, depth);
  return DecodeStatus.NotTcp;
}

/** ARCnet from the protocol id byte: RFC 1051 has no more header, RFC 1201 adds split flag and sequence. */
function decodeArcnet(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  // off points at source and destination ids (one byte each); the protocol id follows.
  if (cend - off < 3) return DecodeStatus.Malformed;
  const proto = d[off + 2]!;
  let p = off + 3;
  if (proto === 0xf0) return decodeIpv4(d, p, cend, wend, out, depth); // RFC 1051 IP
  if (proto !== 0xd4 && proto !== 0xc4) return DecodeStatus.NotTcp;
  if (cend - p < 3) return DecodeStatus.Malformed;
  // An exception packet (split flag 0xFF) repeats the flag and adds 2 pad bytes before the real header.
  p += d[p] === 0xff ? 7 : 3;
  return proto === 0xd4 ? decodeIpv4(d, p, cend, wend, out, depth) : decodeIpv6(d, p, cend, wend, out, depth);
}

const NFULA_PAYLOAD = 9;

/** NFLOG: family, version, resource id, then TLVs (host byte order); the payload TLV is the IP packet. */
function decodeNflog(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 4) return DecodeStatus.Malformed;
  let p = off + 4;
  // The TLV byte order is the capturing host's: a sane first length tells which one it is.
  const little = cend - p >= 2 && u16le(d, p) >= 4 && u16le(d, p) <= cend - p;
  for (let n = 0; n < 64 && cend - p >= 4; n++) {
    const len = little ? u16le(d, p) : u16(d, p);
    const type = (little ? u16le(d, p + 2) : u16(d, p + 2)) & 0x7fff;
    if (len < 4) return DecodeStatus.Malformed;
    if (type === NFULA_PAYLOAD) {
      const end = p + len;
      const family = d[off]!;
      const pc = end < cend ? end : cend;
      const pw = end < wend ? end : wend;
      if (family === AF_INET) return decodeIpv4(d, p + 4, pc, pw, out, depth);
      if (family === 10) return decodeIpv6(d, p + 4, pc, pw, out, depth);
      return decodeIpByVersion(d, p + 4, pc, pw, out, depth);
    }
    p += (len + 3) & ~3;
  }
  return DecodeStatus.NotTcp;
}

const JUNIPER_MAGIC = 0x4d4743; // "MGC"
const JUNIPER_FLAG_EXT = 0x80;
const JUNIPER_FLAG_NO_L2 = 0x02;

/** Juniper's capture header: magic, flags, optional extension TLVs; then Ethernet (or bare IP with no-L2). */
function decodeJuniperEther(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 4) return DecodeStatus.Malformed;
  if (((d[off]! << 16) | (d[off + 1]! << 8) | d[off + 2]!) !== JUNIPER_MAGIC) return DecodeStatus.Malformed;
  const flags = d[off + 3]!;
  let p = off + 4;
  if (flags & JUNIPER_FLAG_EXT) {
    if (cend - p < 2) return DecodeStatus.Malformed;
    p += 2 + u16(d, p);
  }
  if (flags & JUNIPER_FLAG_NO_L2) return decodeIpByVersion(d, p + 4, cend, wend, out, depth);
  return decodeEthernet(d, p, cend, wend, out, depth);
}

/** PPI: a header with its own length and the link type of what follows. */
function decodePpi(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 8) return DecodeStatus.Malformed;
  const len = u16le(d, off + 2);
  const inner = u32le(d, off + 4);
  if (len < 8 || inner === LINKTYPE_PPI || depth >= MAX_LINK_NESTING) return DecodeStatus.Malformed;
  return decodeLink(inner, d, off + len, cend, wend, out, depth + 1);
}
