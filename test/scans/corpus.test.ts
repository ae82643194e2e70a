/**
 * Every capture of ../shared/corpus goes through scan detection and the anomaly findings without an
 * error (damaged captures are loaded up to the damage, as everywhere). What each one reports is pinned
 * here and explained in docs/scans-corpus.md: no capture holds a scan at the default thresholds; the
 * anomaly findings below were each checked by hand against tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCaptures } from '../../analyzer/index.js';
import { findScans } from '../../analyzer/scans/index.js';
import { findAnomalies } from '../../analyzer/anomalies/index.js';
import { corpusEntries } from '../support/corpus.js';
import { runCli } from '../support/cli.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { corpusDir, fixturesDir } from '../support/paths.js';

/** Anomaly kinds and counts per capture (docs/scans-corpus.md says why each is right). */
const EXPECTED_ANOMALIES: Record<string, Record<string, number>> =
{
    "tcpdump/babel_update_oobr.pcap": {
      "reserved_bits": 2
    },
    "tcpdump/beep-oobr.pcap": {
      "reserved_bits": 1
    },
    "tcpdump/bgp-bgp_capabilities_print-oobr-1.pcap": {
      "reserved_bits": 1
    },
    "tcpdump/bgp-bgp_capabilities_print-oobr-2.pcap": {
      "reserved_bits": 1
    },
    "tcpdump/bgp_mp_reach_nlri-oobr.pcap": {
      "null_flags": 1
    },
    "tcpdump/bgp_mvpn_6_and_7_oobr.pcap": {
      "null_flags": 1
    },
    "tcpdump/bgp_pmsi_tunnel-oobr.pcap": {
      "null_flags": 1
    },
    "tcpdump/bgp_vpn_rt-oobr.pcap": {
      "null_flags": 1
    },
    "tcpdump/geneve-gcp.pcap": {
      "null_flags": 1
    },
    "tcpdump/heapoverflow-tcp_print.pcap": {
      "reserved_bits": 1
    },
    "tcpdump/rpki-rtr-oobr.pcap": {
      "null_flags": 1
    },
    "tcpdump/tcp-auth-heapoverflow.pcap": {
      "reserved_bits": 1
    },
    "tcpdump/tcp_eight_lowest_weight_flags_set.pcap": {
      "syn_fin": 1
    },
    "zeek/http/206_example_b.pcap": {
      "zero_window": 1
    },
    "zeek/ipv4/fragmented-4.pcap": {
      "no_ack_flags": 1,
      "null_flags": 1
    },
    "zeek/modbus/fuzz-72.pcap": {
      "syn_fin": 1,
      "no_ack_flags": 1
    },
    "zeek/rotation.pcap": {
      "isn_predictable": 2
    },
    "zeek/tcp/fin_retransmission.pcap": {
      "no_ack_flags": 1
    },
    "zeek/tcp/rst-inject-rae.pcap": {
      "reserved_bits": 1,
      "blind_reset": 1
    },
    "zeek/tcp/syn-then-stuff-then-rst.pcap": {
      "no_ack_flags": 1
    },
    "zeek/tunnels/gre-aruba.pcap": {
      "zero_window": 5
    }
  }
;

test('every corpus capture: scans and anomalies run without error; no scan at the defaults; anomalies as documented', { timeout: 900_000 }, async () => {
  const found: Record<string, Record<string, number>> = {};
  const scanned: string[] = [];
  for (const entry of corpusEntries()) {
    const lens = await openCaptures([entry.absPath]);
    try {
      const scans = await findScans(lens.db);
      if (scans.length > 0) scanned.push(entry.path);
      const kinds: Record<string, number> = {};
      for (const a of await findAnomalies(lens.db)) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
      if (Object.keys(kinds).length > 0) found[entry.path] = kinds;
    } finally {
      await lens.close();
    }
  }
  assert.deepEqual(scanned, []);
  assert.deepEqual(found, EXPECTED_ANOMALIES);
});

test('zeek/rotation.pcap holds two slow 10-port SYN scans, found with --min-ports 10 (one probe an hour)', async () => {
  const r = await runCli(['scans', path.join(corpusDir, 'zeek/rotation.pcap'), '--min-ports', '10', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const scans = JSON.parse(r.stdout) as { scanner: string; kind: string; probe_types: string[]; ports: number; port_ranges: string; duration_s: number }[];
  assert.deepEqual(scans.map((s) => [s.scanner, s.kind, s.probe_types, s.ports, s.port_ranges]), [
    ['10.0.0.1', 'vertical', ['syn'], 10, '1024-1033'],
    ['10.0.0.2', 'vertical', ['syn'], 10, '0-9'],
  ]);
  assert.ok(scans.every((s) => s.duration_s === 32400));
  // With a window shorter than the hour between probes, each probe stands alone: no scan.
  const split = await runCli(['scans', path.join(corpusDir, 'zeek/rotation.pcap'), '--min-ports', '10', '--window', '3599', '--format', 'json']);
  assert.deepEqual(JSON.parse(split.stdout), []);
});

test('a capture cut short: the scan in the packets before the cut is still reported, one line on stderr, exit 1', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-cut-'));
  try {
    const whole = readFileSync(path.join(fixturesDir, 'scans', 'scan-syn.pcap'));
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6) + 7), { mode: 0o600 });
    const r = await runCli(['scans', cut, '--format', 'json']);
    assert.equal(r.status, 1);
    const scans = JSON.parse(r.stdout) as { scanner: string; ports: number }[];
    assert.equal(scans.length, 1);
    assert.equal(scans[0]!.scanner, '10.199.1.1');
    assert.ok(scans[0]!.ports > 50 && scans[0]!.ports < 202, `${scans[0]!.ports} ports before the cut`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /cut\.pcap: at byte \d+: expected/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
