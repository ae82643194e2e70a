/**
 * Encapsulations that lead to another link or network layer: GRE (with ERSPAN, WCCP, PPTP and Aruba
 * variants), MPLS, PPP, and the UDP tunnels tshark decodes by port: VXLAN (4789), VXLAN-GPE (4790),
 * Geneve (6081), GTP-U (2152), Teredo (3544), GRE-in-UDP (4754), AYIYA (5072) and sFlow's sampled packet
 * headers (6343). Like tshark, a UDP port pair is matched lower port first. Teredo is also recognised on
 * other ports, as Zeek does (teredoInnerOffset).
 */
import { u16, u32 } from './bytes.js';
import { decodeEthernet, decodeEthertype, decodeIpByVersion } from './ether.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeIpPayload } from './ipproto.js';
import { decodeWlan } from './wlan.js';
import { MAX_DEPTH } from './state.js';
import { enterUdpTunnel } from './tunnel-id.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

const GRE_C = 0x8000;
const GRE_R = 0x4000;
const GRE_K = 0x2000;
const GRE_S = 0x1000;
const GRE_A = 0x0080;
const GRE_ERSPAN_2 = 0x88be;
const GRE_ERSPAN_3 = 0x22eb;
const GRE_WCCP = 0x883e;
const GRE_ARUBA_FIRST = 0x8200;
const GRE_ARUBA_LAST = 0x9000;

export function decodeGre(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 4) return DecodeStatus.Malformed;
  const flags = u16(d, off);
  const proto = u16(d, off + 2);
  let p = off + 4;
  if ((flags & 0x7) === 1) {
    // Enhanced GRE (PPTP): key (payload length, call id) always, then sequence and ack numbers if flagged.
    p += 4;
    if (flags & GRE_S) p += 4;
    if (flags & GRE_A) p += 4;
  } else {
    if (flags & (GRE_C | GRE_R)) p += 4;
    if (flags & GRE_K) p += 4;
    if (flags & GRE_S) p += 4;
    if (flags & GRE_R) {
      // Source route entries (RFC 1701): address family, offset, length; a zero length ends the list.
      for (let n = 0; n < 16; n++) {
        if (cend - p < 4) return DecodeStatus.Malformed;
        const len = d[p + 3]!;
        p += 4 + len;
        if (len === 0) break;
      }
    }
  }
  if (p > cend) return DecodeStatus.Malformed;
  switch (proto) {
    case GRE_ERSPAN_2:
      // ERSPAN type I has no header of its own (and no GRE sequence number); type II has 8 bytes.
      return decodeEthernet(d, flags & GRE_S ? p + 8 : p, cend, wend, out, depth + 1);
    case GRE_ERSPAN_3:
      // 12 bytes, plus an 8-byte platform subheader when the O bit (last bit of the header) is set.
      if (cend - p < 12) return DecodeStatus.Malformed;
      return decodeEthernet(d, p + 12 + (d[p + 11]! & 0x01 ? 8 : 0), cend, wend, out, depth + 1);
    case GRE_WCCP:
      // WCCP redirect: an optional 4-byte header; the IP header is recognized by its version nibble.
      if (cend - p < 1) return DecodeStatus.Malformed;
      return decodeIpByVersion(d, (d[p]! >>> 4) === 4 ? p : p + 4, cend, wend, out, depth + 1);
    default:
      // Aruba's controller tunnels carry 802.11 frames under protocol types 0x8200, 0x8210, ... 0x9000.
      if (proto >= GRE_ARUBA_FIRST && proto <= GRE_ARUBA_LAST && (proto & 0x0f) === 0) {
        return decodeWlan(d, p, cend, wend, out, depth + 1);
      }
      return decodeEthertype(proto, d, p, cend, wend, out, depth + 1);
  }
}

/** An MPLS label stack; after the bottom label the payload is IPv4, IPv6, or (PW) Ethernet. */
export function decodeMpls(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  let p = off;
  for (let n = 0; ; n++) {
    if (n >= MAX_DEPTH || cend - p < 4) return DecodeStatus.Malformed;
    const bottom = d[p + 2]! & 0x01;
    p += 4;
    if (bottom) break;
  }
  if (cend - p < 1) return DecodeStatus.Malformed;
  const nibble = d[p]! >>> 4;
  if (nibble === 4) return decodeIpv4(d, p, cend, wend, out, depth + 1);
  if (nibble === 6) return decodeIpv6(d, p, cend, wend, out, depth + 1);
  // Nibble 0: an Ethernet pseudowire with its 4-byte control word.
  if (nibble === 0) return decodeEthernet(d, p + 4, cend, wend, out, depth + 1);
  if (nibble === 1) return DecodeStatus.NotTcp;
  return decodeEthernet(d, p, cend, wend, out, depth + 1);
}

