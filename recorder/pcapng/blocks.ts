/**
 * Pure pcapng block encoders (pcapng draft: draft-ietf-opsawg-pcapng). One function per block type, each
 * in the same order as gopacket's pcapgo/ngwrite.go: validate every input and compute the exact length
 * (throwing TypeError/RangeError before a byte is written), then write the header, the body, the padding
 * to 4 bytes, the options and the length again. Everything is little-endian.
 *
 * Timestamps are given in nanoseconds since the Unix epoch (bigint) and written in the units of the
 * interface's if_tsresol: the recorder writes if_tsresol = 9, so a tick is a nanosecond and no scaling
 * happens. An interface declared with another resolution takes `tsresol` on its EPBs and ISBs too.
 */
import {
  EPB_FLAGS, IF_DESCRIPTION, IF_FILTER, IF_NAME, IF_TSRESOL, ISB_ENDTIME, ISB_FILTERACCEPT, ISB_IFDROP, ISB_IFRECV,
  ISB_OSDROP, ISB_STARTTIME, OPT_COMMENT, SHB_HARDWARE, SHB_OS, SHB_USERAPPL,
  checkUint, checkUint64, optionsLength, stringOption, writeOptions, type PcapngOption,
} from './options.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** if_tsresol the recorder writes: 10^-9 s, so EPB timestamps are nanoseconds. */
export const DEFAULT_TSRESOL = 9;
/** Largest base-10 if_tsresol exponent accepted: 10^19 ticks per second still fits timestamps of today. */
export const MAX_TSRESOL = 19;
export const UINT32_MAX = 0xffffffff;
const UINT16_MAX = 0xffff;
export const UINT64_MAX = (1n << 64n) - 1n;

/** epb_flags bits 0-1: direction. */
export const EPB_DIRECTION_UNKNOWN = 0;
export const EPB_DIRECTION_INBOUND = 1;
export const EPB_DIRECTION_OUTBOUND = 2;

/** epb_flags option header as one little-endian word: code 2 in the low half, length 4 in the high half. */
export const EPB_FLAGS_HEADER = (4 << 16) | EPB_FLAGS;

/**
 * The one definition of the EPB layout outside the encoders' own code: byte offsets of the fixed fields,
 * and the epb_flags option as the recorder writes it (always present: the direction). The addon's drain
 * thread lays out EPBs the same way (native/src/epb.h); native/index.ts refuses an addon whose constants
 * differ from these. `keyLinks`: the addon names an interface by the key ifindex * keyLinks + link in
 * its 'interface' events (recorder/sink.ts).
 */
export const EPB_LAYOUT = {
  blockType: BT_EPB,
  type: 0,
  length: 4,
  interfaceId: 8,
  tsHigh: 12,
  tsLow: 16,
  capLen: 20,
  wireLen: 24,
  data: 28,
  flagsOptionHeader: EPB_FLAGS_HEADER,
  flagsOptionSize: 12,
  trailerSize: 4,
  inbound: EPB_DIRECTION_INBOUND,
  outbound: EPB_DIRECTION_OUTBOUND,
  keyLinks: 4,
} as const;


export interface ShbOptions {
  /** opt_comment; several comments become several opt_comment options, in order. */
  comment?: string | readonly string[];
  hardware?: string;
  os?: string;
  userappl?: string;
}

export interface IdbOptions {
  /** LINKTYPE_* number (16 bits). */
  linktype: number;
  /** Largest captured length of this interface; 0 means no limit. */
  snaplen: number;
  name?: string;
  description?: string;
  /** Base-10 exponent of the timestamp unit: 9 (the default) => 10^-9 s, 6 => microseconds. */
  tsresol?: number;
  comment?: string;
  /** if_filter: the capture filter, written as a libpcap filter string (type byte 0), as dumpcap does. */
  filter?: string;
}

export interface IsbOptions {
  interfaceId: number;
  /** When the statistics were taken, nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** isb_ifrecv: packets received by the interface. */
  recv?: bigint;
  /** isb_ifdrop: packets dropped by the interface (e.g. ring overflow). */
  drop?: bigint;
  /** isb_filteraccept: packets the capture filter accepted. */
  filterAccept?: bigint;
  /** isb_osdrop: packets the operating system dropped. */
  osDrop?: bigint;
  /** isb_starttime / isb_endtime, nanoseconds since the Unix epoch. */
  startNs?: bigint;
  endNs?: bigint;
  comment?: string;
  /** if_tsresol of the interface when it is not 9. */
  tsresol?: number;
}

export function checkTsresol(tsresol: unknown): number {
  return checkUint(tsresol ?? DEFAULT_TSRESOL, MAX_TSRESOL, 'tsresol');
}

/** Converts nanoseconds to ticks of 10^-tsresol s (truncating), checking that the result fits 64 bits. */
export function nsToTicks(tsNs: bigint, tsresol: number, what: string): bigint {
  checkUint64(tsNs, what);
  let ticks = tsNs;
  if (tsresol < 9) ticks = tsNs / 10n ** BigInt(9 - tsresol);
  else if (tsresol > 9) ticks = tsNs * 10n ** BigInt(tsresol - 9);
  if (ticks > UINT64_MAX) throw new RangeError(`${what} ${tsNs} ns does not fit 64 bits at if_tsresol ${tsresol}`);
  return ticks;
}

