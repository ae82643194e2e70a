/**
 * One timestamp text everywhere: every read command, in every format, on one fixture, prints times only
 * as ISO 8601 UTC with nanoseconds (`2026-11-23T04:56:25.444221000Z`, as `info` always did), and the
 * commands that carry times print at least one. Export's CSV files and the report page are checked too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';

const FIXTURE = path.join(fixturesDir, 'scans/scan-syn.pcap');
/** Anything that looks like a date and a time, in any of the shapes DuckDB or JavaScript print. */
const ANY_TIME = /\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)?/g;
const ONE_FORMAT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

function timesIn(text: string): string[] {
  return text.match(ANY_TIME) ?? [];
}

function assertOneFormat(what: string, text: string, expectSome: boolean): void {
  const times = timesIn(text);
  if (expectSome) assert.ok(times.length > 0, `${what}: no timestamp printed`);
  for (const t of times) assert.match(t, ONE_FORMAT, `${what}: ${t}`);
}

const COMMANDS: { args: string[]; times: boolean }[] = [
  { args: ['info', FIXTURE], times: true },
  { args: ['analyze', FIXTURE], times: true },
  { args: ['seq', FIXTURE], times: false },
  { args: ['seq', FIXTURE, '--frames'], times: false },
  { args: ['scans', FIXTURE], times: true },
  { args: ['scans', FIXTURE, '--show', 'scans,anomalies,isn'], times: true },
  { args: ['query', FIXTURE, 'SELECT * FROM flows ORDER BY flow_id LIMIT 5'], times: true },
  { args: ['query', FIXTURE, 'SELECT ts, ts::TIMESTAMP AS us, first_ts FROM packets JOIN captures USING (capture_id) LIMIT 3'], times: true },
  { args: ['query', FIXTURE, 'SELECT * FROM captures'], times: true },
];

for (const { args, times } of COMMANDS) {
  for (const format of ['table', 'json', 'csv']) {
    test(`${args.filter((a) => a !== FIXTURE).join(' ')} --format ${format}: one timestamp format`, async () => {
      const r = await runCli([...args, '--format', format], { env: { TCPLENS_COLUMNS: '120' } });
      assert.equal(r.status, 0, r.stderr);
      assertOneFormat(`${args[0]} ${format}`, r.stdout, times);
    });
  }
}

test('export: the printed summary in every format and the CSV files use the one format', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-ts-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const format of ['table', 'json', 'csv']) {
    const out = path.join(dir, format);
    const r = await runCli(['export', FIXTURE, '--csv', out, '--format', format]);
    assert.equal(r.status, 0, r.stderr);
    assertOneFormat(`export ${format}`, r.stdout, false);
    for (const file of readdirSync(out)) {
      const text = readFileSync(path.join(out, file), 'utf8');
      assertOneFormat(`export ${format} ${file}`, text, ['captures.csv', 'packets.csv', 'flows.csv'].includes(file));
    }
  }
});

test('report: the page\'s tables use the one format', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-ts-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const html = path.join(dir, 'r.html');
  const r = await runCli(['report', FIXTURE, '-o', html]);
  assert.equal(r.status, 0, r.stderr);
  const meta = /<script type="application\/json" id="tcplens-meta">([\s\S]*?)<\/script>/.exec(readFileSync(html, 'utf8'));
  assert.ok(meta);
  const parsed = JSON.parse(meta[1]!) as { generated: string; flows: unknown; scans: unknown; overview: unknown };
  assertOneFormat('report tables', JSON.stringify([parsed.flows, parsed.scans, parsed.overview]), true);
});
