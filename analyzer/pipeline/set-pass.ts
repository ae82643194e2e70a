/**
 * The per-packet pass over one capture set, the analysis every capture-reading command runs:
 *   capture set (merged by timestamp) -> decoder -> TCP header analysable? -> connection tracking,
 *   sequence analysis, performance figures -> a sink.
 * The sink decides what is kept: the loader (db/loader.ts) writes tables into DuckDB, `seq` and `conns`
 * without SQL (analyzer/direct.ts) print flows and flags as the pass hands them over, with no database
 * at all. Nothing here imports DuckDB.
 *
 * Nothing per packet is kept after the sink has seen it, so memory is bounded by the live connections.
 */
import { open } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { UsageError, type CaptureError } from '../../common/errors.js';
import { DecodeStatus, FrameDecoder, newDecodedPacket, type DecodedPacket } from '../decode/index.js';
import { inputName, STDIN, type RawPacket, type ReadResult } from '../readers/index.js';
import { statOrNull } from '../readers/common.js';
import { readCaptureSet, type PlannedSet } from './capture-set.js';
import { FlowTracker, newTrackedSegment, type Flow, type TrackedSegment } from '../flows/tracker.js';
import type { AddressIds } from '../flows/address-ids.js';
import { SequenceAnalyzer } from '../seq/index.js';
import { ipBytesOf, observeSegment, zeekSegmentKind } from '../perf/observe.js';
import { nulledValueWarnings, StampGuard } from '../db/value-range.js';

export interface LoadProgress {
  path: string;
  index: number;
  count: number;
  packets: number;
  /** Byte offset reached in the file and the file size; size 0 when unknown (gzip: offsets are decompressed). */
  offset: number;
  size: number;
}

/** What happened to one capture file of a pass (or a load). */
export interface LoadedCapture {
  captureId: number | null;
  /** The recording (capture set) the capture was loaded in. */
  setId: number | null;
  /** Absolute path, or `<stdin>`. */
  path: string;
  /** True when the capture was already in the database and was not read again. */
  reused: boolean;
  packets: number;
  tcpPackets: number;
  partial: boolean;
  error: CaptureError | null;
  warnings: string[];
  /** The warnings about values no column holds, stored as NULL (value-range.ts); also in `warnings`. */
  nulled: string[];
}

/** What the pass counts for each file of a set (the captures row). */
export interface FileCounts {
  tcp: number;
  notTcp: number;
  unknownLinktype: number;
  malformed: number;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  flows: number;
  flags: number;
}

export function newCounts(): FileCounts {
  return { tcp: 0, notTcp: 0, unknownLinktype: 0, malformed: 0, firstSec: -1, firstNsec: 0, lastSec: -1, lastNsec: 0, flows: 0, flags: 0 };
}

/** One input as a pass identifies it: a regular file by path, size and mtime; a stream by nothing. */
export interface InputIdentity {
  input: string;
  abs: string;
  size: number;
  mtimeMs: number;
  /** A regular file: can be recognised in a kept database. Streams are always read. */
  stable: boolean;
  /** Handed to the reader, which then takes no stat of its own (null: standard input, or none could be had). */
  stat: Stats | null;
}

/** `known`: the input's stat when the set's plan took it already (undefined: take it here). */
export function identify(input: string, known?: Stats | null): InputIdentity {
  if (input === STDIN) return { input, abs: inputName(input), size: 0, mtimeMs: 0, stable: false, stat: null };
  const abs = path.resolve(input);
  const st = known === undefined ? statOrNull(abs) : known;
  return { input, abs, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0, stable: st?.isFile() ?? false, stat: st };
}

/**
 * The recordings the inputs make: all of them one (merged by timestamp), or each file its own with
 * perFile. Standard input can be named once only: it cannot be read twice.
 */
export function recordingsOf(inputs: readonly string[], perFile: boolean): (readonly string[])[] {
  if (inputs.filter((i) => i === STDIN).length > 1) throw new UsageError('standard input (-) can be read only once');
  return perFile ? inputs.map((i) => [i]) : [inputs];
}

export interface SetPassOptions {
  /** Called about every 64k packets; the CLI turns it into a progress line on a TTY. */
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** The set's inputs already being peeked (planCaptureSet), begun before the caller was ready. */
  plan?: Promise<PlannedSet>;
  /** Connection tracking (flows); without it only the sequence analysis runs. */
  trackFlows: boolean;
  /** tshark's sequence analysis (flags); `scans` needs none. */
  analyzeSequences: boolean;
  /** The per-connection performance figures (analyzer/perf). */
  figures: boolean;
  /** Drop segments with a wrong TCP checksum from the connections, as Zeek does without -C. */
  verifyChecksums: boolean;
  /** The first file's capture id (the others follow in canonical order) and the first connection's id. */
  firstCaptureId: number;
  firstFlowId: number;
}

