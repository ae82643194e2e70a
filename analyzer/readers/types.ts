/**
 * What every capture reader (pcap, pcapng) produces. Readers stream: they hand each packet to a callback
 * and keep no packet after it returns, so memory stays bounded whatever the file size.
 */

export type CaptureFormat = 'pcap' | 'pcapng';

/** Timestamp resolution of an interface: units of base^-exponent seconds (pcapng if_tsresol). */
export interface TsResolution {
  base: 10 | 2;
  exponent: number;
}

export interface InterfaceInfo {
  /** Global index across all sections of the file, in the order the IDBs appear (pcap: always 0). */
  id: number;
  /** 0-based section (SHB) the interface belongs to. */
  section: number;
  /** LINKTYPE_* number with any FCS/reserved upper bits of a pcap header masked off. */
  linktype: number;
  snaplen: number;
  name: string | null;
  description: string | null;
  tsresol: TsResolution;
  /** if_tsoffset, whole seconds added to every timestamp of this interface. */
  tsoffset: number;
  /** From the last Interface Statistics Block for this interface; null when the file has none. */
  recv: number | null;
  drop: number | null;
}

/**
 * One packet record. The object and the bytes it points into are reused by the reader: valid only during
 * the callback. Copy what must outlive it.
 */
export interface RawPacket {
  /** 1-based, file order: exactly tshark's frame.number. */
  frame: number;
  interfaceId: number;
  linktype: number;
  /** Whole seconds since the Unix epoch (if_tsoffset applied). */
  tsSec: number;
  /** Nanoseconds within the second, 0..999,999,999 (converted from the interface's resolution). */
  tsNsec: number;
  capLen: number;
  wireLen: number;
  /**
   * The reader's buffer holding the frame: its bytes are `bytes[offset .. offset + capLen)`. The per-packet
   * pass reads them in place (FrameDecoder.decodePacket); a view per packet cost ~7% of `seq` (bench/NOTES.md).
   */
  bytes: Uint8Array;
  offset: number;
  /** The frame's bytes as their own view, made on each read: for code that wants an array of just the frame. */
  readonly data: Uint8Array;
  /** pcapng epb_flags (bits 0-1: 0 unknown, 1 inbound, 2 outbound); 0 for pcap and other blocks. */
  flags: number;
  /** Byte offset of the record's block/header in the file, for error messages and tests. */
  fileOffset: number;
  /** False for a pcapng Simple Packet Block, which carries no timestamp (tsSec and tsNsec are then 0). */
  hasTimestamp: boolean;
}

export type PacketCallback = (packet: RawPacket) => void;

export interface ReadResult {
  path: string;
  format: CaptureFormat;
  /** Packets handed to the callback. */
  packets: number;
  interfaces: InterfaceInfo[];
  /** Section comments and other file-level comments (opt_comment of SHBs). */
  comments: string[];
  /** True when the file is damaged or cut short: every packet before the damage was delivered. */
  partial: boolean;
  /** The damage that stopped reading, if any. */
  error: import('../../common/errors.js').CaptureError | null;
  /** Non-fatal notes (unknown blocks skipped, odd but readable headers, ...), one line each. */
  warnings: string[];
  /**
   * pcapng Custom Blocks seen. tshark 4.0 shows each one as a frame, so they take a frame number (RawPacket.frame
   * skips over them to stay equal to tshark's frame.number) but they are not packets and are not delivered.
   */
  customBlocks: number;
  /** 'gzip' when the capture was gzip-compressed (byte offsets in errors are then in the decompressed stream). */
  compression: 'gzip' | null;
}
