/**
 * Round trip through our reader and our writer: every TCP capture of the corpus is copied to pcapng with
 * convertToPcapng (one IDB per source interface, same link types and snaplens), and tshark must see the
 * copy exactly as it sees the original: the same frames with the same frame.len, frame.cap_len,
 * frame.time_epoch (to the nanosecond, or the source's resolution), link type (frame.encap_type) and
 * interface, and no warning that the original does not also cause. Every disagreement is printed as a table; any disagreement fails.
 *
 * One case where tshark is no oracle: a pcap record whose sub-second field is out of range (>= 10^6 us or
 * 10^9 ns; tcpdump's timestamp_invalid_* tests). tshark prints the raw field ("1418145370.1000000000")
 * or an int32 overflow of it, and pcapng, which stores one tick count, cannot hold such a value at all.
 * The copy carries the excess into the seconds; for those frames the expected time is computed here from
 * the record header itself, and each such frame is listed in the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { convertToPcapng } from '../support/pcapng/convert.js';
import { tcpCorpusEntries, type CorpusEntry } from '../support/corpus.js';
import { tshark } from '../support/tshark.js';

/** frame.encap_type is tshark's per-frame link type; frame.interface_id is empty for pcap input (one interface, 0). */
const FIELDS = ['frame.len', 'frame.cap_len', 'frame.time_epoch', 'frame.encap_type', 'frame.interface_id'] as const;
/** tshark runs in parallel, bounded: the machine is shared. */
const CONCURRENCY = 2;

interface Disagreement {
  file: string;
  frame: string;
  field: string;
  original: string;
  copy: string;
}

interface TsharkView {
  rows: string[][];
  /** stderr lines that are about the file: tshark's "running as root" notice removed, and the process
   * id and clock time that tshark puts in log lines replaced, so two runs can be compared. */
  warnings: string[];
}

async function view(file: string): Promise<TsharkView> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t'];
  for (const f of FIELDS) args.push('-e', f);
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await tshark(args));
  } catch (err) {
    // tshark exits non-zero on a damaged file but still prints the frames before the damage.
    const e = err as { stdout?: string; stderr?: string };
    stdout = e.stdout ?? '';
    stderr = e.stderr ?? String(err);
  }
  const rows = stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  const warnings = stderr.split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('Running as user "root"'))
    .map((l) => l.replace(/\(tshark:\d+\) \d\d:\d\d:\d\d\.\d+/, '(tshark) TIME').replaceAll(file, 'FILE'));
  return { rows, warnings };
}

/**
 * Each record's timestamp in a plain (not gzip'd) pcap file as canonical "sec.nnnnnnnnn" text, with an
 * out-of-range fraction carried into the seconds; null for any other format or where the fraction is in
 * range (tshark is then the oracle).
 */
function outOfRangePcapTimes(file: string): (string | null)[] | null {
  const d = readFileSync(file);
  if (d.length < 24) return null;
  const magicLe = d.readUInt32LE(0);
  const magicBe = d.readUInt32BE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  if (!le && magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) return null;
  const nanos = (le ? magicLe : magicBe) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? d.readUInt32LE(o) : d.readUInt32BE(o));
  const perSec = nanos ? 1_000_000_000n : 1_000_000n;
  const times: (string | null)[] = [];
  for (let o = 24; o + 16 <= d.length; o += 16 + u32(o + 8)) {
    const frac = BigInt(u32(o + 4));
    if (frac < perSec) {
      times.push(null);
      continue;
    }
    const ns = BigInt(u32(o)) * 1_000_000_000n + frac * (1_000_000_000n / perSec);
    times.push(`${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`);
  }
  return times;
}

/** Frames whose time was judged from the record header instead of tshark (see the top of the file). */
const judgedFromHeader: string[] = [];

async function compare(entry: CorpusEntry, outDir: string, index: number): Promise<Disagreement[]> {
  const out = path.join(outDir, `${index}.pcapng`);
  const found: Disagreement[] = [];
  const add = (frame: string, field: string, original: string, copy: string): void => {
    found.push({ file: entry.path, frame, field, original, copy });
  };
  try {
    const converted = await convertToPcapng(entry.absPath, out);
    if (converted.error) add('-', 'reader', 'readable', converted.error.message);
  } catch (err) {
    add('-', 'convert', 'converted', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    return found;
  }
  const [orig, copy] = await Promise.all([view(entry.absPath), view(out)]);
  rmSync(out, { force: true });
  const expectedWarnings = new Set(orig.warnings);
  for (const w of copy.warnings) if (!expectedWarnings.has(w)) add('-', 'tshark stderr', '(as original)', w);
  if (orig.rows.length !== copy.rows.length) add('-', 'frames', String(orig.rows.length), String(copy.rows.length));
  const n = Math.min(orig.rows.length, copy.rows.length);
  let headerTimes: (string | null)[] | null | undefined;
  for (let i = 0; i < n; i++) {
    FIELDS.forEach((field, k) => {
      const a = orig.rows[i]![k] ?? '';
      const b = copy.rows[i]![k] ?? '';
      if (a === b) return;
      if (field === 'frame.interface_id' && a === '' && b === '0') return; // pcap: the one interface
      if (field === 'frame.time_epoch') {
        headerTimes ??= outOfRangePcapTimes(entry.absPath);
        const fromHeader = headerTimes?.[i];
        if (fromHeader) {
          judgedFromHeader.push(`${entry.path} frame ${i + 1}: tshark ${a}, header ${fromHeader}, copy ${b}`);
          if (fromHeader !== b) add(String(i + 1), field, `${fromHeader} (from header)`, b);
          return;
        }
      }
      add(String(i + 1), field, a, b);
    });
  }
  return found;
}

function table(rows: Disagreement[]): string {
  const head: Disagreement = { file: 'file', frame: 'frame', field: 'field', original: 'original', copy: 'copy' };
  const cols = ['file', 'frame', 'field', 'original', 'copy'] as const;
  const all = [head, ...rows];
  const width = cols.map((c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: Disagreement): string => `| ${cols.map((c, i) => r[c].padEnd(width[i]!)).join(' | ')} |`;
  return [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

test('every TCP capture of the corpus survives reader -> pcapng writer -> tshark unchanged', async () => {
  const entries = tcpCorpusEntries();
  assert.ok(entries.length > 0, 'the corpus has TCP captures');
  const outDir = mkdtempSync(path.join(tmpdir(), 'tcplens-roundtrip-'));
  const disagreements: Disagreement[] = [];
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < entries.length; i = next++) disagreements.push(...(await compare(entries[i]!, outDir, i)));
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  if (judgedFromHeader.length > 0) {
    console.log(`time judged from the record header (out-of-range sub-second field):\n  ${judgedFromHeader.sort().join('\n  ')}`);
  }
  disagreements.sort((a, b) => a.file.localeCompare(b.file) || Number(a.frame) - Number(b.frame));
  const files = new Set(disagreements.map((d) => d.file));
  if (disagreements.length > 0) {
    // At most 200 rows: the count says the rest.
    console.log(`${disagreements.length} disagreements in ${files.size} of ${entries.length} captures:\n${table(disagreements.slice(0, 200))}`);
  }
  assert.equal(disagreements.length, 0, `${disagreements.length} disagreements in ${files.size} of ${entries.length} captures (table above)`);
});
