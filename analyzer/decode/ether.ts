/**
 * Ethernet II and what an EtherType can lead to: IPv4/IPv6, 802.1Q / 802.1ad / QinQ tags, 802.1BR E-Tag, MPLS,
 * PPPoE sessions, and 802.3 frames with an 802.2 LLC/SNAP header. Used for the Ethernet link type and for
 * every Ethernet frame found inside a tunnel (VXLAN, Geneve, GRE bridging, ERSPAN, ...).
 */
import { u16 } from './bytes.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeMpls, decodePpp } from './tunnels.js';
import { frameState, MAX_DEPTH } from './state.js';
import { DecodeStatus, type DecodedPacket } from './types.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_VLAN = 0x8100;
export const ETH_QINQ = 0x88a8;
export const ETH_QINQ_OLD = 0x9100;
export const ETH_QINQ_OLD2 = 0x9200;
export const ETH_MPLS = 0x8847;
export const ETH_MPLS_MC = 0x8848;
export const ETH_PPPOE_SESSION = 0x8864;
export const ETH_BRIDGING = 0x6558;
export const ETH_PPP = 0x880b;
export const ETH_PBB = 0x88e7;
export const ETH_VNTAG = 0x8926;
export const ETH_ETAG = 0x893f;

/** An Ethernet frame (destination, source, type/length) starting at `off`. */
export function decodeEthernet(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 14) return DecodeStatus.Malformed;
  const type = u16(d, off + 12);
  if (type <= 1500) {
    // 802.3 length field: LLC follows, and the length bounds the frame (padding is not payload).
    const end = off + 14 + type;
    return decodeLlc(d, off + 14, end < cend ? end : cend, end < wend ? end : wend, out, depth + 1);
  }
  return decodeEthertype(type, d, off + 14, cend, wend, out, depth + 1);
}

/** The payload of a frame whose protocol is the EtherType `type`. */
export function decodeEthertype(
  type: number, d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number,
): DecodeStatus {
  for (; depth < MAX_DEPTH; depth++) {
    switch (type) {
      case ETH_IPV4:
      case ETH_IPV6:
        return decodeIpByVersion(d, off, cend, wend, out, depth);
      case ETH_VLAN:
      case ETH_QINQ:
      case ETH_QINQ_OLD:
      case ETH_QINQ_OLD2:
        if (cend - off < 4) return DecodeStatus.Malformed;
        if (out.vlan === -1) out.vlan = u16(d, off) & 0x0fff;
        type = u16(d, off + 2);
        off += 4;
        if (type <= 1500) return decodeLlc(d, off, cend, wend, out, depth + 1);
        continue;
      case ETH_MPLS:
      case ETH_MPLS_MC:
        return decodeMpls(d, off, cend, wend, out, depth + 1);
      case ETH_PPPOE_SESSION: {
        // PPPoE: version/type, code, session id, length; then PPP. The length bounds the payload (as in
        // tshark), so Ethernet padding never counts as TCP payload even when the IP length says more.
        if (cend - off < 8) return DecodeStatus.Malformed;
        const end = off + 6 + u16(d, off + 4);
        frameState.lengthFieldEnd = end < wend ? end : wend;
        frameState.lengthFieldFrameEnd = cend;
        return decodePpp(d, off + 6, end < cend ? end : cend, end < wend ? end : wend, out, depth + 1);
      }
      case ETH_PBB:
        // 802.1ah backbone service instance tag (4 bytes), then the customer's whole Ethernet frame.
        return decodeEthernet(d, off + 4, cend, wend, out, depth + 1);
      case ETH_VNTAG:
        // Cisco VN-Tag: 4 bytes, then the next EtherType.
        if (cend - off < 6) return DecodeStatus.Malformed;
        type = u16(d, off + 4);
        off += 6;
        continue;
      case ETH_ETAG:
        // IEEE 802.1BR E-Tag: 6 bytes (E-PCP/DEI/ingress E-CID, GRP/E-CID, extensions), then the next
        // EtherType, as tshark's etag dissector reads it.
        if (cend - off < 8) return DecodeStatus.Malformed;
        type = u16(d, off + 6);
        off += 8;
        continue;
      case ETH_BRIDGING:
        return decodeEthernet(d, off, cend, wend, out, depth + 1);
      case ETH_PPP:
        return decodePpp(d, off, cend, wend, out, depth + 1);
      default:
        return DecodeStatus.NotTcp;
    }
  }
  return DecodeStatus.NotTcp;
}

/**
 * An IP header whose version is taken from its first nibble, as tshark's IP dissector does even when the
 * EtherType said the other version.
 */
export function decodeIpByVersion(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (off >= cend) return DecodeStatus.Malformed;
  const version = d[off]! >>> 4;
  if (version === 4) return decodeIpv4(d, off, cend, wend, out, depth);
  if (version === 6) return decodeIpv6(d, off, cend, wend, out, depth);
  return DecodeStatus.Malformed;
}

/** 802.2 LLC; only SNAP (AA AA 03, then an OUI and an EtherType) leads anywhere. */
export function decodeLlc(d: Uint8Array, off: number, cend: number, wend: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (cend - off < 3) return DecodeStatus.NotTcp;
  if (d[off] === 0xaa && d[off + 1] === 0xaa && d[off + 2] === 0x03) {
    if (cend - off < 8) return DecodeStatus.Malformed;
    return decodeEthertype(u16(d, off + 6), d, off + 8, cend, wend, out, depth + 1);
  }
  // DSAP 0x06: IP straight after LLC (rare, but tshark decodes it).
  if (d[off] === 0x06 && d[off + 1] === 0x06) return decodeIpByVersion(d, off + 3, cend, wend, out, depth + 1);
  return DecodeStatus.NotTcp;
}

