import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openCaptures } from '../../analyzer/index.js';
import { renderReport } from '../../analyzer/cli/analyze.js';
import { SCAN_REPORT_SECTIONS, anomaliesSection, isnSection, scansSection } from '../../analyzer/cli/scans-report.js';
import { fixturesDir } from '../support/paths.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);

test('analyze report sections: scans, anomaly kinds, ISN grades of the hosts in the captures', async () => {
  const lens = await openCaptures([fx('scan-syn'), fx('anomalies'), fx('benign-http')]);
  try {
    const scans = await scansSection.build(lens, { top: 10 });
    assert.deepEqual(scans.rows.map((r) => [r['scanner'], r['kind'], r['port_ranges']]), [['10.199.1.1', 'vertical', '1-200,2222,8080']]);

    const anomalies = await anomaliesSection.build(lens, { top: 10 });
    assert.deepEqual(anomalies.rows.map((r) => r['kind']), [
      'syn_fin', 'syn_rst', 'no_ack_flags', 'reserved_bits', 'blind_reset', 'syn_flood', 'zero_window', 'tiny_window', 'isn_predictable',
    ]);
    assert.equal(anomalies.rows.find((r) => r['kind'] === 'syn_fin')!['findings'], 3);

    const isn = await isnSection.build(lens, { top: 10 });
    // The predictable generator first, then Linux's random ones (client and server of the HTTP capture).
    assert.deepEqual(isn.rows[0]!['host'], '10.199.1.19');
    assert.equal(isn.rows[0]!['class'], 'constant');
    const linux = isn.rows.filter((r) => r['host'] === '10.199.0.2' && r['role'] === 'synack');
    assert.equal(linux.length, 1);
    assert.equal(linux[0]!['class'], 'random');

    const built = [];
    for (const section of SCAN_REPORT_SECTIONS) built.push({ section, ...(await section.build(lens, { top: 10 })) });
    const doc = JSON.parse(renderReport(built, 'json')) as Record<string, unknown[]>;
    assert.deepEqual(Object.keys(doc), ['scans', 'anomalies', 'isn']);
    assert.match(renderReport(built, 'table'), /^Scans \(vertical/);
  } finally {
    await lens.close();
  }
});
