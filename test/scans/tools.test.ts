/**
 * The scanner's tool (analyzer/scans/tools.ts) on captures of the real tools (fixtures/scans/make.sh:
 * Debian's nmap -sS -sT -sF -sA -O, masscan, zmap, hping3 between two namespaces). live.test.ts checks
 * the same on fresh runs in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { TOOL_EXPECTED, assertTool, scansOf } from './verdicts.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);

for (const name of Object.keys(TOOL_EXPECTED)) {
  test(`${name}.pcap: the scan names ${TOOL_EXPECTED[name]!.tool} with the matching fields`, async () => {
    await assertTool(name, fx(name));
  });
}

test('nmap -O: the OS-detection probes are their own probe type and the scan still finds what nmap found', async () => {
  const [scan] = await scansOf(fx('scan-os'));
  assert.deepEqual(scan!.probe_types, ['syn', 'os']);
  assert.deepEqual(scan!.open_ports, [80, 2222, 8080]);
});

test('scan_probes carries each probe frame\'s tool; the OS probes of nmap -O say so', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-tools-'));
  try {
    const db = path.join(dir, 'os.duckdb');
    assert.equal((await runCli(['scans', fx('scan-os'), '--db', db])).status, 0);
    const q = await runCli(['query', db,
      `SELECT tool, list_contains(tool_evidence, 'os-probe:tsval=0xFFFFFFFF,tsecr=0') AS os, count(*) AS n
       FROM scan_probes GROUP BY ALL ORDER BY ALL`, '--format', 'json']);
    assert.equal(q.status, 0, q.stderr);
    const rows = JSON.parse(q.stdout) as { tool: string; os: boolean; n: number }[];
    assert.deepEqual(rows.map((r) => [r.tool, r.os]), [['nmap', false], ['nmap', true]]);
    // nmap sends its SEQ probes (6), T2-T7 (6) and retries of some: at least 12 OS probe frames.
    assert.ok(rows.find((r) => r.os)!.n >= 12, JSON.stringify(rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('benign traffic never gets a tool: no scan rows at all', async () => {
  for (const name of ['benign-http', 'benign-browser', 'benign-data-ports']) assert.deepEqual(await scansOf(fx(name)), []);
});
