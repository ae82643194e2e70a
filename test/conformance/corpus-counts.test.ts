/**
 * Every capture in the corpus through the real CLI (`tcplens info --format json`, many files per call):
 * `packets` and `tcp_packets` must equal what tshark 4.0 counted (INDEX.tsv). Every disagreement is
 * printed as a table, and any one fails the test.
 *
 * Expectations by tshark's status (docs/readers.md says why):
 * - ok / warn: packets + custom_blocks == INDEX packets (tshark shows pcapng custom blocks as frames;
 *   they are not packets), tcp_packets == INDEX tcp_packets, partial false.
 * - BROKEN because tshark does not support the link type: the file is fine, so we read every record:
 *   packets == what `tcpdump --count` (libpcap, which reads any link type) counts, tcp_packets 0, a
 *   warning names the link type, partial false.
 * - BROKEN otherwise (unsupported version, damaged): partial true and the packets tshark got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCli } from '../support/cli.js';
import { corpusEntries, type CorpusEntry } from '../support/corpus.js';
import { expectedTcpPackets } from '../support/tshark.js';

const run = promisify(execFile);
const FILES_PER_CALL = 80;

interface InfoJson {
  path: string;
  packets: number;
  tcp_packets: number;
  custom_blocks: number;
  partial: boolean;
  warnings: string[];
}

type Kind = 'ok' | 'unsupported-linktype' | 'refused';

function kindOf(e: CorpusEntry): Kind {
  if (!e.tsharkStatus.startsWith('BROKEN')) return 'ok';
  return /network type \d+ unknown or unsupported/.test(e.tsharkStatus) ? 'unsupported-linktype' : 'refused';
}

/** libpcap's count of records, for files whose link type tshark refuses. */
async function tcpdumpCount(file: string): Promise<number> {
  const { stdout } = await run('tcpdump', ['--count', '-r', file]);
  const m = /(\d+) packets?/.exec(stdout);
  if (!m) throw new Error(`tcpdump --count gave no count for ${file}: ${stdout}`);
  return Number(m[1]);
}

interface Row {
  path: string;
  kind: Kind;
  field: string;
  expected: string;
  got: string;
}

let gathered: Promise<{ infos: Map<string, InfoJson>; entries: CorpusEntry[] }> | undefined;

/** Runs the CLI once over the whole corpus (in batches) and shares the result between the tests. */
function gather(): Promise<{ infos: Map<string, InfoJson>; entries: CorpusEntry[] }> {
  gathered ??= (async () => {
    const entries = corpusEntries();
    assert.ok(entries.length > 500, `corpus INDEX has ${entries.length} rows`);
    const infos = new Map<string, InfoJson>();
    for (let i = 0; i < entries.length; i += FILES_PER_CALL) {
      const batch = entries.slice(i, i + FILES_PER_CALL);
      const r = await runCli(['info', '--format', 'json', ...batch.map((e) => e.absPath)], { timeoutMs: 300_000 });
      assert.ok(r.status === 0 || r.status === 1, `info exit status ${r.status}: ${r.stderr.slice(0, 500)}`);
      const parsed = JSON.parse(r.stdout) as InfoJson[];
      assert.equal(parsed.length, batch.length, 'one result per file');
      for (const info of parsed) infos.set(info.path, info);
    }
    return { infos, entries };
  })();
  return gathered;
}

function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const cols = ['path', 'kind', 'field', 'expected', 'got'] as const;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${title}: ${rows.length} disagreement(s)`);
  console.log(line([...cols]));
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}

test('corpus: packets per file agree with tshark (and with libpcap where tshark lacks the link type)', async () => {
  const { infos, entries } = await gather();
  const rows: Row[] = [];
  for (const e of entries) {
    const info = infos.get(e.absPath)!;
    const kind = kindOf(e);
    const add = (field: string, expected: unknown, got: unknown) => rows.push({ path: e.path, kind, field, expected: String(expected), got: String(got) });
    if (kind === 'ok') {
      if (info.packets + info.custom_blocks !== e.packets) add('packets+custom_blocks', e.packets, `${info.packets}+${info.custom_blocks}`);
      if (info.partial) add('partial', false, `true (${info.warnings.at(-1)})`);
    } else if (kind === 'unsupported-linktype') {
      const expected = await tcpdumpCount(e.absPath);
      if (info.packets !== expected) add('packets (tcpdump --count)', expected, info.packets);
      if (info.partial) add('partial', false, `true (${info.warnings.at(-1)})`);
      if (!info.warnings.some((w) => /^link type \d+ is not decoded/.test(w))) add('warnings', 'link type N is not decoded', info.warnings.join('; ') || '(none)');
    } else {
      if (info.packets !== e.packets) add('packets', e.packets, info.packets);
      if (!info.partial) add('partial', true, false);
    }
  }
  printTable('packets', rows);
  assert.equal(rows.length, 0, `${rows.length} packet-count disagreements (table above)`);
});

test('corpus: tcp_packets per file agree with tshark (decoder)', async () => {
  const { infos, entries } = await gather();
  const rows: Row[] = [];
  for (const e of entries) {
    const info = infos.get(e.absPath)!;
    const kind = kindOf(e);
    // tshark dissects nothing in files it refuses; we read unsupported link types but find no TCP in them.
    const expected = kind === 'ok' ? await expectedTcpPackets(e) : 0;
    if (info.tcp_packets !== expected) rows.push({ path: e.path, kind, field: 'tcp_packets', expected: String(expected), got: String(info.tcp_packets) });
  }
  printTable('tcp_packets', rows);
  assert.equal(rows.length, 0, `${rows.length} tcp_packets disagreements (table above)`);
});
