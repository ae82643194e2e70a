/**
 * `tcplens replay`: sends a capture's frames out of an interface through an AF_PACKET socket, for tests
 * (a fixture replayed onto one end of a veth pair while `tcplens record` listens on the other). Frames
 * are read into memory first (bounded), then sent on the addon's worker thread with sendmmsg, so pacing
 * never depends on Node's event loop.
 */
import { RuntimeError } from '../common/errors.js';
import { readCapture } from '../analyzer/readers/index.js';
import { loadRecorderNative } from './native.js';

const LINKTYPE_ETHERNET = 1;
/** Frames are held in memory while sending: refuse captures that would need more. */
const MAX_REPLAY_BYTES = 512 * 1024 * 1024;

export interface ReplayOptions {
  capture: string;
  iface: string;
  /** Frames per second; 0 with topspeed false means the capture's own timing. */
  pps: number;
  topspeed: boolean;
  loops: number;
}

export interface ReplayResult {
  frames: number;
  sent: number;
  failed: number;
  /** Frames not sent because their link type is not Ethernet. */
  skipped: number;
  /** One line per frame that could not be sent: its frame number in the capture and why. */
  failures: string[];
}

const EMSGSIZE = 90;
const ENOBUFS = 105;
const EAGAIN = 11;

/** Why the kernel refused one frame, in words ("frame 8: 1909 bytes, larger than the MTU 1500 of veth0"). */
function failureLine(frame: number, bytes: number, errno: number, iface: { name: string; mtu: number }, loop: number, loops: number): string {
  const where = loops > 1 ? `frame ${frame} (loop ${loop + 1})` : `frame ${frame}`;
  if (errno === EMSGSIZE) return `${where}: ${bytes} bytes, larger than the MTU ${iface.mtu} of ${iface.name}`;
  if (errno === ENOBUFS || errno === EAGAIN) return `${where}: ${bytes} bytes, ${iface.name}'s transmit queue stayed full (${errno === ENOBUFS ? 'ENOBUFS' : 'EAGAIN'})`;
  return `${where}: ${bytes} bytes, refused with errno ${errno}`;
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const native = loadRecorderNative();
  const iface = native.interfaceByName(opts.iface);
  const chunks: Buffer[] = [];
  const lengths: number[] = [];
  const times: number[] = [];
  const frameNumbers: number[] = [];
  let frameNumber = 0;
  let total = 0;
  let skipped = 0;
  let firstNs: bigint | null = null;
  const result = await readCapture(opts.capture, (p) => {
    frameNumber++;
    if (p.linktype !== LINKTYPE_ETHERNET) {
      skipped++;
      return;
    }
    if (p.capLen < p.wireLen) {
      skipped++; // a frame cut by the snaplen cannot be put back on the wire as it was
      return;
    }
    total += p.capLen;
    if (total > MAX_REPLAY_BYTES) throw new RuntimeError(`${opts.capture}: more than ${MAX_REPLAY_BYTES} bytes of frames; replay a smaller capture`);
    chunks.push(Buffer.from(p.data)); // the reader reuses its buffer: copy
    lengths.push(p.capLen);
    frameNumbers.push(frameNumber);
    const ns = BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec);
    firstNs ??= ns;
    times.push(Number(ns - firstNs));
  });
  if (result.error && lengths.length === 0) throw result.error;
  if (lengths.length === 0) throw new RuntimeError(`${opts.capture}: no complete Ethernet frames to replay`);
  const frames = {
    data: Buffer.concat(chunks, total),
    lengths: Uint32Array.from(lengths),
    ...(opts.pps === 0 && !opts.topspeed ? { timing: Float64Array.from(times) } : {}),
  };
  const sent = await native.replay(iface.index, frames, { pps: opts.topspeed ? 0 : opts.pps, loops: opts.loops });
  const failures = sent.failures.map((f) => failureLine(frameNumbers[f.index]!, lengths[f.index]!, f.errno, iface, f.loop, opts.loops));
  if (sent.failed > failures.length) failures.push(`... and ${sent.failed - failures.length} more frames not sent`);
  return { frames: lengths.length, sent: sent.sent, failed: sent.failed, skipped, failures };
}
