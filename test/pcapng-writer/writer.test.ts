/**
 * PcapngFileWriter end to end: a file with every option the recorder writes, checked by the real tshark
 * and capinfos (no warnings, every option visible) and read back with our own reader; then the writer's
 * own duties: 0600 files whatever the umask, chunking that never changes the bytes, validation that
 * leaves the file untouched, and disk errors that surface instead of vanishing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeIdb, encodeIsb, encodeShb, type IdbOptions } from '../../recorder/pcapng/blocks.js';
import { encodeEpb } from '../support/pcapng/epb.js';
import { PcapngFileWriter } from '../support/pcapng/writer.js';
import { readCapture } from '../../analyzer/readers/index.js';
import type { RawPacket } from '../../analyzer/readers/types.js';
import { tshark } from '../support/tshark.js';
import { tcpFrame } from './frames.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-writer-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** tshark as root always prints this notice; it is not about the file. */
function warningsOf(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.length > 0 && !l.startsWith('Running as user "root"'));
}

const T0 = 1_763_870_400_000_000_000n; // 2025-11-23 04:00:00 UTC in ns
interface Sent {
  interfaceId: number;
  tsNs: bigint;
  wireLen: number;
  data: Buffer;
  flags: number;
  comment?: string;
}
const sent: Sent[] = [
  { interfaceId: 0, tsNs: T0 + 1n, wireLen: 54, data: tcpFrame({ flags: 0x02 }), flags: 2 },
  { interfaceId: 0, tsNs: T0 + 1_000_123n, wireLen: 54, data: tcpFrame({ flags: 0x12, sport: 80, dport: 40000, src: [10, 0, 0, 2], dst: [10, 0, 0, 1], seq: 5000, ack: 1001 }), flags: 1 },
  { interfaceId: 0, tsNs: T0 + 2_000_000_999n, wireLen: 54, data: tcpFrame({ flags: 0x10, seq: 1001, ack: 5001 }), flags: 0, comment: 'handshake done' },
  // Cut by interface 1's snaplen of 96: wire length stays 1514.
  { interfaceId: 1, tsNs: T0 + 3_000_001_000n, wireLen: 1514, data: tcpFrame({ flags: 0x18, seq: 1001, ack: 5001, payload: 1460 }).subarray(0, 96), flags: 2 },
  { interfaceId: 0, tsNs: T0 + 4_999_999_999n, wireLen: 57, data: tcpFrame({ flags: 0x18, seq: 2461, ack: 5001, payload: 3 }), flags: 2, comment: 'three bytes, ünïcödé' },
];
const idbs: IdbOptions[] = [
  { linktype: 1, snaplen: 262144, name: 'veth-test0', description: 'writer test interface', comment: 'first' },
  { linktype: 1, snaplen: 96, name: 'eth1', tsresol: 6 },
];
const shb = { comment: 'tcplens writer test', hardware: 'test hardware', os: 'Linux test', userappl: 'tcplens test' };

async function writeSample(file: string): Promise<PcapngFileWriter> {
  const w = await PcapngFileWriter.open(file);
  w.writeSection(shb, idbs);
  for (const p of sent) {
    if (p.comment !== undefined) w.writePacket({ ...p });
    else w.writePacket(p.interfaceId, p.tsNs, p.wireLen, p.data, p.flags);
  }
  w.writeStats({ interfaceId: 0, tsNs: T0 + 5_000_000_000n, recv: 4n, drop: 1n, startNs: T0, endNs: T0 + 5_000_000_000n });
  await w.close();
  return w;
}

/** tshark's frame.p2p_dir for each epb_flags direction: received 1, sent 0, unknown not shown. */
const P2P_DIR = ['', '1', '0'];

