/**
 * Typed facade over the recorder's Node-API addon (native/src). Loading is lazy: nothing here touches
 * the addon until a recorder command needs it, so `tcplens info/analyze` work where it was never built.
 * Each native export's TS signature is declared in NativeBinding; test/recorder/layout.test.ts holds
 * RECORD (the offsets the TS decoder uses) to the constants the addon exports from bpf/snapshot.h.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../common/errors.js';

/** Where in a ring record (bpf/snapshot.h struct snapshot) each field lives. Little-endian host order. */
export const RECORD = {
  headerSize: 24,
  tsNs: 0,
  ifindex: 8,
  wireLen: 12,
  capLen: 16,
  pktType: 18,
  link: 19,
  protocol: 20,
  flags: 22,
  data: 24,
  /** Records follow each other in the ring (and in feed() buffers), each padded to this many bytes. */
  recordAlign: 8,
  maxData: 4096,
  linkEther: 1,
  linkRaw: 2,
  maxPorts: 16,
  maxHosts4: 16,
  maxHosts6: 8,
} as const;

export type RecordLayout = { [K in keyof typeof RECORD]: number };
/** Offsets and constants of the EPBs the drain thread lays out (native/src/epb_file.h); recorder/native.ts
 * checks them against the recorder's own pcapng writer. */
export type EpbLayout = Record<string, number>;

/** linux/if_packet.h packet types the filter reports. */
export const PACKET_HOST = 0;
export const PACKET_OUTGOING = 4;

