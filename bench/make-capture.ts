/**
 * Makes (once) and caches the benchmark capture: real TCP traffic between two private network namespaces
 * joined by a veth pair (test/support/netns.ts), recorded by tcpdump exactly as a user would record it:
 * `tcpdump -i VETH -s 96 -c PACKETS -w FILE tcp`. The traffic is iperf3 bulk transfers (two parallel
 * streams, rate-limited so tcpdump keeps up on a shared machine) plus a few HTTP requests to a tiny
 * server, so the capture has handshakes, teardowns, data, ACKs and options like a real one.
 * Reusable for any size: ensureCapture({ packets: 10_000_000 }) makes the 10-million-packet file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { netnsUnavailableReason, withNetnsPair, type NetnsPair } from '../test/support/netns.js';

export interface CaptureOptions {
  packets: number;
  outDir: string;
  /** tcpdump -s: bytes kept per packet (headers only, as the recorder would). */
  snaplen?: number;
  /** iperf3 -b per stream (bits/s, iperf3 syntax). */
  rate?: string;
  log?: (message: string) => void;
}

export interface CaptureMeta {
  packets: number;
  sizeBytes: number;
  snaplen: number;
  commands: string[];
  /** tcpdump's own summary lines ("N packets captured", "... dropped by kernel"). */
  tcpdumpSummary: string[];
  madeAt: string;
}

const HTTP_PORT = 8080;
const IPERF_PORT = 5201;
/** Upper bound on making one capture; the pair and every process are torn down when it is hit. */
const MAX_SECONDS = 1800;
// A tiny HTTP server: GET /N answers N bytes. Inline so the benchmark needs nothing but node.
const HTTP_SERVER = `require('http').createServer((q, s) => s.end('x'.repeat(Math.min(Number(q.url.slice(1)) || 1000, 1e7))))` +
  `.listen(${HTTP_PORT}, '0.0.0.0')`;

export function capturePath(opts: CaptureOptions): string {
  return path.join(opts.outDir, `iperf-${opts.packets}-s${opts.snaplen ?? 96}.pcap`);
}

/** Returns the cached capture for these options, making it first when it is missing or incomplete. */
export async function ensureCapture(opts: CaptureOptions): Promise<{ path: string; meta: CaptureMeta }> {
  const file = capturePath(opts);
  const metaFile = `${file}.json`;
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CaptureMeta;
    if (meta.packets === opts.packets && statSync(file).size === meta.sizeBytes) return { path: file, meta };
  }
  const why = netnsUnavailableReason();
  if (why) throw new Error(`cannot make the benchmark capture: ${why}`);
  mkdirSync(opts.outDir, { recursive: true });
  const tmp = `${file}.partial`;
  rmSync(tmp, { force: true });
  const meta = await withNetnsPair((pair) => record(pair, tmp, opts));
  renameSync(tmp, file);
  meta.sizeBytes = statSync(file).size;
  meta.commands = meta.commands.map((c) => c.replace(tmp, file));
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  return { path: file, meta };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function record(pair: NetnsPair, file: string, opts: CaptureOptions): Promise<CaptureMeta> {
  const log = opts.log ?? (() => {});
  const snaplen = opts.snaplen ?? 96;
  const rate = opts.rate ?? '1G';
  const deadline = Date.now() + MAX_SECONDS * 1000;
  const commands: string[] = [];
  const start = (ns: string, cmd: string, args: string[]): ChildProcess => {
    commands.push(`ip netns exec ${ns === pair.a ? 'A' : 'B'} ${cmd} ${args.join(' ')}`);
    return pair.spawn(ns, cmd, args);
  };

  start(pair.b, 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  start(pair.b, process.execPath, ['-e', HTTP_SERVER]);
  // -Z root: tcpdump otherwise drops to user "tcpdump", who may not write into bench/out.
  const tcpdumpArgs = ['-i', pair.vethA, '-n', '-s', String(snaplen), '-c', String(opts.packets), '-Z', 'root', '-w', file, 'tcp'];
  const tcpdump = start(pair.a, 'tcpdump', tcpdumpArgs);
  let tcpdumpErr = '';
  tcpdump.stderr?.setEncoding('utf8').on('data', (d: string) => (tcpdumpErr += d));
  const tcpdumpDone = exited(tcpdump);
  while (!tcpdumpErr.includes('listening on')) {
    if (tcpdump.exitCode !== null || Date.now() > deadline) throw new Error(`tcpdump did not start: ${tcpdumpErr.trim()}`);
    await sleep(50);
  }
  log(`recording ${opts.packets} packets: ${commands.at(-1)}`);
  await sleep(300); // servers listening

  // A few HTTP exchanges first: short connections with handshakes and teardowns.
  for (const size of [100, 1000, 10_000, 100_000, 1_000_000]) {
    for (let i = 0; i < 4; i++) {
      pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '10', `http://${pair.addrB}:${HTTP_PORT}/${size}`], 15_000);
    }
  }
  commands.push(`ip netns exec A curl -s -o /dev/null http://B:${HTTP_PORT}/{100,1000,10000,100000,1000000} (4 times each)`);

  // Bulk transfers until tcpdump has its packets.
  let finished = false;
  void tcpdumpDone.then(() => (finished = true));
  const iperfArgs = ['-c', pair.addrB, '-p', String(IPERF_PORT), '-P', '2', '-b', rate, '-t', '60'];
  commands.push(`ip netns exec A iperf3 ${iperfArgs.join(' ')} (repeated until tcpdump -c is reached)`);
  while (!finished) {
    if (Date.now() > deadline) throw new Error(`capture of ${opts.packets} packets not done after ${MAX_SECONDS} s`);
    const client = pair.spawn(pair.a, 'iperf3', iperfArgs);
    await Promise.race([exited(client), tcpdumpDone]);
    if (client.exitCode === null) client.kill('SIGTERM');
    await exited(client);
    if (!finished) await sleep(200);
  }
  const status = await tcpdumpDone;
  if (status !== 0) throw new Error(`tcpdump failed (status ${status}): ${tcpdumpErr.trim()}`);
  const summary = tcpdumpErr.split('\n').filter((l) => /packets? (captured|received|dropped)/.test(l));
  log(`tcpdump: ${summary.join('; ')}`);
  return { packets: opts.packets, sizeBytes: 0, snaplen, commands, tcpdumpSummary: summary, madeAt: new Date().toISOString() };
}
