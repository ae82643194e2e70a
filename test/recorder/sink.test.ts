/**
 * The recorder's writing path fed with ring records built from a real capture (no kernel, no privileges):
 * a fed capture runs the addon's own drain thread and EPB writer (native/src/epb_file.cc), answered by the
 * sink, exactly as `tcplens record` does with the ring. Rotation must lose and double no packet at a
 * boundary, every file must be a valid capture on its own (SHB + IDBs re-emitted), each file ends with
 * ISBs, and -c stops at exactly N.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readCapture } from '../../analyzer/readers/index.js';
import { RECORD, PACKET_HOST, PACKET_OUTGOING, type CaptureHandle, type InterfaceCounters } from '../../native/index.js';
import { Rotation } from '../../recorder/rotate.js';
import { PcapngSink, type SinkOptions } from '../../recorder/sink.js';
import { loadRecorderNative } from '../../recorder/native.js';
import { fixturesDir } from '../support/paths.js';
import { tshark } from '../support/tshark.js';

interface Source {
  tsNs: bigint;
  data: Buffer;
  wireLen: number;
}

async function fixturePackets(): Promise<Source[]> {
  const out: Source[] = [];
  const r = await readCapture(path.join(fixturesDir, 'http-loopback.pcapng'), (p) => {
    out.push({ tsNs: BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec), data: Buffer.from(p.data), wireLen: p.wireLen });
  });
  assert.equal(r.error, null);
  return out;
}

/** Ring records as bpf/snapshot.h lays them out, back to back and padded to 8 bytes. */
function encodeRecords(packets: Source[], ifindex: number, monoBase: bigint): Buffer {
  const parts: Buffer[] = [];
  packets.forEach((p, i) => {
    const size = (RECORD.headerSize + p.data.length + 7) & ~7;
    const rec = Buffer.alloc(size);
    rec.writeBigUInt64LE(monoBase + p.tsNs, RECORD.tsNs);
    rec.writeUInt32LE(ifindex, RECORD.ifindex);
    rec.writeUInt32LE(p.wireLen, RECORD.wireLen);
    rec.writeUInt16LE(p.data.length, RECORD.capLen);
    rec[RECORD.pktType] = i % 2 === 0 ? PACKET_HOST : PACKET_OUTGOING;
    rec[RECORD.link] = RECORD.linkEther;
    p.data.copy(rec, RECORD.data);
    parts.push(rec);
  });
  return Buffer.concat(parts);
}

// The addon is optional only off Linux; on Linux (CI) a missing build is a failure, not a skip.
const skip = process.platform === 'linux' ? false : `the recorder addon is Linux-only (this is ${process.platform})`;

/** Runs `batches` of ring records through a fed capture into the sink, as record.ts joins them. */
async function recordFed(
  batches: Buffer[], sinkOptions: Omit<SinkOptions, 'onFailure' | 'now'>,
  limits: { clockOffsetNs: bigint; maxFileBytes?: number; maxPackets?: number; knownKeys?: number[] },
): Promise<{ sink: PcapngSink; captured: number }> {
  let failure: Error | null = null;
  const sink = new PcapngSink({ ...sinkOptions, now: () => 0n, onFailure: (err) => (failure = err) });
  const capture: CaptureHandle = new (loadRecorderNative().Capture)(null, {
    clockOffsetNs: limits.clockOffsetNs, maxFileBytes: limits.maxFileBytes ?? 0, maxPackets: limits.maxPackets ?? 0,
  }, (event) => capture.resume(sink.handle(event)));
  capture.start(sink.open(0n, limits.knownKeys), limits.knownKeys);
  for (const b of batches) capture.feed(b);
  await capture.stop();
  sink.close(capture.progress().fileBytes);
  const { captured } = capture.progress();
  capture.close();
  assert.equal(failure, null);
  return { sink, captured };
}

/** Offsets where each EPB of a (little-endian) pcapng file ends. */
function epbEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const len = buf.readUInt32LE(at + 4);
    if (buf.readUInt32LE(at) === 6) ends.push(at + len);
    at += len;
  }
  return ends;
}

function tmpBase(): string {
  return path.join(tmpdir(), `tcplens-sink-${process.pid}-${randomBytes(4).toString('hex')}.pcapng`);
}

function cleanup(base: string): void {
  const dir = path.dirname(base);
  for (const f of readdirSync(dir)) if (f.startsWith(path.basename(base))) rmSync(path.join(dir, f), { force: true });
}