/** Where the pass is: the segment being analysed, its connection, its flags. Sinks read it; only the pass writes it. */
export interface PassState {
  readonly tracker: FlowTracker;
  readonly seq: SequenceAnalyzer;
  /** The segment as the tracker saw it (addresses as ids). */
  readonly segment: TrackedSegment;
  /** The file (canonical order), frame (the set's timeline) and time of the segment being analysed. */
  readonly at: { file: number; frame: number; sec: number; nsec: number; captureId: number };
  /** The set's files in canonical order (the order of their capture ids). */
  readonly files: readonly InputIdentity[];
}

export interface SetPassSink {
  /** A connection is over (every connection ends, the last ones when the set is read): its figures are final. */
  flowEnded(flow: Flow): void;
  /** A flag raised on the segment being analysed (flags of one frame come in code order). */
  flagRaised(frame: number, code: number, state: PassState): void;
  /** Each TCP segment once tracked and analysed (the database's packet rows); null: not wanted. */
  readonly segmentDone: ((raw: RawPacket, decoded: DecodedPacket, state: PassState) => void) | null;
}

/** One file of a set once passed, in the order the inputs were given. */
export interface PassedFile {
  identity: InputIdentity;
  /** Absolute path or `<stdin>`, as messages name it. */
  name: string;
  /** Null when not one packet could be read (no captures row). */
  captureId: number | null;
  result: ReadResult;
  counts: FileCounts;
  /** The warnings about values no column holds (value-range.ts); also pushed onto result.warnings. */
  nulled: string[];
}

/** gzip-compressed captures report offsets in decompressed bytes: no percentage can be given for them. */
async function isGzip(file: string): Promise<boolean> {
  const fd = await open(file, 'r').catch(() => null);
  if (!fd) return false;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fd.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fd.close();
  }
}

/** The pass over one set; returns its files in the order the inputs were given. */
export async function passSet(ids: readonly InputIdentity[], addresses: AddressIds, opts: SetPassOptions, sink: SetPassSink): Promise<PassedFile[]> {
  const { trackFlows, analyzeSequences, figures } = opts;
  const verifyChecksums = opts.verifyChecksums;
  const byInput = new Map(ids.map((i) => [i.input, i]));
  // Filled when the set's canonical order is known (before the first packet).
  let order: InputIdentity[] = [];
  // Per file, made at the file's first packet (fileStarts), not all when the order is known: their time
  // fields start as small integers (-1) and become doubles with the first timestamp, which makes V8 retire
  // the objects' shape; 1,000 objects made before that kept the retired shape, and every packet of a
  // 1,000-file set paid for it (0.4-0.5 s per million packets; bench/NOTES.md, capture sets).
  let counts: (FileCounts | undefined)[] = [];
  // Per file: timestamps no TIMESTAMP_NS holds (value-range.ts), and the last good one.
  let stamps: (StampGuard | undefined)[] = [];
  const fileStarts = (file: number): FileCounts => {
    stamps[file] = new StampGuard();
    return (counts[file] = newCounts());
  };
  // Progress percentages only for plain files (gzip offsets are in decompressed bytes), and only when shown.
  const sizeOf = new Map<string, number>();
  if (opts.onProgress) for (const i of ids) sizeOf.set(i.input, i.stable && !(await isGzip(i.abs)) ? i.size : 0);
  let progressSizes: number[] = [];
  const captureIdOf = (file: number): number => opts.firstCaptureId + file;

  const tracker = new FlowTracker(opts.firstFlowId, (flow) => {
    counts[flow.captureId - opts.firstCaptureId]!.flows++;
    sink.flowEnded(flow);
  });
  const at = { file: 0, frame: 0, sec: 0, nsec: 0, captureId: 0 };
  const segment = newTrackedSegment();
  // Flags are raised synchronously inside push(), for the segment `at` describes (so `state` is set by then).
  const seq = new SequenceAnalyzer({
    collect: false,
    onFlag: (frame, code) => {
      counts[at.file]!.flags++;
      sink.flagRaised(frame, code, state);
    },
  });
  const state = { tracker, seq, segment, at, files: [] as readonly InputIdentity[] };
  const segmentDone = sink.segmentDone;
  const decoder = new FrameDecoder();
  const decoded = newDecodedPacket();
  let seen = 0;

  const onPacket = (raw: RawPacket, file: number, frame: number): void => {
    const c = counts[file] ?? fileStarts(file);
    const guard = stamps[file]!;
    const tsOk = guard.check(raw.frame, raw.fileOffset, raw.tsSec, raw.tsNsec);
    if (tsOk) {
      if (c.firstSec < 0) {
        c.firstSec = raw.tsSec;
        c.firstNsec = raw.tsNsec;
      }
      c.lastSec = raw.tsSec;
      c.lastNsec = raw.tsNsec;
    }
    if ((++seen & 0xffff) === 0 && opts.onProgress) {
      opts.onProgress({ path: order[file]!.abs, index: file, count: order.length, packets: seen, offset: raw.fileOffset, size: progressSizes[file]! });
    }
    const status = decoder.decodePacket(raw, decoded);
    if (status !== DecodeStatus.Tcp) {
      if (status === DecodeStatus.NotTcp) c.notTcp++;
      else if (status === DecodeStatus.UnknownLinktype) c.unknownLinktype++;
      else c.malformed++;
      return;
    }
    c.tcp++;
    at.file = file;
    at.frame = frame;
    at.sec = raw.tsSec;
    at.nsec = raw.tsNsec;
    at.captureId = captureIdOf(file);
    // The captured length goes with the segment: a TCP header the snaplen cut before its window field is
    // not analyzed (tshark cannot dissect it either); the row still records what was captured.
    if (!trackFlows) {
      seq.push(frame, raw.tsSec, raw.tsNsec, decoded, raw.capLen);
      return;
    }
    fillSegment(segment, decoded, raw, at.captureId, addresses, verifyChecksums);
    if (!tsOk) {
      // Connection timers must not see centuries pass on one flipped byte: the last good stamp stands in.
      segment.sec = guard.sec;
      segment.nsec = guard.nsec;
    }
    tracker.track(segment);
    if (analyzeSequences) seq.push(frame, raw.tsSec, raw.tsNsec, decoded, raw.capLen);
    if (figures) observeSegment(tracker.flow, tracker.fromClient, segment.sec, segment.nsec, decoded, seq.segment);
    if (segmentDone !== null) segmentDone(raw, decoded, state);
  };

  const files = await readCaptureSet(ids.map((i) => i.input), onPacket, {
    stats: ids.map((i) => i.stat),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.plan ? { plan: opts.plan } : {}),
    onOrder: (ordered) => {
      order = ordered.map((o) => byInput.get(o.input)!);
      state.files = order;
      counts = new Array<FileCounts | undefined>(order.length);
      stamps = new Array<StampGuard | undefined>(order.length);
      progressSizes = order.map((o) => sizeOf.get(o.input) ?? 0);
    },
  });
  tracker.finishAll();

  // In the order the inputs were given (capture ids follow the canonical order).
  const position = new Map(ids.map((i, n) => [i.input, n]));
  return [...files].sort((a, b) => position.get(a.input)! - position.get(b.input)!).map((f) => {
    const result = f.result;
    const nulled = nulledValueWarnings(stamps[f.index] ?? new StampGuard(), result.interfaces);
    result.warnings.push(...nulled);
    const unreadable = result.error !== null && result.packets === 0;
    // A file that gave no packet never started.
    return {
      identity: order[f.index]!, name: f.name, captureId: unreadable ? null : captureIdOf(f.index), result,
      counts: counts[f.index] ?? newCounts(), nulled,
    };
  });
}

