/**
 * Byte builders for pcap and pcapng files in tests. Deliberately independent of the readers (and of the
 * recorder's writer) and free to write wrong values, so tests can make exactly the damage they name.
 * Layouts from the pcap and pcapng drafts (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng).
 */

/** A real Ethernet + IPv4 + TCP SYN frame (54 bytes): 10.0.0.1:40000 -> 10.0.0.2:80, seq 1000. */
export function tcpSynFrame(): Uint8Array {
  const f = Buffer.alloc(54);
  f.set([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x08, 0x00], 0);
  // IPv4: version 4, IHL 5, total length 40, TTL 64, protocol 6.
  f.set([0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, 24);
  // TCP: ports, seq 1000, ack 0, data offset 5, SYN, window 65535.
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(80, 36);
  f.writeUInt32BE(1000, 38);
  f[46] = 0x50;
  f[47] = 0x02;
  f.writeUInt16BE(65535, 48);
  return f;
}

export interface PcapHeaderOpts {
  le?: boolean;
  nanos?: boolean;
  major?: number;
  minor?: number;
  snaplen?: number;
  /** Whole 32-bit field, including any FCS/reserved bits. */
  linkField?: number;
}

export function pcapHeader(o: PcapHeaderOpts = {}): Buffer {
  const le = o.le ?? true;
  const b = Buffer.alloc(24);
  const w32 = (v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const w16 = (v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(o.major ?? 2, 4);
  w16(o.minor ?? 4, 6);
  w32(o.snaplen ?? 65535, 16);
  w32(o.linkField ?? 1, 20);
  return b;
}

export interface PcapRecordOpts {
  le?: boolean;
  sec: number;
  frac: number;
  data: Uint8Array;
  /** Written in the header; defaults to data.length (set it larger to claim bytes that are not there). */
  capLen?: number;
  wireLen?: number;
}

export function pcapRecord(o: PcapRecordOpts): Buffer {
  const le = o.le ?? true;
  const b = Buffer.alloc(16);
  const w32 = (v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  w32(o.sec, 0);
  w32(o.frac, 4);
  w32(o.capLen ?? o.data.length, 8);
  w32(o.wireLen ?? o.data.length, 12);
  return Buffer.concat([b, o.data]);
}

/** One pcapng option: code, length, value padded to 4. */
export function option(code: number, value: Uint8Array, le = true): Buffer {
  const head = Buffer.alloc(4);
  if (le) { head.writeUInt16LE(code, 0); head.writeUInt16LE(value.length, 2); } else { head.writeUInt16BE(code, 0); head.writeUInt16BE(value.length, 2); }
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

export function textOption(code: number, text: string, le = true): Buffer {
  return option(code, Buffer.from(text, 'utf8'), le);
}

export function u32Option(code: number, v: number, le = true): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v, 0); else b.writeUInt32BE(v, 0);
  return option(code, b, le);
}

export function u64Option(code: number, v: bigint, le = true): Buffer {
  const b = Buffer.alloc(8);
  if (le) b.writeBigUInt64LE(BigInt.asUintN(64, v), 0); else b.writeBigUInt64BE(BigInt.asUintN(64, v), 0);
  return option(code, b, le);
}

export function endOfOptions(le = true): Buffer {
  return option(0, Buffer.alloc(0), le);
}

/** A whole block: type, total length, body padded to 4, total length. `totalLength` overrides both lengths. */
export function block(type: number, body: Uint8Array, le = true, totalLength?: number): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const len = totalLength ?? padded.length + 12;
  const head = Buffer.alloc(8);
  const tail = Buffer.alloc(4);
  if (le) { head.writeUInt32LE(type >>> 0, 0); head.writeUInt32LE(len >>> 0, 4); tail.writeUInt32LE(len >>> 0, 0); } else { head.writeUInt32BE(type >>> 0, 0); head.writeUInt32BE(len >>> 0, 4); tail.writeUInt32BE(len >>> 0, 0); }
  return Buffer.concat([head, padded, tail]);
}

function fields(le: boolean, spec: Array<[number, 2 | 4]>): Buffer {
  const b = Buffer.alloc(spec.reduce((n, [, w]) => n + w, 0));
  let at = 0;
  for (const [v, w] of spec) {
    if (w === 2) { if (le) b.writeUInt16LE(v, at); else b.writeUInt16BE(v, at); } else if (le) b.writeUInt32LE(v >>> 0, at); else b.writeUInt32BE(v >>> 0, at);
    at += w;
  }
  return b;
}

export function shb(o: { le?: boolean; major?: number; minor?: number; options?: Buffer[] } = {}): Buffer {
  const le = o.le ?? true;
  const body = Buffer.concat([
    fields(le, [[0x1a2b3c4d, 4], [o.major ?? 1, 2], [o.minor ?? 0, 2]]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // section length: -1, unknown
    ...(o.options ?? []),
  ]);
  return block(0x0a0d0d0a, body, le);
}

export function idb(o: { le?: boolean; linktype?: number; snaplen?: number; options?: Buffer[] } = {}): Buffer {
  const le = o.le ?? true;
  return block(1, Buffer.concat([fields(le, [[o.linktype ?? 1, 2], [0, 2], [o.snaplen ?? 0, 4]]), ...(o.options ?? [])]), le);
}

/** Splits a 64-bit unit count into the high and low words pcapng stores. */
function split64(units: bigint): [number, number] {
  return [Number(units >> 32n) >>> 0, Number(units & 0xffffffffn) >>> 0];
}

export function epb(o: { le?: boolean; ifId?: number; units: bigint; data: Uint8Array; capLen?: number; wireLen?: number; options?: Buffer[] }): Buffer {
  const le = o.le ?? true;
  const [hi, lo] = split64(o.units);
  return block(6, Buffer.concat([
    fields(le, [[o.ifId ?? 0, 4], [hi, 4], [lo, 4], [o.capLen ?? o.data.length, 4], [o.wireLen ?? o.data.length, 4]]),
    o.data, Buffer.alloc((4 - (o.data.length % 4)) % 4), ...(o.options ?? []),
  ]), le);
}

/** The obsolete Packet Block (type 2): 16-bit interface id and drops count. */
export function pb(o: { le?: boolean; ifId?: number; units: bigint; data: Uint8Array; wireLen?: number }): Buffer {
  const le = o.le ?? true;
  const [hi, lo] = split64(o.units);
  return block(2, Buffer.concat([
    fields(le, [[o.ifId ?? 0, 2], [0, 2], [hi, 4], [lo, 4], [o.data.length, 4], [o.wireLen ?? o.data.length, 4]]),
    o.data,
  ]), le);
}

export function spb(o: { le?: boolean; data: Uint8Array; wireLen?: number }): Buffer {
  const le = o.le ?? true;
  return block(3, Buffer.concat([fields(le, [[o.wireLen ?? o.data.length, 4]]), o.data]), le);
}

export function isb(o: { le?: boolean; ifId?: number; recv?: bigint; drop?: bigint }): Buffer {
  const le = o.le ?? true;
  const opts: Buffer[] = [];
  if (o.recv !== undefined) opts.push(u64Option(4, o.recv, le));
  if (o.drop !== undefined) opts.push(u64Option(5, o.drop, le));
  if (opts.length) opts.push(endOfOptions(le));
  return block(5, Buffer.concat([fields(le, [[o.ifId ?? 0, 4], [0, 4], [0, 4]]), ...opts]), le);
}

/** A Custom Block (copyable): Private Enterprise Number then opaque bytes. */
export function customBlock(le = true): Buffer {
  return block(0x00000bad, Buffer.concat([fields(le, [[32473, 4]]), Buffer.from('custom')]), le);
}