/** An error raised by the addon: the failing operation and errno, with a one-line message for users. */
export class NativeError extends RuntimeError {
  constructor(
    message: string,
    readonly operation: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/** The recorder cannot run here (addon or BPF object not built); the message says what is missing. */
export class RecorderUnavailableError extends RuntimeError {
}

export interface NetInterface {
  index: number;
  name: string;
  /** ARPHRD_* type of the device (-1 when it could not be read). */
  arphrd: number;
  /** Its MTU (-1 when it could not be read). */
  mtu: number;
}

export interface CaptureOptions {
  /** Interface indexes to bind one socket each to; empty means one unbound socket ("any"). */
  ifindexes: number[];
  ringBytes: number;
  snaplen: number;
  payload: number;
  /** 0 both, 1 inbound only, 2 outbound only. */
  direction: number;
  ports: number[];
  /** 4-byte network-order addresses. */
  hosts4: Buffer[];
  /** 16-byte addresses. */
  hosts6: Buffer[];
  /**
   * REALTIME - MONOTONIC in ns, fixed for the whole capture: for fed captures, whose records carry
   * made-up stamps. Absent: the drain thread samples the clocks itself, every second (native/src/clock.h).
   */
  clockOffsetNs?: bigint;
  /** -C in bytes: a packet that finds the file holding at least this many starts a new file (0: none). */
  maxFileBytes: number;
  /** -c: the drain thread writes this many packets, then raises 'count' (0: no limit). */
  maxPackets: number;
  /** A filter expression compiled by compileFilter for Ethernet frames / raw-IP frames; a link type
   * without one records nothing once either is given. */
  filterEther?: Buffer;
  filterRaw?: Buffer;
}

/** A fed capture (no kernel, no privileges): records come from feed(); the options that matter. */
export type FedCaptureOptions = Pick<CaptureOptions, 'clockOffsetNs' | 'maxFileBytes' | 'maxPackets'>;

export interface InterfaceCounters {
  ifindex: number;
  seen: number;
  tcp: number;
  kept: number;
  dropped: number;
}

/** Where the drain thread writes EPBs: an open file, its size, and the -G deadline (0n: none). */
export interface OutputTarget {
  fd: number;
  fileBytes: number;
  rotateAtNs: bigint;
  /** A pipe or terminal (-w -): written in order, each EPB at once, never at an offset. */
  sequential?: boolean;
}

/**
 * Something only JavaScript can decide, raised by the drain thread (native/src/epb_file.h) before the
 * packet it concerns, with everything earlier already written; the thread waits for resume().
 * - interface: the first packet of interface key (ifindex * 4 + link): append its IDB at fileBytes and
 *   answer { interfaceId, fileBytes } (ids are given in order: 0, 1, 2, ...);
 * - rotate: a -C/-G limit is reached before a packet stamped tsNs: close the file (ISBs at fileBytes),
 *   open the next and answer with its OutputTarget, or { stop: true } when -G/-W is done;
 * - count: -c packets are written; nothing more will be;
 * - error: a write failed with errno; nothing more will be written;
 * - synced: after flush(), fileBytes bytes of the current file are written and fdatasync()ed.
 */
export interface OutputEvent {
  kind: 'interface' | 'rotate' | 'count' | 'error' | 'synced';
  key: number;
  tsNs: bigint;
  fileBytes: number;
  errno: number;
}

export interface OutputReply {
  stop?: boolean;
  interfaceId?: number;
  fileBytes?: number;
  fd?: number;
  rotateAtNs?: bigint;
}

export interface CaptureHandle {
  /**
   * Starts the drain thread, writing into the first file (opened, its SHB written). `knownKeys`: the
   * interface keys whose IDBs that file already holds, in id order (0, 1, ...); others raise 'interface'.
   */
  start(target: OutputTarget, knownKeys?: number[]): void;
  /** Answers the pending OutputEvent. */
  resume(reply: OutputReply): void;
  /** Fed captures only: ring records (bpf/snapshot.h) back to back, each padded to RECORD.recordAlign. */
  feed(records: Buffer): void;
  /** Packets written and bytes in the current file; final once stop() has resolved. */
  progress(): { captured: number; fileBytes: number };
  /** Counters summed over CPUs, one entry per interface the filter has run on. */
  counters(): InterfaceCounters[];
  /**
   * Where packet timestamps come from: 'packet', each packet's own (skb->tstamp, as AF_PACKET gives
   * tcpdump); 'filter', the moment the filter ran (the kernel refused the first, before Linux 6.2 or
   * without CAP_PERFMON); 'fed', a capture fed from JavaScript.
   */
  timestampSource(): 'packet' | 'filter' | 'fed';
  /** Asks the drain thread to write what it holds and fdatasync() the current file (SIGUSR2). */
  flush(): void;
  /** Detaches every socket, writes what is left in the ring, then resolves. */
  stop(): Promise<void>;
  /** Frees the BPF object and the ring; call after stop() has resolved. */
  close(): void;
}

export interface ClockSample {
  realtimeNs: bigint;
  monotonicNs: bigint;
  widthNs: number;
}

export interface ReplayFrames {
  /** Frames back to back. */
  data: Buffer;
  /** Length of each frame, in order. */
  lengths: Uint32Array;
  /** Send time of each frame in ns after the first (the capture's own timing); used when pps is 0. */
  timing?: Float64Array;
}

/** A frame replay could not send: its index among the frames handed over, the loop (0-based), errno. */
export interface ReplayFailure {
  index: number;
  loop: number;
  errno: number;
}

export interface NativeBinding {
  setErrorClass(ctor: new (message: string, operation: string, errno: number) => Error): void;
  layout(): RecordLayout;
  /** The EPB layout the drain thread writes (native/src/epb_file.h). */
  epbLayout(): EpbLayout;
  clockSample(): ClockSample;
  interfaceByName(name: string): NetInterface;
  interfaceByIndex(index: number): NetInterface | null;
  /** With a BPF object path: the kernel capture. With null: a fed capture (FedCaptureOptions, feed()). */
  Capture: {
    new (bpfObject: string, opts: CaptureOptions, onEvent: (event: OutputEvent) => void): CaptureHandle;
    new (bpfObject: null, opts: FedCaptureOptions, onEvent: (event: OutputEvent) => void): CaptureHandle;
  };
  /** Compiles a pcap-filter(7) expression with libpcap for frames that start with an Ethernet header
   * ('ether', on a live handle of `device`, an Ethernet-like device, as tcpdump compiles it) or the IP
   * header ('raw'): classic BPF instructions, 8 bytes each. Throws a NativeError (operation
   * 'pcap_compile') carrying libpcap's message. */
  compileFilter(expression: string, link: 'ether' | 'raw', snaplen: number, device: string): Buffer;
  /** Sends frames out of an interface through an AF_PACKET socket on a worker thread. pps 0 and no
   * timing: as fast as the device takes them. */
  replay(ifindex: number, frames: ReplayFrames, opts: { pps: number; loops: number }): Promise<{ sent: number; failed: number; failures: ReplayFailure[] }>;
}

function findRepoRoot(start: string): string | null {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tcplens') return dir;
      } catch {
        /* not ours */
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** The repository (or installed package) root: artefacts live there, not beside the compiled JS. */
export function packageRoot(): string {
  const root = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
  if (!root) throw new RecorderUnavailableError('cannot find the tcplens package root (package.json named "tcplens")');
  return root;
}

export function addonPath(): string {
  return path.join(packageRoot(), 'native/build/Release/tcplens_native.node');
}

export function bpfObjectPath(): string {
  return path.join(packageRoot(), 'bpf/.output/tcp_snapshot.bpf.o');
}

/** The one line native/build.mjs left when the build failed, if any. */
function buildFailure(): string | null {
  const status = path.join(packageRoot(), 'native/build/STATUS');
  if (!existsSync(status)) return null;
  const text = readFileSync(status, 'utf8').trim();
  return text.startsWith('ok') ? null : text;
}

let binding: NativeBinding | undefined;

/** Loads the addon once; throws RecorderUnavailableError naming what is missing. */
export function loadNative(): NativeBinding {
  if (binding) return binding;
  if (process.platform !== 'linux') throw new RecorderUnavailableError(`the recorder needs Linux (this is ${process.platform})`);
  const file = addonPath();
  const obj = bpfObjectPath();
  if (!existsSync(file) || !existsSync(obj)) {
    const why = buildFailure() ?? `${existsSync(file) ? obj : file} is missing`;
    throw new RecorderUnavailableError(`the recorder is not built: ${why} (needs clang, libbpf-dev, libelf-dev, make and g++; then run: npm run build:native)`);
  }
  const require = createRequire(import.meta.url);
  let loaded: NativeBinding;
  try {
    loaded = require(file) as NativeBinding;
  } catch (err) {
    // e.g. built for another Node ABI, or libbpf.so missing at run time
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new RecorderUnavailableError(`the recorder addon ${file} does not load: ${why} (rebuild it: npm run build:native)`);
  }
  loaded.setErrorClass(NativeError);
  binding = loaded;
  return loaded;
}