/** What tshark shows as frame.time_epoch for a timestamp at a resolution of 10^-tsresol s. */
function epochText(tsNs: bigint, tsresol: number): string {
  const unit = 10n ** BigInt(9 - tsresol);
  const ns = (tsNs / unit) * unit;
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

test('tshark reads every block and option without a warning', async () => {
  const file = path.join(dir, 'sample.pcapng');
  const w = await writeSample(file);
  assert.equal(statSync(file).size, w.bytesWritten);
  const fields = ['frame.number', 'frame.interface_id', 'frame.interface_name', 'frame.interface_description',
    'frame.packet_flags_direction', 'frame.p2p_dir', 'frame.comment', 'frame.len', 'frame.cap_len', 'frame.time_epoch', 'tcp.srcport'];
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=|'];
  for (const f of fields) args.push('-e', f);
  const { stdout, stderr } = await tshark(args);
  assert.deepEqual(warningsOf(stderr), []);
  const rows = stdout.trim().split('\n').map((l) => l.split('|'));
  const expected = sent.map((p, i) => [
    String(i + 1), String(p.interfaceId), idbs[p.interfaceId]!.name!, idbs[p.interfaceId]!.description ?? '',
    p.flags === 0 ? '' : `0x0000000${p.flags}`, P2P_DIR[p.flags]!, p.comment ?? '', String(p.wireLen), String(p.data.length),
    epochText(p.tsNs, idbs[p.interfaceId]!.tsresol ?? 9), p.interfaceId === 1 ? '40000' : String(tcpSport(p.data)),
  ]);
  assert.deepEqual(rows, expected);
  // The direction as tshark names it, and no malformed or expert warnings in any frame.
  const { stdout: verbose } = await tshark(['-n', '-r', file, '-V']);
  assert.match(verbose, /Direction: Inbound \(0x1\)/);
  assert.match(verbose, /Direction: Outbound \(0x2\)/);
  assert.match(verbose, /Packet comments\n    three bytes, ünïcödé\n/);
  assert.doesNotMatch(verbose, /Malformed|Expert Info \(Warn|Expert Info \(Error/);
});

function tcpSport(frame: Buffer): number {
  return frame.readUInt16BE(34);
}

test('capinfos shows the section and interface options and the statistics', async () => {
  const file = path.join(dir, 'capinfos.pcapng');
  await writeSample(file);
  const { stdout, stderr } = await run('capinfos', [file], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(stderr, '');
  assert.match(stdout, /File type:\s+Wireshark\/\.\.\. - pcapng/);
  assert.match(stdout, /Number of packets:\s+5\n/);
  assert.match(stdout, /Capture hardware:\s+test hardware/);
  assert.match(stdout, /Capture oper-sys:\s+Linux test/);
  assert.match(stdout, /Capture application:\s+tcplens test/);
  assert.match(stdout, /Capture comment:\s+tcplens writer test/);
  const [, if0 = '', if1 = ''] = stdout.split(/Interface #\d info:/);
  assert.match(if0, /Name = veth-test0/);
  assert.match(if0, /Description = writer test interface/);
  assert.match(if0, /Capture length = 262144/);
  assert.match(if0, /Time precision = nanoseconds \(9\)/);
  assert.match(if0, /Number of stat entries = 1/);
  assert.match(if0, /Number of packets = 4/);
  assert.match(if1, /Name = eth1/);
  assert.match(if1, /Capture length = 96/);
  assert.match(if1, /Time precision = microseconds \(6\)/);
  assert.match(if1, /Number of packets = 1/);
});

test('our reader reads back every packet, interface and statistic', async () => {
  const file = path.join(dir, 'readback.pcapng');
  await writeSample(file);
  const got: { interfaceId: number; tsNs: bigint; wireLen: number; data: Buffer; flags: number }[] = [];
  const result = await readCapture(file, (p: RawPacket) => {
    got.push({
      interfaceId: p.interfaceId, tsNs: BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec),
      wireLen: p.wireLen, data: Buffer.from(p.data), flags: p.flags,
    });
  });
  assert.equal(result.error, null);
  assert.equal(result.partial, false);
  assert.equal(result.format, 'pcapng');
  assert.deepEqual(result.warnings, []);
  // The reader lists every comment of the file: the section's, the interface's, and each packet's by frame.
  assert.deepEqual(result.comments, ['tcplens writer test', 'first', 'frame 3: handshake done', 'frame 5: three bytes, ünïcödé']);
  assert.deepEqual(got, sent.map((p) => ({
    interfaceId: p.interfaceId,
    tsNs: BigInt(epochText(p.tsNs, idbs[p.interfaceId]!.tsresol ?? 9).replace('.', '')),
    wireLen: p.wireLen, data: p.data, flags: p.flags,
  })));
  assert.equal(result.interfaces.length, 2);
  const [i0, i1] = result.interfaces;
  assert.equal(i0!.name, 'veth-test0');
  assert.equal(i0!.description, 'writer test interface');
  assert.equal(i0!.snaplen, 262144);
  assert.deepEqual(i0!.tsresol, { base: 10, exponent: 9 });
  assert.equal(i0!.recv, 4);
  assert.equal(i0!.drop, 1);
  assert.equal(i1!.name, 'eth1');
  assert.equal(i1!.snaplen, 96);
  assert.deepEqual(i1!.tsresol, { base: 10, exponent: 6 });
  assert.equal(i1!.recv, null);
});

test('files are created 0600 even with umask 0, and an existing file is made 0600 too', async () => {
  const old = process.umask(0);
  try {
    const fresh = path.join(dir, 'fresh.pcapng');
    await (await PcapngFileWriter.open(fresh)).close();
    assert.equal(statSync(fresh).mode & 0o7777, 0o600);
    const existing = path.join(dir, 'existing.pcapng');
    writeFileSync(existing, 'old content');
    chmodSync(existing, 0o666);
    const w = await PcapngFileWriter.open(existing);
    w.writeSection({}, [{ linktype: 1, snaplen: 0 }]);
    await w.close();
    assert.equal(statSync(existing).mode & 0o7777, 0o600);
    assert.deepEqual(readFileSync(existing), Buffer.concat([encodeShb({}), encodeIdb({ linktype: 1, snaplen: 0 })]));
    const shared = path.join(dir, 'shared.pcapng');
    await (await PcapngFileWriter.open(shared, { mode: 0o640 })).close();
    assert.equal(statSync(shared).mode & 0o7777, 0o640);
  } finally {
    process.umask(old);
  }
});

test('a symbolic link at the output path is refused, not followed', async () => {
  const target = path.join(dir, 'victim');
  writeFileSync(target, 'keep me');
  const link = path.join(dir, 'link.pcapng');
  symlinkSync(target, link);
  await assert.rejects(PcapngFileWriter.open(link), { code: 'ELOOP' });
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
});

test('chunking never changes the bytes: small chunks, a block larger than a chunk, flushes in between', async () => {
  const file = path.join(dir, 'chunks.pcapng');
  const w = await PcapngFileWriter.open(file, { chunkSize: 4096 });
  const expected: Buffer[] = [encodeShb({ os: 'x' }), encodeIdb({ linktype: 1, snaplen: 65535 })];
  w.writeSection({ os: 'x' }, [{ linktype: 1, snaplen: 65535 }]);
  for (let i = 0; i < 3000; i++) {
    const size = i === 1500 ? 10_000 : 40 + (i % 97);
    const data = Buffer.alloc(size, i & 0xff);
    const flags = i % 3;
    w.writePacket(0, T0 + BigInt(i) * 1000n, size + 4, data, flags);
    expected.push(encodeEpb({ interfaceId: 0, tsNs: T0 + BigInt(i) * 1000n, wireLen: size + 4, data, flags }));
    if (i % 1000 === 999) await w.flush();
  }
  w.writeStats({ interfaceId: 0, tsNs: T0, recv: 3000n });
  expected.push(encodeIsb({ interfaceId: 0, tsNs: T0, recv: 3000n }));
  await w.close();
  const bytes = readFileSync(file);
  assert.equal(w.bytesWritten, bytes.length);
  assert.ok(bytes.equals(Buffer.concat(expected)), 'file bytes differ from the concatenated blocks');
});

test('a rejected call writes nothing: the file stays exactly as before', async () => {
  const file = path.join(dir, 'rejected.pcapng');
  const w = await PcapngFileWriter.open(file);
  assert.throws(() => w.writePacket(0, T0, 54, tcpFrame()), /no section yet/);
  w.writeSection({}, [{ linktype: 1, snaplen: 0 }]);
  const before = w.bytesWritten;
  assert.throws(() => w.writePacket(1, T0, 54, tcpFrame()), RangeError); // unknown interface
  assert.throws(() => w.writePacket(0, T0, -1, tcpFrame()), RangeError);
  assert.throws(() => w.writePacket(0, -5n, 54, tcpFrame()), RangeError);
  assert.throws(() => w.writePacket(0, 5 as unknown as bigint, 54, tcpFrame()), TypeError);
  assert.throws(() => w.writePacket(0, T0, 54, 'bytes' as unknown as Uint8Array), TypeError);
  assert.throws(() => w.writePacket({ interfaceId: 0, tsNs: T0, wireLen: 54, data: tcpFrame(), comment: 'x'.repeat(70000) }), RangeError);
  assert.throws(() => w.writeStats({ interfaceId: 2, tsNs: T0 }), RangeError);
  assert.throws(() => w.writeSection({}, [{ linktype: 1, snaplen: 0 }, { linktype: -1, snaplen: 0 }]), RangeError);
  assert.throws(() => w.addInterface({ linktype: 1, snaplen: 0, name: 7 as unknown as string }), TypeError);
  assert.equal(w.bytesWritten, before);
  // The failed section did not reset the interface list either: interface 0 still takes packets.
  w.writePacket(0, T0, 54, tcpFrame());
  await w.close();
  assert.deepEqual(readFileSync(file), Buffer.concat([
    encodeShb({}), encodeIdb({ linktype: 1, snaplen: 0 }), encodeEpb({ interfaceId: 0, tsNs: T0, wireLen: 54, data: tcpFrame() }),
  ]));
  assert.throws(() => w.writePacket(0, T0, 54, tcpFrame()), /closed/);
  await w.close(); // a second close is harmless
});

test('an interface added mid-section gets the next id and takes packets', async () => {
  const file = path.join(dir, 'added.pcapng');
  const w = await PcapngFileWriter.open(file);
  w.writeSection({}, [{ linktype: 1, snaplen: 0, name: 'a' }]);
  w.writePacket(0, T0, 54, tcpFrame());
  assert.equal(w.addInterface({ linktype: 1, snaplen: 0, name: 'b' }), 1);
  w.writePacket(1, T0 + 1n, 54, tcpFrame());
  await w.close();
  const { stdout, stderr } = await tshark(['-r', file, '-T', 'fields', '-e', 'frame.interface_name']);
  assert.deepEqual(warningsOf(stderr), []);
  assert.equal(stdout, 'a\nb\n');
});

test('a disk error (ENOSPC on /dev/full) is reported by flush and by every later call', async () => {
  const w = await PcapngFileWriter.open('/dev/full', { chunkSize: 4096 });
  w.writeSection({}, [{ linktype: 1, snaplen: 0 }]);
  for (let i = 0; i < 200; i++) w.writePacket(0, T0, 54, tcpFrame());
  await assert.rejects(w.flush(), { code: 'ENOSPC' });
  assert.throws(() => w.writePacket(0, T0, 54, tcpFrame()), { code: 'ENOSPC' });
  await assert.rejects(w.close(), { code: 'ENOSPC' });
  assert.equal(statSync('/dev/full').mode & 0o777, 0o666, '/dev/full keeps its own permissions');
});

test('writePacket returns false while more than highWaterMark bytes wait for the disk, true after flush', async () => {
  const file = path.join(dir, 'backpressure.pcapng');
  const w = await PcapngFileWriter.open(file, { chunkSize: 4096, highWaterMark: 8192 });
  w.writeSection({}, [{ linktype: 1, snaplen: 0 }]);
  let sawFalse = false;
  let written = 0;
  // A synchronous loop gives the disk no turn, so the queue must pass the mark within a few chunks.
  for (let i = 0; i < 1000 && !sawFalse; i++, written++) sawFalse = !w.writePacket(0, T0, 54, tcpFrame());
  assert.ok(sawFalse, 'backpressure was never signalled');
  assert.ok(w.pendingBytes > 8192);
  await w.flush();
  assert.equal(w.pendingBytes, 0);
  assert.equal(w.writePacket(0, T0, 54, tcpFrame()), true);
  await w.close();
  const { stdout } = await tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']);
  assert.equal(stdout.trim().split('\n').length, written + 1);
});
