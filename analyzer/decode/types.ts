/**
 * The decoder's output for one frame. A single DecodedPacket object is reused for every frame (filled in
 * place) so decoding allocates nothing per packet but the address strings, which are cached.
 */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const enum DecodeStatus {
  /** A TCP header was found (possibly cut short by the snaplen: see `tcpTruncated`). */
  Tcp = 0,
  /** A well-formed frame that carries no TCP (ARP, UDP, ICMP, a non-first IP fragment ...). */
  NotTcp = 1,
  /** The link type is not one the decoder knows: counted and reported, not silently dropped. */
  UnknownLinktype = 2,
  /** Headers broken before TCP could be reached (IPv4 IHL < 5, bad lengths, cut short). */
  Malformed = 3,
}

/**
 * Where a captured frame lies: `bytes[offset .. offset + capLen)`, `wireLen` long on the wire, under link
 * type `linktype`. A reader's packet (readers/types.ts RawPacket) is one, pointing into its read window.
 */
export interface FrameAt {
  readonly linktype: number;
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly capLen: number;
  readonly wireLen: number;
}

export interface DecodedPacket {
  ipVersion: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 IPv6. Of the innermost IP header that carries the TCP. */
  src: string;
  dst: string;
  /** TTL or hop limit. */
  ttl: number;
  /** IPv4 identification; -1 for IPv6. */
  ipId: number;
  /** 802.1Q VLAN id of the outermost tag, -1 when untagged. */
  vlan: number;
  /** True when the TCP header was found inside a tunnel (GRE, VXLAN, Geneve, GTP, IP-in-IP, ...). */
  tunneled: boolean;
  /** Which tunnels carried it (tunnel-id.ts): equal for the same outer connections, 0 when not tunneled. */
  tunnelId: number;
  /**
   * TCP payload bytes that PPPoE's length field cut from the IP packet although the frame holds them
   * (decode/state.ts takeLengthFieldCut): not in payloadLen (tshark's view), counted by the connection
   * tracker (Zeek's view).
   */
  lengthFieldCut: number;
  sport: number;
  dport: number;
  /** Unsigned 32-bit sequence and acknowledgement numbers. */
  seq: number;
  ack: number;
  /** The 8 classic flag bits (FIN .. CWR). */
  flags: number;
  /** The 4 bits between data offset and flags (reserved + AE/NS). */
  reserved: number;
  /** Data offset in 32-bit words, as in the header (may be < 5 in a malformed packet). */
  doff: number;
  win: number;
  urp: number;
  /** TCP segment length as tshark's tcp.len: IP payload length minus TCP header length (never < 0). */
  payloadLen: number;
  /**
   * Offset of the TCP header in the frame's bytes; -1 when the header was read from an IP datagram
   * reassembled from fragments or inflated from IPComp (it is then not in this frame's bytes as a whole).
   */
  tcpOffset: number;
  /** True when the snaplen cut the frame inside the TCP header (fields past the cut are 0). */
  tcpTruncated: boolean;
  /** Options, -1 / false / null when absent. */
  mss: number;
  wscale: number;
  sackPerm: boolean;
  tsval: number;
  tsecr: number;
  /** SACK blocks as [left0, right0, left1, right1, ...], or null. */
  sackBlocks: number[] | null;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    ipVersion: 4, src: '', dst: '', ttl: 0, ipId: -1, vlan: -1, tunneled: false, tunnelId: 0, lengthFieldCut: 0,
    sport: 0, dport: 0, seq: 0, ack: 0, flags: 0, reserved: 0, doff: 0, win: 0, urp: 0,
    payloadLen: 0, tcpOffset: 0, tcpTruncated: false,
    mss: -1, wscale: -1, sackPerm: false, tsval: -1, tsecr: -1, sackBlocks: null,
  };
}