/** PPP from its (optional) address/control bytes: protocol field, possibly compressed to one byte. */
export function decodePpp(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  let p = off;
  if (cend - p >= 2 && d[p] === 0xff && d[p + 1] === 0x03) p += 2;
  if (cend - p < 1) return DecodeStatus.Malformed;
  let proto: number;
  if (d[p]! & 0x01) {
    proto = d[p]!;
    p += 1;
  } else {
    if (cend - p < 2) return DecodeStatus.Malformed;
    proto = u16(d, p);
    p += 2;
  }
  switch (proto) {
    case 0x0021:
      return decodeIpv4(d, p, cend, wend, out, depth + 1);
    case 0x0057:
      return decodeIpv6(d, p, cend, wend, out, depth + 1);
    case 0x0281:
    case 0x0283:
      return decodeMpls(d, p, cend, wend, out, depth + 1);
    default:
      return DecodeStatus.NotTcp;
  }
}

const PORT_GTP_U = 2152;
const PORT_TEREDO = 3544;
const PORT_GRE_UDP = 4754;
const PORT_VXLAN = 4789;
const PORT_VXLAN_GPE = 4790;
const PORT_AYIYA = 5072;
const PORT_GENEVE = 6081;
const PORT_SFLOW = 6343;

function isTunnelPort(port: number): boolean {
  return port === PORT_VXLAN || port === PORT_GENEVE || port === PORT_GTP_U || port === PORT_TEREDO ||
    port === PORT_GRE_UDP || port === PORT_AYIYA || port === PORT_VXLAN_GPE || port === PORT_SFLOW;
}

export function decodeUdp(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 8) return DecodeStatus.NotTcp;
  const sport = u16(d, off);
  const dport = u16(d, off + 2);
  const low = sport < dport ? sport : dport;
  const high = sport < dport ? dport : sport;
  // tshark hands the datagram to the lower port's dissector first. Every well-known port (< 1024) has
  // one, so a tunnel port is only taken from the higher port when the lower one is not well known.
  const port = isTunnelPort(low) ? low : low >= 1024 && isTunnelPort(high) ? high : 0;
  const udpLen = u16(d, off + 4);
  let pwend = wend;
  if (udpLen >= 8 && off + udpLen < wend) pwend = off + udpLen;
  const pcend = pwend < cend ? pwend : cend;
  const p = off + 8;
  if (port === 0) {
    // A well-known port's own dissector wins in tshark, as it does over a tunnel port.
    const inner = low < 1024 ? -1 : teredoInnerOffset(d, p, pcend, pwend);
    if (inner < 0) return DecodeStatus.NotTcp;
    enterUdpTunnel(((low << 16) | high) >>> 0);
    return decodeIpv6(d, inner, pcend, pwend, out, depth + 1);
  }
  // Zeek keys VXLAN by its destination port, GRE-in-UDP as GRE (no ports), other UDP tunnels by both ports.
  enterUdpTunnel(port === PORT_VXLAN ? PORT_VXLAN : port === PORT_GRE_UDP ? 0 : ((low << 16) | high) >>> 0);
  switch (port) {
    case PORT_VXLAN:
      return decodeEthernet(d, p + 8, pcend, pwend, out, depth + 1);
    case PORT_VXLAN_GPE:
      return decodeVxlanGpe(d, p, pcend, pwend, out, depth + 1);
    case PORT_GENEVE:
      return decodeGeneve(d, p, pcend, pwend, out, depth + 1);
    case PORT_GTP_U:
      return decodeGtpU(d, p, pcend, pwend, out, depth + 1);
    case PORT_TEREDO:
      return decodeTeredo(d, p, pcend, pwend, out, depth + 1);
    case PORT_GRE_UDP:
      return decodeGre(d, p, pcend, pwend, out, depth + 1);
    case PORT_AYIYA:
      return decodeAyiya(d, p, pcend, pwend, out, depth + 1);
    default:
      return decodeSflow(d, p, pcend, pwend, out, depth + 1);
  }
}

function decodeVxlanGpe(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 8) return DecodeStatus.Malformed;
  const next = d[off + 3]!;
  if (next === 1) return decodeIpv4(d, off + 8, cend, wend, out, depth);
  if (next === 2) return decodeIpv6(d, off + 8, cend, wend, out, depth);
  if (next === 3) return decodeEthernet(d, off + 8, cend, wend, out, depth);
  return DecodeStatus.NotTcp;
}

function decodeGeneve(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 8) return DecodeStatus.Malformed;
  const optLen = (d[off]! & 0x3f) * 4;
  return decodeEthertype(u16(d, off + 2), d, off + 8 + optLen, cend, wend, out, depth);
}

const GTP_T_PDU = 0xff;

function decodeGtpU(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 8) return DecodeStatus.Malformed;
  const flags = d[off]!;
  if (flags >>> 5 !== 1 || d[off + 1] !== GTP_T_PDU) return DecodeStatus.NotTcp;
  let p = off + 8;
  if (flags & 0x07) {
    // Sequence number, N-PDU number and next-extension type are present when any of E, S, PN is set.
    if (cend - p < 4) return DecodeStatus.Malformed;
    let next = flags & 0x04 ? d[p + 3]! : 0;
    p += 4;
    for (let n = 0; next !== 0 && n < 16; n++) {
      if (cend - p < 1) return DecodeStatus.Malformed;
      const len = d[p]! * 4;
      if (len === 0 || cend - p < len) return DecodeStatus.Malformed;
      next = d[p + len - 1]!;
      p += len;
    }
  }
  return decodeIpByVersion(d, p, cend, wend, out, depth);
}

