/// <reference lib="dom" />
/**
 * Writes the report screenshots in docs/ (not a test: `node dist/test/report/screenshots.js` after a
 * build): the anomalies fixture's overview and over-time graphs, and the retransmission fixture's
 * time-sequence graph zoomed to its losses. Uses the same Chromium session as the browser tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir, repoRoot } from '../support/paths.js';
import { launchBrowser } from './browser.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-shots-'));
const session = await launchBrowser();
try {
  const make = async (capture: string, name: string) => {
    const out = path.join(dir, `${name}.html`);
    const r = await runCli(['report', capture, '-o', out], { timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(r.stderr);
    return session.open(out, { width: 1400, height: 1000 });
  };
  const a = await make(path.join(fixturesDir, 'scans/anomalies.pcap'), 'anomalies');
  await a.page.screenshot({ path: path.join(repoRoot, 'docs/report-overview.png') });
  await a.page.$eval('#anomalies', (e) => e.scrollIntoView());
  await a.page.screenshot({ path: path.join(repoRoot, 'docs/report-anomalies.png') });
  const s = await make(path.join(fixturesDir, 'scans/hping3.pcap'), 'scans');
  await s.page.bringToFront();
  await s.page.$eval('#scans', (e) => e.scrollIntoView());
  await s.page.screenshot({ path: path.join(repoRoot, 'docs/report-scans.png') });

  const b = await make(path.join(fixturesDir, 'report/retransmit-fast009.pcap'), 'retrans');
  await b.page.bringToFront();
  await b.page.click('#tbl-flows tbody tr');
  await b.page.waitForFunction(() => (window as any).tcplensReport.charts.tsg?.u);
  await b.page.evaluate(() => (window as any).tcplensReport.charts.tsg.u.setScale('x', { min: 0.1, max: 0.75 }));
  await b.page.$eval('#flow-panel', (e) => e.scrollIntoView());
  await b.page.screenshot({ path: path.join(repoRoot, 'docs/report-connection.png') });
} finally {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
}
