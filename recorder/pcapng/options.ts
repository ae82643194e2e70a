/**
 * pcapng options: the (code, length, value, padding) records that follow a block's fixed body.
 * Every encoder works in two steps, as gopacket's ngwrite.go does: first turn its optional fields into a
 * list of `PcapngOption`s and measure them (validating as it goes, so nothing is written for a bad input),
 * then write them into a buffer that already has exactly the right size. All values are little-endian.
 */

/** Option codes used by the encoders (pcapng draft, section 4). */
export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const SHB_HARDWARE = 2;
export const SHB_OS = 3;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_FILTER = 11;
export const EPB_FLAGS = 2;
export const ISB_STARTTIME = 2;
export const ISB_ENDTIME = 3;
export const ISB_IFRECV = 4;
export const ISB_IFDROP = 5;
export const ISB_FILTERACCEPT = 6;
export const ISB_OSDROP = 7;

/** An option value's length is a 16-bit field. */
export const MAX_OPTION_VALUE_BYTES = 0xffff;
const UINT64_MAX = (1n << 64n) - 1n;

export type OptionValue =
  | { kind: 'string'; bytes: Buffer }
  | { kind: 'u8'; value: number }
  | { kind: 'u32'; value: number }
  /** A 64-bit counter, written as one little-endian 64-bit integer. */
  | { kind: 'u64'; value: bigint }
  /** A timestamp, written as pcapng timestamps are: high 32 bits, then low 32 bits. */
  | { kind: 'ts'; value: bigint };

export interface PcapngOption {
  code: number;
  value: OptionValue;
}

/** Rounds a length up to the next multiple of 4, the alignment of every block and option. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

function valueLength(v: OptionValue): number {
  switch (v.kind) {
    case 'string': return v.bytes.length;
    case 'u8': return 1;
    case 'u32': return 4;
    case 'u64': case 'ts': return 8;
  }
}

/**
 * A UTF-8 string option. Throws before anything is written when the value is not a string or does not fit
 * the 16-bit length field; `what` names the field in the message ("if_name", "opt_comment", ...).
 */
export function stringOption(code: number, value: unknown, what: string): PcapngOption {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string, got ${typeof value}`);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > MAX_OPTION_VALUE_BYTES) {
    throw new RangeError(`${what} is ${bytes.length} bytes of UTF-8; a pcapng option holds at most ${MAX_OPTION_VALUE_BYTES}`);
  }
  return { code, value: { kind: 'string', bytes } };
}

/** Throws unless `value` is an integer in [0, max]; used for every fixed-width field before encoding. */
export function checkUint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > max) throw new RangeError(`${what} must be between 0 and ${max}, got ${value}`);
  return value;
}

/** Throws unless `value` is a bigint in [0, 2^64 - 1]. */
export function checkUint64(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${what} must be a bigint, got ${typeof value}`);
  if (value < 0n || value > UINT64_MAX) throw new RangeError(`${what} must be between 0 and 2^64-1, got ${value}`);
  return value;
}

/**
 * Bytes the options take in a block, including the closing opt_endofopt. A block without options has no
 * end-of-options either (the draft allows both; tshark and capinfos accept both).
 */
export function optionsLength(options: readonly PcapngOption[]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const o of options) n += 4 + pad4(valueLength(o.value));
  return n;
}

/** Writes the options at `offset` (the buffer is sized by `optionsLength`) and returns the new offset. */
export function writeOptions(buf: Buffer, offset: number, options: readonly PcapngOption[]): number {
  if (options.length === 0) return offset;
  for (const o of options) {
    const len = valueLength(o.value);
    buf.writeUInt16LE(o.code, offset);
    buf.writeUInt16LE(len, offset + 2);
    offset += 4;
    const v = o.value;
    switch (v.kind) {
      case 'string': v.bytes.copy(buf, offset); break;
      case 'u8': buf.writeUInt8(v.value, offset); break;
      case 'u32': buf.writeUInt32LE(v.value, offset); break;
      case 'u64': buf.writeBigUInt64LE(v.value, offset); break;
      case 'ts':
        buf.writeUInt32LE(Number(v.value >> 32n), offset);
        buf.writeUInt32LE(Number(v.value & 0xffffffffn), offset + 4);
        break;
    }
    const padded = pad4(len);
    buf.fill(0, offset + len, offset + padded);
    offset += padded;
  }
  buf.writeUInt32LE(OPT_ENDOFOPT, offset); // code 0, length 0
  return offset + 4;
}