test('-C rotation: several valid files, every packet exactly once, SHB/IDB re-emitted, ISBs at each close', { skip }, async () => {
  const packets = await fixturePackets();
  const base = tmpBase();
  // The capture's own timestamps come back out when REALTIME - MONOTONIC is -monoBase.
  const monoBase = 1_000_000_000n;
  const counters: InterfaceCounters[] = [{ ifindex: 7, seen: 1000, tcp: 900, kept: 800, dropped: 5 }];
  const rounds = 20;
  try {
    const batch = encodeRecords(packets, 7, monoBase);
    const { sink, captured } = await recordFed(Array.from({ length: rounds }, () => batch), {
      rotation: new Rotation({ base, maxBytes: 3000 }), snaplen: 4096,
      interfaceName: (i) => `veth${i}`, counters: () => counters, onDone: () => assert.fail('no limit was set'),
    }, { clockOffsetNs: -monoBase, maxFileBytes: 3000 });
    assert.equal(captured, packets.length * rounds);
    assert.ok(sink.files.length >= 3, `${sink.files.length} files`);

    let total = 0;
    const seen: bigint[] = [];
    const flags: number[] = [];
    for (const file of sink.files) {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const stamps: bigint[] = [];
      const r = await readCapture(file, (p) => {
        stamps.push(BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec));
        flags.push(p.flags);
      });
      assert.equal(r.error, null, `${file} reads whole`);
      assert.equal(r.interfaces.length, 1, 'each file has its IDB');
      assert.equal(r.interfaces[0]!.name, 'veth7');
      assert.equal(r.interfaces[0]!.recv, 1000);
      assert.equal(r.interfaces[0]!.drop, 5);
      total += r.packets;
      seen.push(...stamps);
      const { stderr } = await tshark(['-r', file, '-q']);
      assert.equal(stderr.split('\n').filter((l) => l && !/root/.test(l)).join('\n'), '', `tshark reads ${file} without warnings`);
    }
    assert.equal(total, packets.length * rounds, 'no packet lost or doubled at a boundary');
    // The drain thread's rule (epb_file.cc): a packet that finds the file holding at least -C bytes starts
    // the next one, so every file but the last holds at least 3000 bytes, and less before its last EPB.
    for (const file of sink.files.slice(0, -1)) {
      const ends = epbEnds(readFileSync(file));
      assert.ok(ends.at(-1)! >= 3000, `${file}: ${ends.at(-1)} bytes up to its last EPB`);
      assert.ok(ends.at(-2)! < 3000, `${file}: ${ends.at(-2)} bytes before its last EPB`);
    }
    const expected = Array.from({ length: rounds }, () => packets.map((p) => p.tsNs)).flat();
    assert.deepEqual(seen, expected, 'packets in order across files');
    const expectedFlags = Array.from({ length: rounds }, () => packets.map((_, i) => (i % 2 === 0 ? 1 : 2))).flat();
    assert.deepEqual(flags, expectedFlags, 'PACKET_OUTGOING becomes outbound, the rest inbound');
  } finally {
    cleanup(base);
  }
});

test('-c stops the writer at exactly N packets and reports it once', { skip }, async () => {
  const packets = await fixturePackets();
  const base = tmpBase();
  let done = 0;
  try {
    const batch = encodeRecords(packets, 3, 0n);
    const { captured } = await recordFed([batch, batch, batch], {
      rotation: new Rotation({ base }), snaplen: 256,
      interfaceName: () => null, counters: () => [], onDone: (why) => {
        assert.equal(why, 'count');
        done++;
      },
    }, { clockOffsetNs: 0n, maxPackets: 50 });
    assert.equal(done, 1);
    assert.equal(captured, 50);
    const r = await readCapture(base, () => undefined);
    assert.equal(r.packets, 50);
    assert.equal(r.interfaces[0]!.name, 'ifindex3', 'an interface that is gone keeps its index as its name');
  } finally {
    cleanup(base);
  }
});

test('-G: a file per period measured from the start; with -W the recording ends after W files', { skip }, async () => {
  // 36 packets 100 ms apart from 0.25 s: periods of 1 s hold 8, 10, 10 and 8 of them.
  const packets = (await fixturePackets()).map((p, i) => ({ ...p, tsNs: 250_000_000n + BigInt(i) * 100_000_000n }));
  const expected = [8, 10, 10, 8];
  for (const maxFiles of [undefined, 3]) {
    const base = tmpBase();
    const reasons: string[] = [];
    try {
      const { sink, captured } = await recordFed([encodeRecords(packets, 5, 0n)], {
        rotation: new Rotation({ base, maxSeconds: 1, maxFiles }), snaplen: 256,
        interfaceName: () => 'eth0', counters: () => [], onDone: (why) => reasons.push(why),
      }, { clockOffsetNs: 0n, knownKeys: [5 * 4 + RECORD.linkEther] }); // its IDB written up front, as for -i eth0
      const want = maxFiles === undefined ? expected : expected.slice(0, maxFiles);
      assert.equal(sink.files.length, want.length);
      assert.equal(captured, want.reduce((a, b) => a + b, 0));
      assert.deepEqual(reasons, maxFiles === undefined ? [] : ['files']);
      for (const [n, file] of sink.files.entries()) {
        const stamps: bigint[] = [];
        const r = await readCapture(file, (p) => stamps.push(BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec)));
        assert.equal(r.error, null);
        assert.deepEqual(r.interfaces.map((i) => i.name), ['eth0'], 'the IDB given up front, once');
        assert.equal(stamps.length, want[n], `${file}: packets of period ${n}`);
        assert.ok(stamps.every((t) => t >= BigInt(n) * 1_000_000_000n && t < BigInt(n + 1) * 1_000_000_000n), `${file} holds period ${n} only`);
      }
    } finally {
      cleanup(base);
    }
  }
});
