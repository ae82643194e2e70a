/**
 * Names of link types for the `info` table (`1 (Ethernet)`), as tcpdump's pcap-linktype(7) names them;
 * numbers not listed print alone. Only for people: JSON and CSV keep the number.
 */
const NAMES: Record<number, string> = {
  0: 'BSD loopback', 1: 'Ethernet', 7: 'ARCnet BSD', 9: 'PPP', 10: 'FDDI', 12: 'Raw IP', 14: 'Raw IP',
  50: 'PPP HDLC', 51: 'PPPoE', 101: 'Raw IP', 104: 'Cisco HDLC', 105: '802.11', 108: 'OpenBSD loopback',
  113: 'Linux cooked', 127: '802.11 radiotap', 129: 'ARCnet Linux', 178: 'Juniper Ethernet', 192: 'PPI',
  228: 'IPv4', 229: 'IPv6', 239: 'NFLOG', 242: 'IP over InfiniBand', 274: 'Ethernet mPacket', 276: 'Linux cooked v2',
};

export function linktypeText(n: number): string {
  const name = NAMES[n];
  return name ? `${n} (${name})` : String(n);
}
