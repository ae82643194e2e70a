/**
 * The merged timeline of a capture set, packet by packet, against mergecap's: readCaptureSet must hand
 * out exactly the packets of `mergecap -w merged FILES` (FILES in the set's canonical order) in the same
 * order, numbered as that file's frames. The sets are built to exercise every way the merge hands packets
 * on (analyzer/pipeline/capture-set.ts): straight from the reader while nothing else can come first (a
 * rotation set), stored and taken back one by one (files overlapping in time, a file whose own order is
 * not time order), and the ties mergecap breaks by file order, at a file's boundary and inside it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readCaptureSet } from '../../analyzer/pipeline/capture-set.js';
import { readCapture } from '../../analyzer/readers/index.js';
import { pcapHeader, pcapRecord, tcpSynFrame } from '../readers/build-capture.js';
import { prng } from '../support/prng.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-merge-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A packet as the comparison sees it: time, and a tag written into its bytes (file and position). */
type Stamp = string;

function stamp(sec: number, nsec: number, data: Uint8Array): Stamp {
  return `${sec}.${String(nsec).padStart(9, '0')} ${Buffer.from(data.subarray(54, 58)).toString('hex')}`;
}

/** Writes a pcap of packets at the given (sec, usec) times; each packet's tag names its file and place. */
function writePcap(name: string, fileNo: number, times: [number, number][]): string {
  const records = times.map(([sec, usec], i) => {
    const data = Buffer.concat([Buffer.from(tcpSynFrame()), Buffer.alloc(4)]);
    data.writeUInt16BE(fileNo, 54);
    data.writeUInt16BE(i, 56);
    return pcapRecord({ sec, frac: usec, data });
  });
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([pcapHeader(), ...records]));
  return file;
}

async function viaSet(files: string[]): Promise<{ order: string[]; stamps: Stamp[] }> {
  const stamps: Stamp[] = [];
  const frames: number[] = [];
  let order: string[] = [];
  await readCaptureSet(files, (p, _file, frame) => {
    stamps.push(stamp(p.tsSec, p.tsNsec, p.data));
    frames.push(frame);
  }, { onOrder: (o) => (order = o.map((f) => f.input)) });
  assert.deepEqual(frames, stamps.map((_, i) => i + 1), 'frames number the timeline from 1');
  return { order, stamps };
}

async function viaMergecap(files: string[]): Promise<Stamp[]> {
  const merged = path.join(dir, `merged-${path.basename(files[0]!)}.pcap`);
  execFileSync('mergecap', ['-F', 'pcap', '-w', merged, ...files]);
  const stamps: Stamp[] = [];
  await readCapture(merged, (p) => stamps.push(stamp(p.tsSec, p.tsNsec, p.data)));
  return stamps;
}

async function assertMergesAsMergecap(files: string[]): Promise<void> {
  const { order, stamps } = await viaSet(files);
  assert.deepEqual(stamps, await viaMergecap(order));
}

test('a rotation set (files one after another, equal times at the boundaries) merges as mergecap merges it', async () => {
  // File k holds seconds 10k..10k+9; its last packet shares its time with the next file's first.
  const files = Array.from({ length: 6 }, (_, k) => writePcap(`rot-${k}.pcap`, k,
    Array.from({ length: 40 }, (_, i): [number, number] => (i === 39 ? [10 * k + 10, 0] : [10 * k + Math.floor(i / 4), (i % 4) * 1000]))));
  await assertMergesAsMergecap([...files].reverse());
});

test('files overlapping in time, and files not in time order themselves, merge as mergecap merges them', async () => {
  const rand = prng(7);
  const files = Array.from({ length: 5 }, (_, k) => {
    const start = k * 3;
    let t = start * 1e6;
    const times = Array.from({ length: 300 }, (): [number, number] => {
      // Mostly forward, sometimes back a little (a capture on a veth), often on the same microsecond.
      const r = rand();
      t += r < 0.2 ? 0 : r < 0.3 ? -Math.floor(rand() * 20_000) : Math.floor(rand() * 50_000);
      t = Math.max(t, 0);
      return [Math.floor(t / 1e6), t % 1e6];
    });
    return writePcap(`overlap-${k}.pcap`, 100 + k, times);
  });
  await assertMergesAsMergecap(files);
});

test('a capture cut into pieces whose packets go back in time across a cut merges as mergecap merges it', async () => {
  const times: [number, number][] = [];
  for (let i = 0; i < 1000; i++) times.push([100 + Math.floor(i / 50), (i % 50) * 1000 + (i % 7 === 0 ? 0 : 500)]);
  // Every 97th packet comes 30 ms late, as from another CPU's queue: it may land in the next piece's time.
  for (let i = 96; i < times.length; i += 97) times[i] = [times[i]![0], times[i]![1] + 30_000 >= 1e6 ? 999_999 : times[i]![1] + 30_000];
  const pieces = Array.from({ length: 10 }, (_, k) => writePcap(`cut-${k}.pcap`, 200 + k, times.slice(k * 100, k * 100 + 100)));
  await assertMergesAsMergecap(pieces);
});
