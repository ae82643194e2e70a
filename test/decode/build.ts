/**
 * Frame builders for the decoder's unit tests: every header is written byte by byte here, independent of
 * the decoder, so a test states exactly what is on the wire.
 */

export function bytes(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function be16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

export function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function le16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}

export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export interface TcpSpec {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  /** The 4 bits between data offset and flags. */
  reserved?: number;
  win?: number;
  urp?: number;
  /** Raw option bytes; padded with EOL to a multiple of 4 unless `doff` is given. */
  options?: number[];
  /** Data offset to write, overriding the computed one (to build malformed headers). */
  doff?: number;
  payload?: number;
}

export function tcp(spec: TcpSpec = {}): Uint8Array {
  const opts = [...(spec.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const doff = spec.doff ?? 5 + opts.length / 4;
  return bytes(
    be16(spec.sport ?? 40000), be16(spec.dport ?? 80), be32(spec.seq ?? 1000), be32(spec.ack ?? 2000),
    [(doff << 4) | (spec.reserved ?? 0), spec.flags ?? 0x18], be16(spec.win ?? 65535), [0, 0], be16(spec.urp ?? 0),
    opts, new Array<number>(spec.payload ?? 0).fill(0x61),
  );
}

export interface Ipv4Spec {
  src?: number[];
  dst?: number[];
  proto?: number;
  ttl?: number;
  id?: number;
  /** Flags and fragment offset word (MF = 0x2000, offset in 8-byte units). */
  frag?: number;
  options?: number[];
  /** IHL to write, overriding the computed one. */
  ihl?: number;
  /** Total length to write, overriding the computed one. */
  totalLen?: number;
}

export function ipv4(payload: Uint8Array, spec: Ipv4Spec = {}): Uint8Array {
  const opts = spec.options ?? [];
  const ihl = spec.ihl ?? 5 + opts.length / 4;
  const total = spec.totalLen ?? 20 + opts.length + payload.length;
  return bytes(
    [0x40 | ihl, 0], be16(total), be16(spec.id ?? 0x1234), be16(spec.frag ?? 0x4000),
    [spec.ttl ?? 64, spec.proto ?? 6], [0, 0], spec.src ?? [10, 0, 0, 1], spec.dst ?? [10, 0, 0, 2], opts, payload,
  );
}

export interface Ipv6Spec {
  src?: number[];
  dst?: number[];
  next?: number;
  hopLimit?: number;
  payloadLen?: number;
}

export const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
export const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02];

export function ipv6(payload: Uint8Array, spec: Ipv6Spec = {}): Uint8Array {
  return bytes(
    [0x60, 0, 0, 0], be16(spec.payloadLen ?? payload.length), [spec.next ?? 6, spec.hopLimit ?? 64],
    spec.src ?? V6_SRC, spec.dst ?? V6_DST, payload,
  );
}

/** An IPv6 extension header of the hop-by-hop / routing / destination-options shape (8 bytes). */
export function ext6(next: number, body: Uint8Array): Uint8Array {
  return bytes([next, 0, 0, 0, 0, 0, 0, 0], body);
}

export function fragment6(next: number, offsetFlags: number, id: number, body: Uint8Array): Uint8Array {
  return bytes([next, 0], be16(offsetFlags), be32(id), body);
}

export const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
export const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

export function ether(type: number, payload: Uint8Array): Uint8Array {
  return bytes(MAC_B, MAC_A, be16(type), payload);
}

/** An Ethernet frame with one tag per entry of `tags` ([tpid, vlan id]), outermost first. */
export function tagged(tags: Array<[number, number]>, type: number, payload: Uint8Array): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < tags.length; i++) {
    const next = i + 1 < tags.length ? tags[i + 1]![0] : type;
    parts.push(...be16(tags[i]![1]), ...be16(next));
  }
  return bytes(MAC_B, MAC_A, be16(tags[0]![0]), parts, payload);
}

export function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return bytes(be16(sport), be16(dport), be16(8 + payload.length), [0, 0], payload);
}

/** An Ethernet/IPv4/TCP frame: the common case. */
export function etherTcp(t: TcpSpec = {}, ip: Ipv4Spec = {}): Uint8Array {
  return ether(0x0800, ipv4(tcp(t), ip));
}

/** `array` behind a guard that throws on a read of an index outside [from, to), the frame's bytes. */
function guardRange(array: Uint8Array, from: number, to: number): Uint8Array {
  return new Proxy(array, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^-?\d+$/.test(prop)) {
        const i = Number(prop);
        if (i < from || i >= to) throw new RangeError(`read at ${i - from} outside the captured ${to - from} bytes`);
        return target[i];
      }
      const value: unknown = Reflect.get(target, prop, receiver === undefined ? target : target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A frame inside a larger buffer, as a reader's window holds it: `frame` at `at`, bytes 0xa5 around it.
 * Reading outside the frame throws, as guarded() does past its end.
 */
export function inWindow(frame: Uint8Array, at: number): { bytes: Uint8Array; offset: number } {
  const window = new Uint8Array(at + frame.length + 64).fill(0xa5);
  window.set(frame, at);
  return { bytes: guardRange(window, at, at + frame.length), offset: at };
}

/**
 * Wraps frame bytes so that any read outside [0, length) throws: the decoder must never read past the
 * captured data, and a plain Uint8Array would silently return undefined there.
 */
export function guarded(data: Uint8Array): Uint8Array {
  return guardRange(data, 0, data.length);
}
