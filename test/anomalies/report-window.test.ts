/**
 * `analyze` loads only the packet rows its sections read (LoadOptions.tables 'report',
 * analyzer/db/report-window.ts); every other load writes every packet. Both must give the same report and
 * the same full tables behind it (every anomaly finding, every scan, the ISN grades, each flagged frame's
 * connection): the window may drop rows, never change a result. Also for a capture set cut so that
 * connections, their RSTs and their window updates straddle files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { reportOf } from '../support/report-tables.js';
import { corpusDir, fixturesDir } from '../support/paths.js';

const fx = (dir: string, name: string) => path.join(fixturesDir, dir, `${name}.pcap`);

// Blind resets, invalid flags, tiny and zero windows, SYN floods (anomalies); probes of each type; bulk,
// retried and busy connections (long flows the window cuts); Zeek's RST states; a lossy bulk transfer.
const CAPTURES = [
  fx('scans', 'anomalies'), fx('scans', 'scan-syn'), fx('scans', 'scan-connect'), fx('scans', 'scan-fin'), fx('scans', 'scan-os'),
  fx('scans', 'hping3'), fx('scans', 'masscan'), fx('scans', 'benign-bulk'), fx('scans', 'benign-busy'), fx('scans', 'benign-retry'),
  fx('scans', 'benign-browser'), fx('flows', 'rsto'), fx('flows', 'rstr'), fx('flows', 'rstos0'), fx('flows', 'reused-ports'),
  fx('sets', 'lossy-bulk'), fx('report', 'retransmit-fast009'), fx('tshark', 'syn-ack-after-rst-predata'),
  // Downloads ended by RSTs long after their last written row: judged on the held packets alone (without
  // them this capture's blind-reset findings differ).
  path.join(corpusDir, 'zeek/http/206_example_b.pcap'),
];

test('analyze reports the same from the report window as from every packet', async () => {
  for (const file of CAPTURES) {
    assert.deepEqual(await reportOf([file], 'report'), await reportOf([file], 'all'), path.basename(file));
  }
});

test('the same for a capture set whose connections straddle the cuts', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-report-window-'));
  try {
    for (const [group, name] of [['scans', 'anomalies'], ['sets', 'lossy-bulk']] as const) {
      // 97 packets per piece: handshakes, window updates and RSTs land on both sides of cuts.
      execFileSync('editcap', ['-c', '97', fx(group, name), path.join(dir, `${name}.pcap`)]);
      const parts = readdirSync(dir).filter((f) => f.startsWith(`${name}_`)).map((f) => path.join(dir, f));
      assert.ok(parts.length >= 3, `${name}: ${parts.length} pieces`);
      assert.deepEqual(await reportOf(parts, 'report'), await reportOf(parts, 'all'), name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
