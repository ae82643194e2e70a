/**
 * Both readers against tshark (the oracle), frame by frame: same frame numbers, frame.time_epoch to the
 * nanosecond (tshark prints the source resolution; we compare after padding to 9 digits), frame.len and
 * frame.cap_len. Corpus files cover byte orders, nanosecond pcap, gzip, several sections of mixed byte
 * order, SPBs and custom blocks; files built here cover what the corpus lacks (if_tsresol base 2,
 * if_tsoffset, the obsolete Packet Block).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCapture } from '../../analyzer/readers/index.js';
import { corpusDir, fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';
import { endOfOptions, epb, idb, option, pb, shb, spb, tcpSynFrame, textOption, u64Option } from './build-capture.js';

interface Frame {
  frame: number;
  /** "sec.nnnnnnnnn" or "" when the record has no timestamp (SPB). */
  time: string;
  len: number;
  capLen: number;
}

async function ours(file: string): Promise<{ frames: Frame[]; customBlocks: number; partial: boolean }> {
  const frames: Frame[] = [];
  const r = await readCapture(file, (p) => {
    frames.push({ frame: p.frame, time: p.hasTimestamp ? `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}` : '', len: p.wireLen, capLen: p.capLen });
  });
  return { frames, customBlocks: r.customBlocks, partial: r.partial };
}

/** tshark's time_epoch with the fraction padded to 9 digits; '' stays ''. */
function padTime(t: string): string {
  if (t === '') return '';
  const [sec, frac = ''] = t.split('.');
  return `${sec}.${frac.padEnd(9, '0')}`;
}

