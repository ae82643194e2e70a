/**
 * `tcplens record`: joins the addon's capture (whose drain thread writes the packets) to the pcapng sink, and stops
 * cleanly on SIGINT/SIGTERM, -c, --duration, -G/-W or an AbortSignal: detach, drain the ring, write
 * ISBs, close every file, then report the counters (the CLI prints them like tcpdump).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { RuntimeError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { bpfObjectPath, RECORD, type CaptureHandle, type NativeBinding } from '../native/index.js';
import { loadRecorderNative } from './native.js';
import { Rotation } from './rotate.js';
import { describeFileError } from './file-errors.js';
import { PcapngSink } from './sink.js';
import { missingCapability } from './capabilities.js';
import { compileExpression, type CompiledExpression, type FrameLink } from './expression.js';
import { EPB_LAYOUT } from './pcapng/blocks.js';
import { sumCounters, summaryText, type CaptureTotals } from './stats.js';
import { setSignalReporter } from './signal-report.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export type Direction = 'both' | 'in' | 'out';

export interface RecordOptions {
  /** Interface names, or 'any' for every interface of the network namespace. */
  interfaces: string[] | 'any';
  output: string;
  snaplen: number;
  payload: number;
  fileSizeBytes?: number;
  rotateSeconds?: number;
  files?: number;
  count?: number;
  durationSeconds?: number;
  ports: number[];
  hosts: string[];
  direction: Direction;
  ringBytes: number;
  statsSeconds?: number;
  /** A pcap-filter(7) expression, ANDed with ports/hosts/direction; run in the kernel. */
  expression?: string;
  signal?: AbortSignal;
  /** Called once capture is attached (tests start traffic after this). */
  onReady?(): void;
}

export interface RecordResult {
  captured: number;
  totals: CaptureTotals;
  files: string[];
  /** Why recording stopped ('pipe': the reader of -w - went away). */
  reason: 'signal' | 'count' | 'duration' | 'files' | 'abort' | 'pipe';
  /** Set when recording ended on an error (a failed write, a next file that could not be created): every
   * file before is closed and valid, the counters are final; the CLI prints them, then this line. */
  failure: string | null;
}

const DIRECTIONS: Record<Direction, number> = { both: 0, in: 1, out: 2 };

function hostBytes(hosts: string[]): { hosts4: Buffer[]; hosts6: Buffer[] } {
  const hosts4: Buffer[] = [];
  const hosts6: Buffer[] = [];
  for (const h of hosts) {
    if (isIPv4(h)) hosts4.push(Buffer.from(h.split('.').map(Number)));
    else if (isIPv6(h)) hosts6.push(ipv6Bytes(h));
    else throw new RuntimeError(`--host ${h}: not an IPv4 or IPv6 address`);
  }
  return { hosts4, hosts6 };
}

