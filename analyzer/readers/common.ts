/** Pieces shared by the readers and the capture-set pipeline that opens their inputs. */
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { InterfaceInfo, RawPacket, ReadResult, TsResolution } from './types.js';

/**
 * Largest captured length accepted for one record. Anything above is taken as damage rather than a packet
 * (Wireshark's own ceiling is 256 KiB for most link types; 256 MiB leaves room for odd captures while still
 * stopping a corrupt length from making the reader allocate gigabytes).
 */
export const MAX_RECORD_BYTES = 256 << 20;

class PacketRecord implements RawPacket {
  frame = 0;
  interfaceId = 0;
  linktype = 0;
  tsSec = 0;
  tsNsec = 0;
  capLen = 0;
  wireLen = 0;
  bytes = new Uint8Array(0);
  offset = 0;
  flags = 0;
  fileOffset = 0;
  hasTimestamp = true;

  get data(): Uint8Array {
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + this.offset, this.capLen);
  }
}

export function newRawPacket(): RawPacket {
  return new PacketRecord();
}

export function newInterface(id: number, section: number, linktype: number, snaplen: number, tsresol: TsResolution): InterfaceInfo {
  return { id, section, linktype, snaplen, name: null, description: null, tsresol, tsoffset: 0, recv: null, drop: null };
}

export function emptyResult(path: string): ReadResult {
  return {
    path, format: 'pcap', packets: 0, interfaces: [], comments: [], partial: false, error: null, warnings: [],
    customBlocks: 0, compression: null,
  };
}

/** Warnings are capped so a file with a million odd records cannot fill memory with notes. */
export const MAX_WARNINGS = 100;

export function warn(result: ReadResult, text: string): void {
  if (result.warnings.length < MAX_WARNINGS) result.warnings.push(text);
  else if (result.warnings.length === MAX_WARNINGS) result.warnings.push('more warnings suppressed');
}

/**
 * The input's stat, or null when it cannot be had (missing, unreadable): callers that only decide how to
 * read leave the error to the reader. Synchronous: microseconds, where an async stat is a thread-pool
 * round trip per file (readers/byte-window.ts FileSource).
 */
export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * A DuckDB database, not a capture (`--db` output given where captures are expected): DuckDB files start
 * with an 8-byte checksum then the magic "DUCK".
 */
export function isDuckDbFile(file: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(file).isFile()) return false;
    fd = openSync(file, 'r');
    const head = Buffer.alloc(12);
    const n = readSync(fd, head, 0, 12, 0);
    return n === 12 && head.toString('latin1', 8, 12) === 'DUCK';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
