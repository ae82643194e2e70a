/**
 * Detection delay (analyzer/scans/detection.ts): `detected_at` and `probes_to_detect` on every scan row,
 * and `--method trw` (Threshold Random Walk, Jung et al. 2004) against the default threshold method, on
 * captures of real scanners and real benign traffic (fixtures/scans/make.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fixturesDir } from '../support/paths.js';
import { BENIGN, scansOf } from './verdicts.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);

interface Row { scanner: string; kind: string; ports: number; targets: number; first_ts: string; last_ts: string; detected_at: string | null; probes_to_detect: number | null }
const rowsOf = async (name: string, method: string) => (await scansOf(fx(name), ['--method', method])) as unknown as Row[];

/** The SYN scans of the fixtures (nmap -sS on one host, IPv6, a sweep, a slow scan, with -O, with decoys;
 *  masscan; hping3 -S; four sources splitting ports). */
const SYN_SCANS = ['scan-syn', 'scan-ipv6', 'scan-sweep', 'scan-slow', 'scan-os', 'scan-decoy', 'scan-distributed', 'masscan'];

for (const name of SYN_SCANS) {
  test(`${name}: TRW finds the same scans as the threshold method, in fewer probes`, async () => {
    const threshold = await rowsOf(name, 'threshold');
    const trw = await rowsOf(name, 'trw');
    assert.ok(threshold.length > 0);
    assert.deepEqual(trw.map((s) => s.scanner).sort(), threshold.map((s) => s.scanner).sort());
    for (const t of threshold) {
      const w = trw.find((s) => s.scanner === t.scanner)!;
      assert.ok(w.probes_to_detect! < t.probes_to_detect!, `${name} ${t.scanner}: trw ${w.probes_to_detect}, threshold ${t.probes_to_detect}`);
      assert.ok(w.detected_at! < t.detected_at!, `${name} ${t.scanner}: trw at ${w.detected_at}, threshold at ${t.detected_at}`);
      // The same scan either way: same shape, same ports.
      assert.equal(w.kind, t.kind);
      assert.equal(w.ports, t.ports);
    }
  });
}

test('hping3 -S (25 ports): TRW after 4 probes, the threshold method after 15', async () => {
  const syn = (rows: Row[]) => rows.find((s) => s.scanner === '10.199.1.11')!;
  assert.equal(syn(await rowsOf('hping3', 'threshold')).probes_to_detect, 15);
  assert.equal(syn(await rowsOf('hping3', 'trw')).probes_to_detect, 4);
});

for (const name of BENIGN) {
  test(`${name}: no scan under --method trw either`, async () => {
    assert.deepEqual(await rowsOf(name, 'trw'), []);
  });
}

test('threshold: a vertical scan is detected at its 15th port, a sweep at its 16th host, between its first and last probe', async () => {
  const [syn] = await rowsOf('scan-syn', 'threshold');
  assert.equal(syn!.probes_to_detect, 15);
  const [sweep] = await rowsOf('scan-sweep', 'threshold');
  assert.equal(sweep!.probes_to_detect, 16);
  for (const s of [syn!, sweep!]) assert.ok(s.first_ts <= s.detected_at! && s.detected_at! <= s.last_ts, JSON.stringify(s));
});

test('TRW\'s known blind spots, as documented: a sweep where most hosts answer (zmap: 24 of 32 live) looks benign; a block scan that tries open port 80 on 20 hosts first is found later than by the threshold', async () => {
  assert.equal((await rowsOf('zmap', 'threshold')).length, 1);
  assert.deepEqual(await rowsOf('zmap', 'trw'), []);
  const [t] = await rowsOf('scan-block', 'threshold');
  const [w] = await rowsOf('scan-block', 'trw');
  assert.equal(w!.kind, 'block');
  assert.ok(w!.probes_to_detect! > t!.probes_to_detect!, `trw ${w!.probes_to_detect}, threshold ${t!.probes_to_detect}`);
});
