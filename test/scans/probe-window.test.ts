/**
 * `scans` loads only the packets of connections that may still be probes (analyzer/db/probe-window.ts);
 * with --db it loads every packet. Both must find the same scans, to the field: the window may drop
 * rows, never change a result. And the captures of one recording cut into pieces give the scans of the
 * uncut file: a probe whose packets straddle a cut is still one probe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixturesDir } from '../support/paths.js';
import { scansOf } from './verdicts.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);

// Every probe type, the tools, the slow and split scans, and the benign captures with long, busy,
// retried and repeated connections (the window cuts those).
const CAPTURES = ['scan-syn', 'scan-connect', 'scan-os', 'scan-fin', 'scan-ack', 'scan-slow', 'scan-split', 'scan-distributed',
  'masscan', 'hping3', 'benign-bulk', 'benign-busy', 'benign-retry', 'benign-health', 'benign-clients', 'anomalies'];

test('scans finds the same scans from the probe window as from every packet (--db), by either method', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-window-'));
  try {
    for (const name of CAPTURES) {
      for (const method of ['threshold', 'trw']) {
        const windowed = await scansOf(fx(name), ['--method', method]);
        const full = await scansOf(fx(name), ['--method', method, '--db', path.join(dir, `${name}-${method}.duckdb`)]);
        assert.deepEqual(windowed, full, `${name} --method ${method}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a connect scan cut into 7 files gives the uncut file\'s scans: probes straddling a cut stay whole', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-window-'));
  try {
    // 61 packets per piece: an odd count, so many SYN / SYN-ACK / ACK / RST exchanges straddle a cut.
    execFileSync('editcap', ['-c', '61', fx('scan-connect'), path.join(dir, 'part.pcap')]);
    const parts = readdirSync(dir).filter((f) => f.startsWith('part')).map((f) => path.join(dir, f));
    assert.ok(parts.length >= 7, `${parts.length} pieces`);
    const whole = await scansOf(fx('scan-connect'));
    assert.equal(whole.length, 1);
    assert.deepEqual(await scansOf(parts[0]!, parts.slice(1)), whole);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
