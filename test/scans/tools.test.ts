/**
 * The scanner's tool (analyzer/scans/tools.ts) on captures of the real tools (fixtures/scans/make.sh:
 * Debian's nmap -sS -sT -sF -sA -O, masscan, zmap, hping3 between two namespaces). live.test.ts checks
 * the same on fresh runs in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * scan-connect.pcap with `pairs` more source-port collisions: the connect() probe k+1 takes probe k's
 * source port (both directions of its flow), as Linux's hash-based ephemeral port choice does now and
 * then over 1,000 ports. Classic pcap, Ethernet/IPv4 (what make.sh writes).
 */
function withSportCollisions(src: string, dst: string, pairs: number): void {
  const buf = Buffer.from(readFileSync(src));
  const frames: { sportAt: number; dportAt: number; fromScanner: boolean; syn: boolean }[] = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const incl = buf.readUInt32LE(off + 8);
    const ip = off + 16 + 14;
    const tcp = ip + (buf[ip]! & 0x0f) * 4;
    const flags = buf[tcp + 13]!;
    frames.push({ sportAt: tcp, dportAt: tcp + 2, fromScanner: buf.readUInt32BE(ip + 12) === 0x0ac70102, syn: (flags & 0x12) === 0x02 });
    off += 16 + incl;
  }
  const synPorts = frames.filter((f) => f.fromScanner && f.syn).map((f) => buf.readUInt16BE(f.sportAt));
  const rename = new Map<number, number>();
  for (let k = 0; k < pairs; k++) rename.set(synPorts[4 * k + 1]!, synPorts[4 * k]!);
  for (const f of frames) {
    const at = f.fromScanner ? f.sportAt : f.dportAt;
    const to = rename.get(buf.readUInt16BE(at));
    if (to !== undefined) buf.writeUInt16BE(to, at);
  }
  writeFileSync(dst, buf, { mode: 0o600 });
}

test('a connect() scan whose probes share a few source ports (Linux hash collisions) still names connect at 0.8', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-tools-'));
  try {
    const file = path.join(dir, 'collide.pcap');
    // 20 more pairs in ~200 probes: twice the share CI saw when the mean fell to 0.79.
    withSportCollisions(fx('scan-connect'), file, 20);
    const shared = await runCli(['query', file, `SELECT count(*) AS n FROM (SELECT sport FROM packets
      WHERE src = '10.199.1.2' AND flags & 18 = 2 GROUP BY sport HAVING count(DISTINCT dport) > 1)`, '--format', 'json']);
    assert.equal(shared.status, 0, shared.stderr);
    assert.ok((JSON.parse(shared.stdout) as { n: number }[])[0]!.n >= 20, shared.stdout);
    await assertTool('scan-connect', file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