async function theirs(file: string): Promise<Frame[]> {
  const rows = await tsharkFields(file, ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len']);
  return rows.map(([n, t, len, cap]) => ({ frame: Number(n), time: padTime(t ?? ''), len: Number(len), capLen: Number(cap) }));
}

async function assertAgrees(file: string, expectPackets?: number): Promise<void> {
  const mine = await ours(file);
  const oracle = await theirs(file);
  assert.equal(mine.partial, false, `${file}: read as partial`);
  if (expectPackets !== undefined) assert.equal(mine.frames.length, expectPackets, `${file}: packet count`);
  // tshark also shows custom blocks as frames; we number around them but do not deliver them.
  assert.equal(mine.frames.length + mine.customBlocks, oracle.length, `${file}: frame count vs tshark`);
  const byNumber = new Map(oracle.map((f) => [f.frame, f]));
  for (const f of mine.frames) {
    assert.deepEqual(f, byNumber.get(f.frame), `${file}: frame ${f.frame}`);
  }
}

const corpusFiles: Array<[string, string]> = [
  ['pcap little-endian, nanosecond magic', 'tcpdump/tcp-handshake-nano.pcap'],
  ['pcap little-endian, nanosecond magic, Ethernet', 'zeek/http/get-to-ssh-server.pcap'],
  ['pcap big-endian, microsecond magic', 'tcpdump/pptp.pcap'],
  ['pcap big-endian (IP over InfiniBand)', 'tcpdump/ipoib.pcap'],
  ['pcap with FCS bits in the link-type field', 'tcpdump/beep-oobr.pcap'],
  ['gzip-compressed pcap', 'zeek/pe/pe_files_timestamp.pcap.gz'],
  ['pcapng LE, if_tsresol 10^-9, two IDBs', 'pcapng-test-generator/output_le/basic/test008.pcapng'],
  ['pcapng BE, if_tsresol 10^-9, two IDBs', 'pcapng-test-generator/output_be/basic/test008.pcapng'],
  ['pcapng SPBs and EPBs, snaplen cuts', 'pcapng-test-generator/output_le/basic/test012.pcapng'],
  ['pcapng BE SPBs', 'pcapng-test-generator/output_be/basic/test010.pcapng'],
  ['pcapng custom blocks among packets', 'pcapng-test-generator/output_le/basic/test018.pcapng'],
  ['pcapng 3 sections LE', 'pcapng-test-generator/output_le/difficult/test201.pcapng'],
  ['pcapng 3 sections of mixed byte order, all block types', 'pcapng-test-generator/output_le/difficult/test202.pcapng'],
  ['pcapng 3 sections BE/LE, all block types', 'pcapng-test-generator/output_be/difficult/test202.pcapng'],
  ['pcapng with 126 interfaces', 'zeek/ldap/modify-request.pcapng'],
  ['pcapng multi-interface', 'zeek/pcapng-multi-interface.pcapng'],
];

test('agrees with tshark: fixtures/http-loopback.pcapng (dumpcap, ns resolution, ISB)', async () => {
  await assertAgrees(path.join(fixturesDir, 'http-loopback.pcapng'), 36);
});

for (const [what, rel] of corpusFiles) {
  test(`agrees with tshark: ${what} (${rel})`, async () => {
    await assertAgrees(path.join(corpusDir, rel));
  });
}

/** Builds files the corpus lacks in a temp dir, checks tshark reads them as we do. */
test('agrees with tshark on built pcapng: if_tsresol base 2, if_tsoffset, obsolete PB, BE sections', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-readers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const frame = tcpSynFrame();
  const cases: Array<[string, Buffer, number]> = [];
  for (const le of [true, false]) {
    const order = le ? 'le' : 'be';
    // 2^-20 s units (0x94): 1700000000.5 s + 3 units, exactly representable in ns? no: floor is compared.
    const base2 = Buffer.concat([
      shb({ le, options: [textOption(1, 'base 2', le), endOfOptions(le)] }),
      idb({ le, snaplen: 262144, options: [option(9, Buffer.from([0x94]), le), textOption(2, 'b2', le), endOfOptions(le)] }),
      epb({ le, units: (1700000000n << 20n) + 524288n + 3n, data: frame }),
      epb({ le, units: (1700000001n << 20n) + 1048575n, data: frame }),
      // 2^-30 units: the largest binary resolution common in practice (about 1 ns).
      idb({ le, snaplen: 262144, options: [option(9, Buffer.from([0x9e]), le), endOfOptions(le)] }),
      epb({ le, ifId: 1, units: (1700000002n << 30n) + 123456789n, data: frame }),
    ]);
    cases.push([`base2-${order}.pcapng`, base2, 3]);
    const offset = Buffer.concat([
      shb({ le }),
      // if_tsoffset 1,000,000,000 s with 10^-9 resolution; and a 10^-3 interface.
      idb({ le, snaplen: 65535, options: [option(9, Buffer.from([9]), le), u64Option(14, 1000000000n, le), endOfOptions(le)] }),
      idb({ le, snaplen: 65535, options: [option(9, Buffer.from([3]), le), endOfOptions(le)] }),
      epb({ le, units: 700000000123456789n, data: frame }),
      epb({ le, ifId: 1, units: 1700000000999n, data: frame }),
    ]);
    cases.push([`tsoffset-${order}.pcapng`, offset, 2]);
    const obsolete = Buffer.concat([
      shb({ le }),
      idb({ le, snaplen: 65535 }),
      pb({ le, units: 1700000000123456n, data: frame }),
      spb({ le, data: frame }),
      pb({ le, units: 1700000001000001n, data: frame.subarray(0, 40), wireLen: 54 }),
    ]);
    cases.push([`obsolete-pb-${order}.pcapng`, obsolete, 3]);
  }
  // Two sections of different byte order in one file.
  cases.push(['mixed-sections.pcapng', Buffer.concat([
    shb({ le: true }), idb({ le: true }), epb({ le: true, units: 1700000000000001n, data: frame }),
    shb({ le: false }), idb({ le: false, options: [option(9, Buffer.from([9]), false), endOfOptions(false)] }),
    epb({ le: false, units: 1700000000000000002n, data: frame }),
  ]), 2]);
  for (const [name, bytes, packets] of cases) {
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    await assertAgrees(file, packets);
  }
});
