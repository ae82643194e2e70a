/**
 * Bounded mutation fuzzing of readCapture (in process): byte flips and truncations of small pcap, pcapng
 * and gzip captures with a fixed-seed PRNG, so every run tries the same 2,400 cases and a failure can be
 * replayed by its case number. For every case: readCapture resolves (never throws) within a time bound,
 * an error has the "FILE: at byte N: expected X" shape with N inside the file, and every packet whose
 * record lies wholly before the first changed byte is delivered exactly as from the intact file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCapture } from '../../analyzer/readers/index.js';
import type { ReadResult } from '../../analyzer/readers/types.js';
import { corpusDir } from '../support/paths.js';
import {
  customBlock, endOfOptions, epb, idb, isb, option, pb, pcapHeader, pcapRecord, shb, spb, tcpSynFrame, textOption, u32Option, u64Option,
} from './build-capture.js';
import { prng } from '../support/prng.js';

/** Fixed by default so CI is repeatable; TCPLENS_FUZZ_SEED explores other sequences by hand. */
const SEED = Number(process.env['TCPLENS_FUZZ_SEED'] ?? 0x7c91e5);
const CASES_PER_SEED = 400;
const CASE_TIME_LIMIT_MS = 5_000;


interface Delivered {
  /** frame:ifId:sec:nsec:cap:wire:flags:checksum, one per packet. */
  keys: string[];
  /** Where each packet's record ends at the latest (the next packet's start, or the end of the file). */
  ends: number[];
  starts: number[];
}

async function readAll(file: string): Promise<{ result: ReadResult; got: Delivered }> {
  const got: Delivered = { keys: [], ends: [], starts: [] };
  const reading = readCapture(file, (p) => {
    let sum = 0;
    for (let i = 0; i < p.data.length; i++) sum = (sum * 31 + p.data[i]!) >>> 0;
    got.keys.push(`${p.frame}:${p.interfaceId}:${p.tsSec}:${p.tsNsec}:${p.capLen}:${p.wireLen}:${p.flags}:${sum}`);
    got.starts.push(p.fileOffset);
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readCapture did not finish within ${CASE_TIME_LIMIT_MS} ms`)), CASE_TIME_LIMIT_MS);
  });
  try {
    const result = await Promise.race([reading, timeout]);
    return { result, got };
  } finally {
    clearTimeout(timer);
  }
}

function seeds(): Array<{ name: string; bytes: Buffer; gzip: boolean }> {
  const f = tcpSynFrame();
  const pcap = (le: boolean, nanos: boolean) => Buffer.concat([
    pcapHeader({ le, nanos, snaplen: 96 }),
    ...Array.from({ length: 6 }, (_, i) => pcapRecord({ le, sec: 1700000000 + i, frac: i * 1000, data: f.subarray(0, 20 + i * 6), wireLen: 54 })),
  ]);
  const ng = (le: boolean) => Buffer.concat([
    shb({ le, options: [textOption(1, 'fuzz seed', le), endOfOptions(le)] }),
    idb({ le, snaplen: 128, options: [textOption(2, 'eth0', le), option(9, Buffer.from([9]), le), u64Option(14, 10n, le), endOfOptions(le)] }),
    idb({ le, linktype: 0, snaplen: 0, options: [option(9, Buffer.from([0x94]), le), endOfOptions(le)] }),
    epb({ le, units: 1700000000000000001n, data: f, options: [u32Option(2, 1, le), textOption(1, 'c', le), endOfOptions(le)] }),
    spb({ le, data: f }),
    customBlock(le),
    epb({ le, ifId: 1, units: 1n << 40n, data: f.subarray(0, 30) }),
    pb({ le, units: 1700000000000000n, data: f }),
    isb({ le, ifId: 0, recv: 10n, drop: 2n }),
    shb({ le: !le }),
    idb({ le: !le, snaplen: 65535 }),
    epb({ le: !le, units: 1700000000000001n, data: f }),
  ]);
  const list = [
    { name: 'pcap-le-usec', bytes: pcap(true, false), gzip: false },
    { name: 'pcap-be-nsec', bytes: pcap(false, true), gzip: false },
    { name: 'pcapng-le', bytes: ng(true), gzip: false },
    { name: 'pcapng-be', bytes: ng(false), gzip: false },
    { name: 'corpus-test202', bytes: readFileSync(path.join(corpusDir, 'pcapng-test-generator/output_be/difficult/test202.pcapng')), gzip: false },
    { name: 'gzip-pcap', bytes: gzipSync(pcap(true, true)), gzip: true },
  ];
  return list;
}

test(`mutation fuzz: ${CASES_PER_SEED * 6} flipped or truncated captures never throw, hang or lose earlier packets`, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  let cases = 0;
  let damaged = 0;
  for (const seed of seeds()) {
    const file = path.join(dir, `${seed.name}.cap`);
    writeFileSync(file, seed.bytes);
    const intact = await readAll(file);
    assert.equal(intact.result.error, null, `${seed.name}: the seed itself must read cleanly`);
    const n = intact.got.starts.length;
    const ends = intact.got.starts.map((_, i) => (i + 1 < n ? intact.got.starts[i + 1]! : seed.bytes.length));

    for (let c = 0; c < CASES_PER_SEED; c++, cases++) {
      const bytes = Buffer.from(seed.bytes);
      let firstChange = bytes.length;
      let size = bytes.length;
      const kind = int(3); // 0: flips, 1: truncation, 2: both
      if (kind !== 1) {
        const flips = 1 + int(4);
        for (let i = 0; i < flips; i++) {
          const at = int(bytes.length);
          bytes[at] = bytes[at]! ^ (1 + int(255));
          firstChange = Math.min(firstChange, at);
        }
      }
      if (kind !== 0) {
        size = int(bytes.length);
        firstChange = Math.min(firstChange, size);
      }
      writeFileSync(file, bytes.subarray(0, size));
      const label = `${seed.name} case ${c} (kind ${kind}, first change at ${firstChange}, size ${size})`;
      const { result, got } = await readAll(file);
      if (result.error) {
        damaged++;
        assert.equal(result.partial, true, label);
        const m = /^(.*): at byte (\d+): expected (.+)$/s.exec(result.error.message);
        assert.ok(m, `${label}: message shape: ${result.error.message}`);
        assert.equal(m[1], file, label);
        if (!seed.gzip) assert.ok(Number(m[2]) <= size, `${label}: offset ${m[2]} inside the ${size}-byte file`);
      }
      if (!seed.gzip) {
        const kept = ends.filter((e) => e <= firstChange).length;
        assert.ok(got.keys.length >= kept, `${label}: ${got.keys.length} packets delivered, ${kept} lie before the damage`);
        assert.deepEqual(got.keys.slice(0, kept), intact.got.keys.slice(0, kept), `${label}: packets before the damage`);
      }
    }
  }
  assert.ok(cases >= 2000, `ran ${cases} cases`);
  t.diagnostic(`${cases} cases, ${damaged} reported damage`);
});