export function commentOptions(comment: unknown): PcapngOption[] {
  if (comment === undefined) return [];
  const list = Array.isArray(comment) ? comment : [comment];
  return list.map((c) => stringOption(OPT_COMMENT, c, 'opt_comment'));
}

/**
 * Allocates a block of `bodyLength` bytes between the 8-byte header and the 4-byte trailing length plus
 * the options, writes the header and trailer, and returns the buffer and where the body starts.
 */
export function allocBlock(type: number, bodyLength: number, options: readonly PcapngOption[]): { buf: Buffer; optionsAt: number } {
  const total = 8 + bodyLength + optionsLength(options) + 4;
  if (total > UINT32_MAX) throw new RangeError(`block of ${total} bytes exceeds the 32-bit block length`);
  const buf = Buffer.alloc(total);
  buf.writeUInt32LE(type, 0);
  buf.writeUInt32LE(total, 4);
  buf.writeUInt32LE(total, total - 4);
  return { buf, optionsAt: 8 + bodyLength };
}

/** Section Header Block, version 1.0, section length -1 (unknown: the file is written as a stream). */
export function encodeShb(opts: ShbOptions = {}): Buffer {
  const options: PcapngOption[] = [...commentOptions(opts.comment)];
  if (opts.hardware !== undefined) options.push(stringOption(SHB_HARDWARE, opts.hardware, 'shb_hardware'));
  if (opts.os !== undefined) options.push(stringOption(SHB_OS, opts.os, 'shb_os'));
  if (opts.userappl !== undefined) options.push(stringOption(SHB_USERAPPL, opts.userappl, 'shb_userappl'));
  const { buf, optionsAt } = allocBlock(BT_SHB, 16, options);
  buf.writeUInt32LE(BYTE_ORDER_MAGIC, 8);
  buf.writeUInt16LE(1, 12); // major version
  buf.writeUInt16LE(0, 14); // minor version
  buf.writeBigInt64LE(-1n, 16); // section length: not specified
  writeOptions(buf, optionsAt, options);
  return buf;
}

/** Interface Description Block. if_tsresol is always written, so readers never fall back to microseconds. */
export function encodeIdb(opts: IdbOptions): Buffer {
  const linktype = checkUint(opts.linktype, UINT16_MAX, 'linktype');
  const snaplen = checkUint(opts.snaplen, UINT32_MAX, 'snaplen');
  const tsresol = checkTsresol(opts.tsresol);
  const options: PcapngOption[] = [...commentOptions(opts.comment)];
  if (opts.name !== undefined) options.push(stringOption(IF_NAME, opts.name, 'if_name'));
  if (opts.description !== undefined) options.push(stringOption(IF_DESCRIPTION, opts.description, 'if_description'));
  options.push({ code: IF_TSRESOL, value: { kind: 'u8', value: tsresol } });
  if (opts.filter !== undefined) {
    const text = stringOption(IF_FILTER, opts.filter, 'if_filter');
    if (text.value.kind === 'string') options.push({ code: IF_FILTER, value: { kind: 'string', bytes: Buffer.concat([Buffer.from([0]), text.value.bytes]) } });
  }
  const { buf, optionsAt } = allocBlock(BT_IDB, 8, options);
  buf.writeUInt16LE(linktype, 8);
  buf.writeUInt16LE(0, 10); // reserved
  buf.writeUInt32LE(snaplen, 12);
  writeOptions(buf, optionsAt, options);
  return buf;
}

/** Interface Statistics Block: the counters the recorder knows at close (received, dropped, ...). */
export function encodeIsb(s: IsbOptions): Buffer {
  const interfaceId = checkUint(s.interfaceId, UINT32_MAX, 'interfaceId');
  const tsresol = checkTsresol(s.tsresol);
  const ticks = nsToTicks(s.tsNs, tsresol, 'tsNs');
  const options: PcapngOption[] = [...commentOptions(s.comment)];
  if (s.startNs !== undefined) options.push({ code: ISB_STARTTIME, value: { kind: 'ts', value: nsToTicks(s.startNs, tsresol, 'startNs') } });
  if (s.endNs !== undefined) options.push({ code: ISB_ENDTIME, value: { kind: 'ts', value: nsToTicks(s.endNs, tsresol, 'endNs') } });
  const counters: [bigint | undefined, number, string][] = [
    [s.recv, ISB_IFRECV, 'recv'], [s.drop, ISB_IFDROP, 'drop'],
    [s.filterAccept, ISB_FILTERACCEPT, 'filterAccept'], [s.osDrop, ISB_OSDROP, 'osDrop'],
  ];
  for (const [value, code, what] of counters) {
    if (value !== undefined) options.push({ code, value: { kind: 'u64', value: checkUint64(value, what) } });
  }
  const { buf, optionsAt } = allocBlock(BT_ISB, 12, options);
  buf.writeUInt32LE(interfaceId, 8);
  buf.writeUInt32LE(Number(ticks >> 32n), 12);
  buf.writeUInt32LE(Number(ticks & 0xffffffffn), 16);
  writeOptions(buf, optionsAt, options);
  return buf;
}
