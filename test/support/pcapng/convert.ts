/**
 * A TEST TOOL (not part of the shipped recorder). Copies any capture tcplens can read (pcap, pcapng, gzip'd either) into a pcapng file written by our own
 * writer: one section, one IDB per source interface (same order, so packets keep their interface id, and
 * each interface keeps its link type, snaplen, name and description), every packet with its captured
 * bytes, wire length, timestamp and epb_flags, and an ISB for interfaces whose source had statistics.
 * Comments and other options are not copied.
 * Used by the round-trip conformance test and by anyone who wants a capture in the recorder's format.
 *
 * Two passes over the input: the first learns the interfaces (a pcapng file may declare an interface
 * after earlier packets, and the reader reports interfaces only when it is done), the second writes.
 */
import path from 'node:path';
import { readCapture } from '../../../analyzer/readers/index.js';
import type { CaptureError } from '../../../common/errors.js';
import type { InterfaceInfo, RawPacket } from '../../../analyzer/readers/types.js';
import { DEFAULT_TSRESOL, type IdbOptions } from '../../../recorder/pcapng/blocks.js';
import { PcapngFileWriter, type PcapngFileWriterOptions } from './writer.js';

export interface ConvertResult {
  packets: number;
  interfaces: number;
  /** True when the input is damaged: every packet before the damage was copied. */
  partial: boolean;
  error: CaptureError | null;
}

/**
 * The IDB for a source interface. Base-10 resolutions up to nanoseconds are kept (a microsecond pcap stays
 * microseconds); anything finer or base-2 becomes nanoseconds, the resolution the reader delivers.
 */
export function idbFor(iface: InterfaceInfo): IdbOptions {
  const keep = iface.tsresol.base === 10 && iface.tsresol.exponent <= DEFAULT_TSRESOL;
  const idb: IdbOptions = {
    linktype: iface.linktype,
    snaplen: iface.snaplen,
    tsresol: keep ? iface.tsresol.exponent : DEFAULT_TSRESOL,
  };
  if (iface.name !== null) idb.name = iface.name;
  if (iface.description !== null) idb.description = iface.description;
  return idb;
}

/**
 * Copies `inPath` to a new pcapng file at `outPath` (mode 0600 unless `opts.mode` says otherwise). Throws
 * the reader's CaptureError when the input has no readable header; a damaged input is copied up to the
 * damage and the result says `partial` with the error.
 */
export async function convertToPcapng(
  inPath: string, outPath: string, opts: PcapngFileWriterOptions = {},
): Promise<ConvertResult> {
  if (path.resolve(inPath) === path.resolve(outPath)) throw new RangeError(`refusing to convert ${inPath} onto itself`);
  const survey = await readCapture(inPath, () => {});
  // Nothing readable at all (missing file, not a capture): no output file rather than an empty one.
  if (survey.error && survey.interfaces.length === 0) throw survey.error;
  const writer = await PcapngFileWriter.open(outPath, opts);
  try {
    // Comments are not copied: the reader lists section, interface and packet comments together.
    writer.writeSection({ userappl: 'tcplens convert' }, survey.interfaces.map(idbFor));
    let lastTsNs = 0n;
    let writeError: unknown = null;
    const copy = (p: RawPacket): void => {
      if (writeError !== null) return;
      try {
        lastTsNs = BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec);
        writer.writePacket(p.interfaceId, lastTsNs, p.wireLen, p.data, p.flags);
      } catch (err) {
        // The reader's callback must not throw; remember the first failure and stop copying.
        writeError = err;
      }
    };
    const copied = await readCapture(inPath, copy);
    if (writeError !== null) throw writeError;
    for (const iface of survey.interfaces) {
      if (iface.recv === null && iface.drop === null) continue;
      writer.writeStats({
        interfaceId: iface.id,
        tsNs: lastTsNs,
        ...(iface.recv !== null ? { recv: BigInt(iface.recv) } : {}),
        ...(iface.drop !== null ? { drop: BigInt(iface.drop) } : {}),
      });
    }
    await writer.close();
    return { packets: copied.packets, interfaces: survey.interfaces.length, partial: copied.partial, error: copied.error };
  } finally {
    await writer.close().catch(() => {});
  }
}