const TEREDO_PREFIX = 0x20010000;

/**
 * Teredo on a port other than 3544 (a Teredo client talks to its peers' relays and NATs on any port),
 * found as Zeek finds it (TeredoAnalyzer::DetectProtocol, then its parse) and as tshark does with
 * teredo.heuristic_teredo on: an IPv6 header whose payload length is exactly the rest of the datagram,
 * after an origin indication or authentication header, or with an address in 2001:0::/32 (the Teredo
 * prefix). Both conditions hold in each tool, so a datagram taken here is Teredo to both. Returns the
 * inner IPv6 header's offset (the Teredo headers are walked once), -1 when it is not Teredo.
 */
function teredoInnerOffset(d: Uint8Array, off: number, cend: number, wend: number): number {
  let p = off;
  let headed = false;
  if (cend - p >= 4 && u16(d, p) === 0x0001) {
    p += 4 + d[p + 2]! + d[p + 3]! + 9;
    headed = true;
  }
  if (cend - p >= 2 && u16(d, p) === 0x0000) {
    p += 8;
    headed = true;
  }
  if (cend - p < 40 || d[p]! >>> 4 !== 6 || u16(d, p + 4) + 40 !== wend - p) return -1;
  return headed || u32(d, p + 8) === TEREDO_PREFIX || u32(d, p + 24) === TEREDO_PREFIX ? p : -1;
}

function decodeTeredo(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  let p = off;
  for (let n = 0; n < 2; n++) {
    if (cend - p < 2) return DecodeStatus.NotTcp;
    const kind = u16(d, p);
    if (kind === 0x0001) {
      // Authentication: client id and authenticator lengths, then nonce (8) and confirmation (1).
      if (cend - p < 4) return DecodeStatus.Malformed;
      p += 4 + d[p + 2]! + d[p + 3]! + 9;
    } else if (kind === 0x0000) {
      p += 8; // origin indication
    } else {
      break;
    }
  }
  if (cend - p < 1 || d[p]! >>> 4 !== 6) return DecodeStatus.NotTcp;
  return decodeIpv6(d, p, cend, wend, out, depth);
}

function decodeAyiya(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 8) return DecodeStatus.Malformed;
  const idLen = 1 << (d[off]! >>> 4);
  const sigLen = (d[off + 1]! >>> 4) * 4;
  const opcode = d[off + 2]! & 0x0f;
  if (opcode !== 1) return DecodeStatus.NotTcp; // only "forward" carries a packet
  return decodeIpPayload(d[off + 3]!, d, off + 8 + idLen + sigLen, cend, wend, out, depth);
}

/**
 * sFlow v5: walks flow samples (plain and expanded) for "raw packet header" records and decodes the
 * first sampled Ethernet/IP header that holds TCP, as tshark shows the sampled headers as packets.
 */
function decodeSflow(d: Uint8Array, off: number, cend: number, _wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 12 || u32(d, off) !== 5) return DecodeStatus.NotTcp;
  let p = off + 8 + (u32(d, off + 4) === 2 ? 16 : 4);
  if (cend - p < 16) return DecodeStatus.Malformed;
  const samples = u32(d, p + 12);
  p += 16;
  for (let s = 0; s < samples && s < 64; s++) {
    if (cend - p < 8) return DecodeStatus.NotTcp;
    const format = u32(d, p);
    const len = u32(d, p + 4);
    const body = p + 8;
    if (format === 1 || format === 3) {
      // Flow sample: the expanded form (3) widens source id, input and output to 8 bytes each.
      let r = body + (format === 3 ? 44 : 32);
      if (cend - r < 0) return DecodeStatus.NotTcp;
      const records = u32(d, r - 4);
      for (let i = 0; i < records && i < 64; i++) {
        if (cend - r < 8) break;
        const rformat = u32(d, r);
        const rlen = u32(d, r + 4);
        if (rformat === 1 && cend - r >= 24) {
          const headerProto = u32(d, r + 8);
          const headerLen = u32(d, r + 20);
          const h = r + 24;
          const hend = Math.min(h + headerLen, cend);
          let status: DecodeStatus = DecodeStatus.NotTcp;
          if (headerProto === 1) status = decodeEthernet(d, h, hend, hend, out, depth + 1);
          else if (headerProto === 11) status = decodeIpv4(d, h, hend, hend, out, depth + 1);
          else if (headerProto === 12) status = decodeIpv6(d, h, hend, hend, out, depth + 1);
          if (status === DecodeStatus.Tcp) return status;
        }
        r += 8 + rlen;
      }
    }
    p = body + len;
  }
  return DecodeStatus.NotTcp;
}
