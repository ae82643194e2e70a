/**
 * The identity of the tunnels a segment came through, as Zeek compares encapsulations
 * (EncapsulatingConn's operator==, TunnelEncapsulation.h): a connection whose segments arrive through a
 * different tunnel counts a tunnel change (Zeek's 'X' past its limit). Each tunnel is keyed by its outer
 * endpoints taken as a pair, not by direction: Zeek builds an encapsulation from the outer connection's
 * originator and responder, so both directions of one outer connection are the same tunnel, while
 * uplink and downlink on different outer connections (GTP with a port per direction) are not.
 * For VXLAN Zeek compares the destination port only (the source port is a hash of the inner flow), for
 * the other UDP tunnels both ports; IP-in-IP and GRE (GRE-in-UDP too) have no ports.
 *
 * Folded as the decoder walks down: when an inner IP header starts, the IP header before it (still in
 * frameState) and the UDP tunnel ports seen since are hashed into frameState.tunnelKey. Only frames with
 * more than one IP layer pay for it.
 */
import { u32 } from './bytes.js';
import { frameState } from './state.js';

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}

function addressHash(d: Uint8Array, off: number, words: number): number {
  let h = words;
  for (let i = 0; i < words; i++) h = mix(h, u32(d, off + 4 * i));
  return h;
}

/** Records the UDP ports of a tunnel being entered, as the caller keys them (0: the ports do not count). */
export function enterUdpTunnel(portsKey: number): void {
  frameState.tunnelPorts = portsKey;
}

/** Called as an IP header starts: folds the IP header outside it, if any, into the tunnel key. */
export function foldOuterIpLayer(): void {
  if (frameState.ipLayers === 0) return;
  const d = frameState.ipData;
  const off = frameState.ipOffset;
  const v6 = frameState.ipVersion === 6;
  const a = v6 ? addressHash(d, off + 8, 4) : u32(d, off + 12);
  const b = v6 ? addressHash(d, off + 24, 4) : u32(d, off + 16);
  const proto = v6 ? d[off + 6]! : d[off + 9]!;
  let h = mix(frameState.tunnelKey, a < b ? a : b);
  h = mix(h, a < b ? b : a);
  h = mix(h, proto);
  frameState.tunnelKey = mix(h, frameState.tunnelPorts);
  frameState.tunnelPorts = 0;
}

/** The tunnel identity of the frame just decoded: 0 when the TCP was not tunneled. */
export function tunnelIdOfFrame(): number {
  if (frameState.ipLayers < 2) return 0;
  return frameState.tunnelKey === 0 ? 1 : frameState.tunnelKey;
}
