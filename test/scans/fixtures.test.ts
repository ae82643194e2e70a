import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fixturesDir } from '../support/paths.js';
import { BENIGN, HPING3_EXPECTED, NMAP_RECIPES, assertScans, nmapVerdict, scansOf } from './verdicts.js';

const dir = path.join(fixturesDir, 'scans');

for (const [name, kind] of Object.entries(NMAP_RECIPES)) {
  test(`${name}.pcap: reported as nmap itself saw it (${name}.nmap.xml)`, async () => {
    assertScans(name, await scansOf(path.join(dir, `${name}.pcap`)), [nmapVerdict(path.join(dir, `${name}.nmap.xml`), kind)]);
  });
}

test('hping3.pcap: five crafted scans, one per source and probe type', async () => {
  assertScans('hping3', await scansOf(path.join(dir, 'hping3.pcap')), HPING3_EXPECTED);
});

for (const name of BENIGN) {
  test(`${name}.pcap: benign traffic is never a scan`, async () => {
    assert.deepEqual(await scansOf(path.join(dir, `${name}.pcap`)), []);
  });
}

test('all fixtures loaded together: each scan found once, nothing else', async () => {
  const files = [...Object.keys(NMAP_RECIPES), 'hping3', ...BENIGN].map((n) => path.join(dir, `${n}.pcap`));
  const scans = await scansOf(files[0]!, files.slice(1));
  assert.equal(scans.length, Object.keys(NMAP_RECIPES).length + HPING3_EXPECTED.length);
});
