/**
 * Shared pieces of the recorder's kernel-path tests: start `tcplens record` and tcpdump inside a test
 * namespace and wait until each is attached, stop them by PID with a signal, read captures back with the
 * project's reader, and match packets of two captures by their header bytes.
 */
import { readCapture } from '../../analyzer/readers/index.js';
import type { ReadResult } from '../../analyzer/readers/types.js';
import { release } from 'node:os';
import { cliPath } from '../support/paths.js';
import type { NetnsPair } from '../support/netns.js';
import { startAndWait, type Started } from '../support/processes.js';

export { startAndWait, startTcpdump, stop, tmpFile, type Started } from '../support/processes.js';

export interface RecorderLaunch {
  /** Variables added to its environment (TCPLENS_LOG=debug). */
  env?: Record<string, string>;
  /** A command it runs under (setpriv ... to drop capabilities). */
  under?: string[];
  /** Another build's CLI entry (a copy of the package). */
  cli?: string;
}

/** Starts `tcplens record ARGS` in `ns`, resolved once it records. */
export function startRecorder(pair: NetnsPair, ns: string, args: string[], launch: RecorderLaunch = {}): Promise<Started> {
  const vars = Object.entries(launch.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const command = [...(vars.length ? ['env', ...vars] : []), ...(launch.under ?? []), process.execPath, launch.cli ?? cliPath, 'record', ...args];
  return startAndWait(pair, ns, command[0]!, command.slice(1), /"msg":"recording"/);
}

/**
 * The timestamps `record` should report at debug level on this kernel: each packet's own from Linux 6.2
 * (bpf_cast_to_kern_ctx), taken as the filter runs before.
 */
export function expectedTimestampSource(): 'packet' | 'filter' {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  return major > 6 || (major === 6 && minor >= 2) ? 'packet' : 'filter';
}

/**
 * Runs `send` (a burst of traffic) while the recorder is stopped with SIGSTOP, then lets it go on: none of
 * its threads drains the ring meanwhile, as when a recorder stalls, so a small ring overflows for certain
 * (the kernel program still runs on every packet and counts what it cannot reserve room for).
 */
export async function burstWhileStopped(rec: Started, send: () => void): Promise<void> {
  const pid = rec.child.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    send();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

export interface Pkt {
  tsNs: bigint;
  data: Buffer;
  wireLen: number;
  flags: number;
  interfaceId: number;
}

export async function readAll(file: string): Promise<{ result: ReadResult; packets: Pkt[] }> {
  const packets: Pkt[] = [];
  const result = await readCapture(file, (p) => {
    packets.push({ tsNs: BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec), data: Buffer.from(p.data), wireLen: p.wireLen, flags: p.flags, interfaceId: p.interfaceId });
  });
  return { result, packets };
}

/**
 * Bytes of an Ethernet frame up to the end of its TCP header (null when it is not TCP or is cut short):
 * 802.1Q/802.1ad tags, IPv4 options and IPv6 extension headers (hop-by-hop, routing, destination
 * options, first fragment, AH) are walked, independently of the BPF program's own parser.
 */
export function headersThroughTcp(frame: Buffer): Buffer | null {
  if (frame.length < 14) return null;
  let off = 12;
  let type = frame.readUInt16BE(off);
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    off += 4;
    if (frame.length < off + 2) return null;
    type = frame.readUInt16BE(off);
  }
  off += 2;
  let tcp: number;
  if (type === 0x0800) {
    if (frame.length < off + 20 || frame[off + 9] !== 6 || (frame.readUInt16BE(off + 6) & 0x1fff) !== 0) return null;
    tcp = off + (frame[off]! & 0x0f) * 4;
  } else if (type === 0x86dd) {
    if (frame.length < off + 40) return null;
    let next = frame[off + 6]!;
    tcp = off + 40;
    for (let i = 0; i < 8 && next !== 6; i++) {
      if (frame.length < tcp + 8) return null;
      if (next === 0 || next === 43 || next === 60) {
        const len = (frame[tcp + 1]! + 1) * 8;
        next = frame[tcp]!;
        tcp += len;
      } else if (next === 44) {
        if ((frame.readUInt16BE(tcp + 2) & 0xfff8) !== 0) return null;
        next = frame[tcp]!;
        tcp += 8;
      } else if (next === 51) {
        const len = (frame[tcp + 1]! + 2) * 4;
        next = frame[tcp]!;
        tcp += len;
      } else {
        return null;
      }
    }
    if (next !== 6) return null;
  } else {
    return null;
  }
  if (frame.length < tcp + 13) return null;
  const end = tcp + (frame[tcp + 12]! >> 4) * 4;
  return frame.length >= end ? frame.subarray(0, end) : null;
}

export interface Match {
  matched: number;
  unmatchedA: number;
  unmatchedB: number;
  /** The largest |a - b| timestamp difference of a matched pair. */
  maxDeltaNs: bigint;
  /** The extremes of the signed difference a - b, and how many matched pairs have equal timestamps. */
  minSignedNs: bigint;
  maxSignedNs: bigint;
  equal: number;
}

/** Pairs packets of two captures by their bytes through the TCP header (in order among equal ones). */
export function matchByHeaders(a: Pkt[], b: Pkt[]): Match {
  const pending = new Map<string, bigint[]>();
  for (const p of b) {
    const h = headersThroughTcp(p.data);
    if (!h) continue;
    const k = h.toString('latin1');
    const list = pending.get(k);
    if (list) list.push(p.tsNs);
    else pending.set(k, [p.tsNs]);
  }
  let matched = 0;
  let unmatchedA = 0;
  let maxDeltaNs = 0n;
  let minSignedNs: bigint | null = null;
  let maxSignedNs: bigint | null = null;
  let equal = 0;
  for (const p of a) {
    const h = headersThroughTcp(p.data);
    const list = h ? pending.get(h.toString('latin1')) : undefined;
    const ts = list?.shift();
    if (ts === undefined) {
      unmatchedA++;
      continue;
    }
    matched++;
    const signed = p.tsNs - ts;
    const d = signed < 0n ? -signed : signed;
    if (d > maxDeltaNs) maxDeltaNs = d;
    if (minSignedNs === null || signed < minSignedNs) minSignedNs = signed;
    if (maxSignedNs === null || signed > maxSignedNs) maxSignedNs = signed;
    if (signed === 0n) equal++;
  }
  let unmatchedB = 0;
  for (const list of pending.values()) unmatchedB += list.length;
  return { matched, unmatchedA, unmatchedB, maxDeltaNs, minSignedNs: minSignedNs ?? 0n, maxSignedNs: maxSignedNs ?? 0n, equal };
}

/** tshark's stderr with the harmless "running as root" notice removed: anything left is a warning. */
export function tsharkWarnings(stderr: string): string {
  return stderr.split('\n').filter((l) => l.trim().length > 0 && !/Running as user "root"|This could be dangerous/.test(l)).join('\n');
}