/** 16 bytes of an IPv6 address in text form (with :: and an optional dotted IPv4 tail); input already isIPv6. */
export function ipv6Bytes(text: string): Buffer {
  let s = text;
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    s = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const words = (x: string): number[] => (x.length === 0 ? [] : x.split(':').map((w) => parseInt(w, 16)));
  const gap = s.indexOf('::');
  const head = words(gap < 0 ? s : s.slice(0, gap));
  const tail = gap < 0 ? [] : words(s.slice(gap + 2));
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** ARPHRD_* device types whose packets the filter always gives one link type (bpf/snapshot.h SNAPSHOT_LINK_*). */
const ARPHRD_ETHER = 1;
const ARPHRD_RAWIP = 519;
const ARPHRD_LOOPBACK = 772;
const ARPHRD_NONE = 0xfffe;

function linkOfDevice(arphrd: number): number | null {
  if (arphrd === ARPHRD_ETHER || arphrd === ARPHRD_LOOPBACK) return RECORD.linkEther;
  if (arphrd === ARPHRD_NONE || arphrd === ARPHRD_RAWIP) return RECORD.linkRaw; // tun, wireguard: IP first
  return null;
}

/** Whether the network namespace has a raw-IP device (tun, wireguard) now, from /sys/class/net/ * /type. */
function rawIpDevicePresent(): boolean {
  try {
    return readdirSync('/sys/class/net').some((name) => {
      try {
        const type = Number(readFileSync(`/sys/class/net/${name}/type`, 'utf8'));
        return type === ARPHRD_NONE || type === ARPHRD_RAWIP;
      } catch {
        return false;
      }
    });
  } catch {
    return true;
  }
}

export async function record(opts: RecordOptions): Promise<RecordResult> {
  const log = logger('record');
  const native: NativeBinding = loadRecorderNative();
  const lacking = missingCapability();
  if (lacking !== null) throw new RuntimeError(lacking);
  // One socket per distinct interface: two sockets on one interface would record each packet twice.
  const ifaces = opts.interfaces === 'any' ? [] : [...new Map(opts.interfaces.map((name) => {
    const i = native.interfaceByName(name);
    return [i.index, i] as const;
  })).values()];
  const names = new Map<number, string | null>(ifaces.map((i) => [i.index, i.name]));
  const interfaceName = (ifindex: number): string | null => {
    if (!names.has(ifindex)) names.set(ifindex, native.interfaceByIndex(ifindex)?.name ?? null);
    return names.get(ifindex)!;
  };
  const now = (): bigint => native.clockSample().realtimeNs;
  const rotation = new Rotation({ base: opts.output, maxBytes: opts.fileSizeBytes, maxSeconds: opts.rotateSeconds, maxFiles: opts.files });

  let stopReason: RecordResult['reason'] | null = null;
  let requestStop: (reason: RecordResult['reason']) => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = (reason) => {
      if (stopReason === null) {
        stopReason = reason;
        resolve();
      }
    };
  });

  const snaplen = Math.min(opts.snaplen, RECORD.maxData);
  let failure: Error | null = null;
  const sink = new PcapngSink({
    rotation, now, interfaceName, snaplen,
    ...(opts.expression?.trim() ? { filter: opts.expression.trim() } : {}),
    counters: () => capture.counters(),
    onDone: (why) => requestStop(why),
    onFailure: (err) => {
      failure ??= err;
      requestStop('abort');
    },
  });

  // Attach first: missing privileges or a bad interface fail here, before any file is created. Records
  // wait in the ring until start(). From then on the drain thread writes every packet; the sink answers
  // its rare events (a new interface, a rotation, -c, a failed write) synchronously.
  const { hosts4, hosts6 } = hostBytes(opts.hosts);
  let compiled: CompiledExpression = {};
  if (opts.expression !== undefined && opts.expression.trim() !== '') {
    // The frames the program sees: Ethernet (lo and veth too) or raw IP, by device type; unknown or
    // "any": the expression must fit Ethernet, and raw IP where it can.
    const links = ifaces.map((i) => linkOfDevice(i.arphrd));
    const required: FrameLink[] = opts.interfaces === 'any' ? ['ether'] : links.map((l) => (l === RECORD.linkRaw ? 'raw' : 'ether'));
    const optional: FrameLink[] = opts.interfaces === 'any' || links.includes(null) ? ['ether', 'raw'] : [];
    // libpcap compiles Ethernet code on a live handle (Linux VLAN handling); lo is Ethernet in every namespace.
    const device = ifaces.find((i) => linkOfDevice(i.arphrd) === RECORD.linkEther)?.name ?? 'lo';
    compiled = compileExpression(native, opts.expression, snaplen, device, required, optional);
    // With -i any, say so only when a raw-IP device is there now (one created later is silent).
    if (compiled.warning && (opts.interfaces !== 'any' || rawIpDevicePresent())) log.warn(compiled.warning);
  }
  const capture: CaptureHandle = new native.Capture(bpfObjectPath(), {
    ifindexes: ifaces.map((i) => i.index),
    ringBytes: opts.ringBytes,
    snaplen,
    payload: opts.payload,
    direction: DIRECTIONS[opts.direction],
    ports: opts.ports,
    hosts4,
    hosts6,
    maxFileBytes: opts.fileSizeBytes ?? 0,
    maxPackets: opts.count ?? 0,
    ...(compiled.filterEther ? { filterEther: compiled.filterEther } : {}),
    ...(compiled.filterRaw ? { filterRaw: compiled.filterRaw } : {}),
  }, (event) => {
    if (event.kind === 'synced') log.info({ captured: capture.progress().captured, fileBytes: event.fileBytes, file: sink.files.at(-1) }, 'flushed to disk');
    capture.resume(sink.handle(event));
  });
  log.debug({ timestamps: capture.timestampSource() }, 'packet timestamps: "packet" is each packet\'s own (as tcpdump\'s), "filter" when the filter ran');
  // A named interface's IDB goes in the file up front, as tcpdump writes its link type in its header:
  // the device type says which link type the filter will give its packets. With "any", IDBs are added
  // as interfaces carry packets.
  const knownKeys = ifaces.flatMap((i) => {
    const link = linkOfDevice(i.arphrd);
    return link === null ? [] : [i.index * EPB_LAYOUT.keyLinks + link];
  });
  try {
    capture.start(sink.open(now(), knownKeys), knownKeys);
  } catch (err) {
    await capture.stop();
    capture.close();
    if (err instanceof Error && 'code' in err) throw new RuntimeError(`${opts.output}: cannot create: ${describeFileError((err as NodeJS.ErrnoException).code)}`);
    throw err instanceof Error ? new RuntimeError(err.message) : err;
  }

  // tcpdump's signals: INT, TERM and HUP (a closed terminal or ssh session) end the recording cleanly;
  // USR1 prints the counters (recorder/cli/guard.ts owns that handler); USR2 puts the current file on disk.
  const onSignal = (): void => requestStop('signal');
  const onFlush = (): void => capture.flush();
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  process.on('SIGUSR2', onFlush);
  setSignalReporter(() => summaryText(capture.progress().captured, sumCounters(capture.counters())));
  const onAbort = (): void => requestStop('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) requestStop('abort');
  const timers: NodeJS.Timeout[] = [];
  if (opts.durationSeconds !== undefined) timers.push(setTimeout(() => requestStop('duration'), opts.durationSeconds * 1000));
  if (opts.statsSeconds) {
    timers.push(setInterval(() => {
      const t = sumCounters(capture.counters());
      log.info({ captured: capture.progress().captured, seen: t.seen, tcp: t.tcp, kept: t.kept, dropped: t.dropped }, 'capture statistics');
    }, opts.statsSeconds * 1000));
  }
  opts.onReady?.();

  try {
    await stopRequested;
    await capture.stop(); // detached; every record left in the ring is written
    try {
      sink.close(capture.progress().fileBytes, failure === null);
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(String(err));
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    process.off('SIGUSR2', onFlush);
    setSignalReporter(null);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const totals = sumCounters(capture.counters());
  const { captured } = capture.progress();
  capture.close();
  const why = failure === null ? null : (failure as Error).message;
  return { captured, totals, files: sink.files, reason: stopReason ?? 'signal', failure: why === null || why.startsWith(opts.output) ? why : `${opts.output}: ${why}` };
}
