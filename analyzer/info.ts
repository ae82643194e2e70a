/**
 * What `tcplens info` reports about a capture, like capinfos: format, interfaces, packet and TCP counts,
 * time span, drops. Gathering only; analyzer/cli/info.ts renders. The keys of CaptureInfo are the JSON
 * output contract (snake_case as printed).
 */
import { FrameDecoder } from './decode/index.js';
import { DecodeStatus, newDecodedPacket } from './decode/types.js';
import type { CaptureError } from '../common/errors.js';
import { readCapture } from './readers/index.js';
import type { RawPacket, TsResolution } from './readers/types.js';
import { nulledValueWarnings, StampGuard } from './db/value-range.js';

export interface InterfaceSummary {
  name: string | null;
  linktype: number;
  snaplen: number;
  /** Timestamp resolution as text: "1e-6", "1e-9", "2^-20". */
  tsresol: string;
  recv: number | null;
  drop: number | null;
}

export interface CaptureInfo {
  path: string;
  format: 'pcap' | 'pcapng' | null;
  compression: 'gzip' | null;
  packets: number;
  tcp_packets: number;
  /** pcapng custom blocks: tshark counts them as frames, capinfos and we do not count them as packets. */
  custom_blocks: number;
  interfaces: InterfaceSummary[];
  /** Earliest and latest packet time (capinfos' first/last), ISO 8601 UTC with 9 fraction digits. */
  first_ts: string | null;
  last_ts: string | null;
  duration_s: number | null;
  bytes_captured: number;
  bytes_on_wire: number;
  /** Sum of isb_ifdrop over interfaces; null when no ISB gave one. */
  drops: number | null;
  /** Packets per link type the decoder does not know (by LINKTYPE number). */
  unknown_linktypes: Record<string, number>;
  comments: string[];
  partial: boolean;
  warnings: string[];
  /** The damage that stopped reading (not printed in JSON: `warnings` and stderr carry it). */
  error: CaptureError | null;
}

export function formatTsresol(r: TsResolution): string {
  return r.base === 10 ? `1e-${r.exponent}` : `2^-${r.exponent}`;
}

/** 2024-01-02T03:04:05.123456789Z; null when the seconds fall outside what a Date can show. */
export function isoNanos(sec: number, nsec: number): string | null {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return null;
  return `${d.toISOString().slice(0, 19)}.${String(nsec).padStart(9, '0')}Z`;
}

/** Reads one capture to the end (or the damage) and summarises it. Never throws for bad input. */
export async function gatherInfo(path: string): Promise<CaptureInfo> {
  const decoder = new FrameDecoder();
  const decoded = newDecodedPacket();
  let tcp = 0;
  let capBytes = 0;
  let wireBytes = 0;
  const unknown = new Map<number, number>();
  // Earliest/latest as (sec, nsec) pairs compared without building any object per packet.
  let minSec = Infinity, minNsec = 0, maxSec = -Infinity, maxNsec = 0;
  // info keeps such stamps as read (it has no database), but names those the other commands store as NULL.
  const stamps = new StampGuard();
  const onPacket = (p: RawPacket): void => {
    if (p.hasTimestamp) stamps.check(p.frame, p.fileOffset, p.tsSec, p.tsNsec);
    capBytes += p.capLen;
    wireBytes += p.wireLen;
    if (p.hasTimestamp) {
      if (p.tsSec < minSec || (p.tsSec === minSec && p.tsNsec < minNsec)) { minSec = p.tsSec; minNsec = p.tsNsec; }
      if (p.tsSec > maxSec || (p.tsSec === maxSec && p.tsNsec > maxNsec)) { maxSec = p.tsSec; maxNsec = p.tsNsec; }
    }
    const status = decoder.decodePacket(p, decoded);
    if (status === DecodeStatus.Tcp) tcp++;
    else if (status === DecodeStatus.UnknownLinktype) unknown.set(p.linktype, (unknown.get(p.linktype) ?? 0) + 1);
  };
  const r = await readCapture(path, onPacket);

  const warnings = [...r.warnings];
  for (const [linktype, n] of unknown) warnings.push(`link type ${linktype} is not decoded: ${n} packets counted but not searched for TCP`);
  warnings.push(...nulledValueWarnings(stamps, r.interfaces));
  if (r.error) warnings.push(r.error.message);
  let drops: number | null = null;
  for (const i of r.interfaces) if (i.drop !== null) drops = (drops ?? 0) + i.drop;
  const haveTs = minSec !== Infinity;
  return {
    path: r.path,
    // Unknown only when reading stopped before a magic number was recognised (missing, empty, not a capture).
    format: r.error !== null && r.error.offset < 4 && r.interfaces.length === 0 ? null : r.format,
    compression: r.compression,
    packets: r.packets,
    tcp_packets: tcp,
    custom_blocks: r.customBlocks,
    interfaces: r.interfaces.map((i) => ({
      name: i.name, linktype: i.linktype, snaplen: i.snaplen, tsresol: formatTsresol(i.tsresol), recv: i.recv, drop: i.drop,
    })),
    first_ts: haveTs ? isoNanos(minSec, minNsec) : null,
    last_ts: haveTs ? isoNanos(maxSec, maxNsec) : null,
    duration_s: haveTs ? (maxSec - minSec) + (maxNsec - minNsec) / 1e9 : null,
    bytes_captured: capBytes,
    bytes_on_wire: wireBytes,
    drops,
    unknown_linktypes: Object.fromEntries([...unknown].map(([k, v]) => [String(k), v])),
    comments: r.comments,
    partial: r.partial,
    warnings,
    error: r.error,
  };
}