/** A passed file as the callers report it. */
export function loadedCapture(f: PassedFile, setId: number): LoadedCapture {
  const r = f.result;
  return {
    captureId: f.captureId, setId: f.captureId === null ? null : setId, path: f.name, reused: false,
    packets: r.packets, tcpPackets: f.counts.tcp, partial: r.partial, error: r.error, warnings: r.warnings, nulled: f.nulled,
  };
}

/** The per-packet values of one segment, as the connection tracker needs them (one reused object). */
function fillSegment(s: TrackedSegment, d: DecodedPacket, raw: RawPacket, captureId: number, addresses: AddressIds, verifyChecksums: boolean): void {
  s.captureId = captureId;
  s.srcAddr = addresses.idOf(d.src, d.ipVersion);
  s.sport = d.sport;
  s.dstAddr = addresses.idOf(d.dst, d.ipVersion);
  s.dport = d.dport;
  s.ipVersion = d.ipVersion;
  s.vlan = d.vlan;
  s.flags = d.flags;
  s.seq = d.seq;
  s.ack = d.ack;
  s.win = d.win;
  // The tracker keeps Zeek's view: bytes PPPoE's length field cut are payload (the IP length says so).
  s.payloadLen = d.payloadLen + d.lengthFieldCut;
  // A segment read from a reassembled datagram (tcpOffset -1) was captured whole: only fragments captured
  // whole are reassembled, though the decoder keeps just the datagram's head.
  s.payloadCaptured = d.tcpOffset < 0 || d.tcpOffset + d.doff * 4 + s.payloadLen <= raw.capLen;
  s.kind = zeekSegmentKind(raw, d, verifyChecksums);
  s.wireLen = raw.wireLen;
  s.ipBytes = ipBytesOf(d);
  s.tunnelId = d.tunnelId;
  s.sec = raw.tsSec;
  s.nsec = raw.tsNsec;
}
