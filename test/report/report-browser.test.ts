/// <reference lib="dom" />
/**
 * `tcplens report` opened in real headless Chromium (Debian's /usr/bin/chromium through puppeteer-core)
 * with every network request failed: the page must need none, log no error, draw every chart with the
 * series and points the database holds (checked against other tcplens commands: query, seq, scans),
 * draw a connection's time-sequence graph when its row is clicked, and zoom when dragged or scrolled.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { chromiumUnavailableReason, launchBrowser, type BrowserSession, type OpenedPage } from './browser.js';

const FIXTURES = {
  retrans: path.join(fixturesDir, 'report/retransmit-fast009.pcap'),
  anomalies: path.join(fixturesDir, 'scans/anomalies.pcap'),
  loopback: path.join(fixturesDir, 'http-loopback.pcapng'),
  scans: path.join(fixturesDir, 'scans/hping3.pcap'),
};

const skip = chromiumUnavailableReason();
if (skip) console.log(`# report browser tests skipped: ${skip}`);

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await runCli([...args, '--format', 'json'], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

async function sql<T = Record<string, number>>(capture: string, query: string): Promise<T[]> {
  return cliJson<T[]>(['query', capture, query]);
}

interface ChartInfo {
  maxTop?: number;
  maxAck?: number;
  id: string;
  drawn: boolean;
  series: number;
  sourceSeries: number;
  sourcePoints: number;
  dataLength: number;
  sums: Record<string, number> | null;
  nonNull: number[];
  inkPixels: number;
  xMin: number;
  xMax: number;
}

/** What every registered chart holds and whether its canvas has ink on it. */
function chartInfo(page: OpenedPage['page']): Promise<ChartInfo[]> {
  return page.evaluate(() => {
    const charts = (window as unknown as { tcplensReport: { charts: Record<string, { u: any; source: any }> } }).tcplensReport.charts;
    return Object.entries(charts).map(([id, { u, source }]) => {
      if (!u) return { id, drawn: false, series: 0, sourceSeries: source.series.length, sourcePoints: source.points, dataLength: 0, sums: null, nonNull: [], inkPixels: 0, xMin: 0, xMax: 0 };
      const canvas: HTMLCanvasElement = u.ctx.canvas;
      const img = u.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) ink++;
      const nonNull = u.data.slice(1).map((a: (number | null)[]) => a.reduce((n: number, v) => n + (v === null || v === undefined ? 0 : 1), 0));
      return {
        id, drawn: true, series: u.series.length - 1, sourceSeries: source.series.length, sourcePoints: source.points,
        dataLength: u.data[0].length, sums: source.sums ?? null, nonNull, maxTop: source.maxTop, maxAck: source.maxAck, inkPixels: ink, xMin: u.scales.x.min, xMax: u.scales.x.max,
      };
    });
  });
}

describe('tcplens report in Chromium', { skip: skip ?? false }, () => {
  let dir: string;
  let browser: BrowserSession;
  const pages: Record<string, OpenedPage> = {};

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-report-test-'));
    browser = await launchBrowser();
    for (const [name, capture] of Object.entries(FIXTURES)) {
      const out = path.join(dir, `${name}.html`);
      const r = await runCli(['report', capture, '-o', out], { timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      pages[name] = await browser.open(out);
    }
    // The same retransmission capture with the long-connection reduction forced on (10 packets, 1 bin).
    const reduced = path.join(dir, 'reduced.html');
    const r = await runCli(['report', FIXTURES.retrans, '-o', reduced], { timeoutMs: 120_000, env: { TCPLENS_REPORT_FLOW_PACKETS: '10' } });
    assert.equal(r.status, 0, r.stderr);
    pages['reduced'] = await browser.open(reduced);
    // A capture with no packet at all: every section says (none), nothing throws.
    const empty = path.join(dir, 'empty.pcap');
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(1, 20);
    writeFileSync(empty, header);
    const e = await runCli(['report', empty, '-o', `${empty}.html`], { timeoutMs: 120_000 });
    assert.equal(e.status, 0, e.stderr);
    pages['empty'] = await browser.open(`${empty}.html`);
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('opens with no network request, no console error, every section drawn', async () => {
    for (const [name, p] of Object.entries(pages)) {
      assert.deepEqual(p.blocked, [], `${name}: requests attempted`);
      assert.deepEqual(p.errors, [], `${name}: console errors`);
      assert.equal(await p.page.evaluate(() => document.body.dataset['ready']), '1', name);
      for (const id of ['overview', 'capture', 'connections', 'scans', 'anomalies', 'isn']) {
        assert.ok(await p.page.$(`section#${id}`), `${name}: section ${id}`);
      }
    }
  });

  test('every chart holds the series and points of the database and has ink on its canvas', async () => {
    for (const [name, capture] of Object.entries(FIXTURES)) {
      const charts = await chartInfo(pages[name]!.page);
      assert.ok(charts.length >= 2, `${name}: charts`);
      for (const c of charts) {
        assert.ok(c.drawn, `${name}/${c.id} drawn`);
        assert.equal(c.series, c.sourceSeries, `${name}/${c.id}: series`);
        assert.ok(c.inkPixels > 0, `${name}/${c.id}: blank canvas`);
      }
      const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
      // Packets over time: every TCP packet is in exactly one bin.
      const [counts] = await sql(capture, 'SELECT count(*) AS n, sum(wire_len) AS bytes FROM packets');
      assert.equal(byId['packets']!.sums!['packets'], counts!['n'], `${name}: packets in the I/O graph`);
      assert.equal(byId['packets']!.sums!['bytes'], counts!['bytes'], `${name}: bytes in the I/O graph`);
      // Flags over time against `tcplens seq --frames`.
      const frames = await cliJson<{ flag: string }[]>(['seq', capture, '--frames']);
      const flagCounts: Record<string, number> = {};
      for (const f of frames) flagCounts[f.flag] = (flagCounts[f.flag] ?? 0) + 1;
      if (frames.length > 0) assert.deepEqual(byId['flags']!.sums, flagCounts, `${name}: flags over time`);
      else assert.equal(byId['flags'], undefined);
      // Connections by state against the flows table.
      const states = await sql<{ state: string; n: number }>(capture, 'SELECT state, count(*) AS n FROM flows GROUP BY state');
      assert.deepEqual(byId['states']!.sums, Object.fromEntries(states.map((s) => [s.state, s.n])), `${name}: states`);
      // Scans: one point per probe that `tcplens scans` counts.
      const scans = await cliJson<{ probes: number }[]>(['scans', capture]);
      if (scans.length > 0) {
        const total = scans.reduce((n, s) => n + s.probes, 0);
        assert.equal(byId['scans']!.sourcePoints, total, `${name}: probes`);
        assert.equal(byId['scans']!.nonNull.reduce((a, b) => a + b, 0), total, `${name}: probes drawn`);
      }
      // ISN plots: one chart per graded host and role, one point per sample `tcplens scans --show isn` counts.
      const isn = await cliJson<{ host: string; samples: number }[]>(['scans', capture, '--show', 'isn']);
      const isnCharts = charts.filter((c) => c.id.startsWith('isn-'));
      assert.equal(isnCharts.length, Math.min(isn.length, 24), `${name}: ISN charts`);
      assert.deepEqual(isnCharts.map((c) => c.nonNull[0]).sort(), isn.slice(0, 24).map((h) => h.samples).sort(), `${name}: ISN samples`);
    }
  });

  test('clicking a connection draws its time-sequence graph with every segment and ACK', async () => {
    const { page } = pages['retrans']!;
    await page.bringToFront();
    await page.click('#tbl-flows tbody tr');
    await page.waitForFunction(() => (window as any).tcplensReport.charts.tsg?.u, { timeout: 30_000 });
    const state = await page.evaluate(() => ({ dir: (window as any).tcplensReport.state.dir as number }));
    const [info] = (await chartInfo(page)).filter((c) => c.id === 'tsg');
    const fromClient = state.dir === 0;
    const [expect] = await sql(FIXTURES.retrans, `
      SELECT count(*) FILTER (WHERE from_client = ${fromClient} AND (payload_len > 0 OR flags & 3 <> 0 OR frame IN (SELECT frame FROM tcp_analysis))) AS segments,
             count(*) FILTER (WHERE from_client = ${!fromClient} AND flags & 16 <> 0) AS acks,
             count(*) FILTER (WHERE from_client = ${!fromClient} AND flags & 16 <> 0 AND sack_blocks IS NOT NULL) AS sacks,
             count(*) FILTER (WHERE from_client = ${fromClient} AND frame IN (SELECT frame FROM tcp_analysis WHERE flag::VARCHAR LIKE '%retransmission')) AS retrans,
             count(*) FILTER (WHERE from_client = ${!fromClient} AND frame IN (SELECT frame FROM tcp_analysis WHERE flag = 'duplicate_ack')) AS dupacks
      FROM packets WHERE flow_id = (SELECT min(flow_id) FROM flows)`);
    // Series: data, ACK, window edge, SACK, retransmission, out_of_order, lost_segment, duplicate_ack, zero_window.
    const [data, ack, edge, sack, retrans, ooo, lost, dup] = info!.nonNull;
    assert.equal(info!.series, 9);
    assert.equal(data! + retrans! + ooo! + lost!, expect!['segments'], 'every data segment drawn once');
    assert.equal(ack, expect!['acks']);
    assert.equal(edge, expect!['acks']);
    assert.equal(sack, expect!['sacks']);
    assert.ok(expect!['retrans']! > 0, 'the fixture has retransmissions in this direction');
    assert.equal(retrans, expect!['retrans']);
    assert.equal(dup, expect!['dupacks']);
    assert.ok(info!.inkPixels > 0);
  });

  test('a reduced long connection keeps its extremes and every flagged frame', async () => {
    const { page } = pages['reduced']!;
    await page.bringToFront();
    await page.click('#tbl-flows tbody tr');
    await page.waitForFunction(() => (window as any).tcplensReport.charts.tsg?.u, { timeout: 30_000 });
    const dir = await page.evaluate(() => (window as any).tcplensReport.state.dir as number);
    const info = (await chartInfo(page)).find((c) => c.id === 'tsg')!;
    const fromClient = dir === 0;
    const [truth] = await sql(FIXTURES.retrans, `
      WITH isn AS (SELECT from_client, arg_min(seq, frame) FILTER (WHERE flags & 2 <> 0) AS isn FROM packets GROUP BY 1),
      p AS (SELECT p.*, (p.seq::BIGINT - i.isn + 4294967296) % 4294967296 AS rseq, (p.ack::BIGINT - o.isn + 4294967296) % 4294967296 AS rack
            FROM packets p JOIN isn i ON i.from_client = p.from_client JOIN isn o ON o.from_client <> p.from_client)
      SELECT max(rseq + CASE WHEN payload_len = 0 AND flags & 3 <> 0 THEN 1 ELSE payload_len END) FILTER (WHERE from_client = ${fromClient}) AS top,
             max(rack) FILTER (WHERE from_client = ${!fromClient} AND flags & 16 <> 0) AS ack,
             count(*) FILTER (WHERE from_client = ${fromClient} AND payload_len > 0) AS segments,
             count(*) FILTER (WHERE from_client = ${fromClient} AND frame IN (SELECT frame FROM tcp_analysis WHERE flag::VARCHAR LIKE '%retransmission')) AS retrans,
             count(*) FILTER (WHERE from_client = ${!fromClient} AND frame IN (SELECT frame FROM tcp_analysis WHERE flag = 'duplicate_ack')) AS dupacks
      FROM p`);
    const [data, , , , retrans, , , dup] = info.nonNull;
    assert.ok(data! < truth!['segments']!, `reduced: ${data} of ${truth!['segments']} plain segments drawn`);
    assert.equal(retrans, truth!['retrans'], 'every retransmission kept');
    assert.equal(dup, truth!['dupacks'], 'every duplicate ACK kept');
    assert.equal(info.maxTop, truth!['top'], 'the highest segment end kept');
    assert.equal(info.maxAck, truth!['ack'], 'the highest ACK kept');
    assert.match(await page.$eval('#flow-panel', (e) => e.textContent ?? ''), /A long connection/);
  });

  test('a plot with more points than pixels draws the minimum and maximum of each pixel', async () => {
    const { page } = pages['anomalies']!;
    await page.bringToFront();
    const r = await page.evaluate(() => {
      const c = (window as any).tcplensReport.charts.packets;
      const full: { xs: Float64Array; ys: Float64Array[] } = c.full;
      const drawn: number[][] = c.u.data;
      return {
        bins: full.xs.length,
        pixels: c.u.bbox.width / devicePixelRatio,
        drawnPoints: drawn[0]!.length,
        fullMax: full.ys.map((y) => Math.max(...y)),
        drawnMax: drawn.slice(1).map((y) => Math.max(...y)),
        fullMin: full.ys.map((y) => Math.min(...y)),
        drawnMin: drawn.slice(1).map((y) => Math.min(...y)),
      };
    });
    assert.ok(r.bins > r.pixels, `the fixture has more bins (${r.bins}) than pixels (${r.pixels})`);
    assert.ok(r.drawnPoints <= 2 * Math.ceil(r.pixels) + 4 && r.drawnPoints < r.bins, `${r.drawnPoints} points drawn`);
    assert.deepEqual(r.drawnMax, r.fullMax, 'every spike survives');
    assert.deepEqual(r.drawnMin, r.fullMin);
  });

  test('dragging over a chart and turning the wheel zoom into the visible range; shift+drag pans', async () => {
    const { page } = pages['retrans']!;
    await page.bringToFront();
    const before = (await chartInfo(page)).find((c) => c.id === 'tsg')!;
    await page.$eval('#chart-tsg', (e) => e.scrollIntoView({ block: 'center' }));
    const box = (await (await page.$('#chart-tsg .u-over'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const zoomed = (await chartInfo(page)).find((c) => c.id === 'tsg')!;
    assert.ok(zoomed.xMin > before.xMin && zoomed.xMax < before.xMax, `drag zoom: ${before.xMin}..${before.xMax} -> ${zoomed.xMin}..${zoomed.xMax}`);

    // shift+drag pans: the range keeps its length and moves left when dragged right.
    const beforePan = (await chartInfo(page)).find((c) => c.id === 'tsg')!;
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const panned = (await chartInfo(page)).find((c) => c.id === 'tsg')!;
    const span = (c: ChartInfo) => c.xMax - c.xMin;
    assert.ok(panned.xMin < beforePan.xMin, `pan moves the range: ${beforePan.xMin} -> ${panned.xMin}`);
    assert.ok(Math.abs(span(panned) - span(beforePan)) < 1e-9 * Math.max(1, span(beforePan)), 'pan keeps the zoom');

    const pk = (await chartInfo(page)).find((c) => c.id === 'packets')!;
    await page.$eval('#chart-packets', (e) => e.scrollIntoView({ block: 'center' }));
    const pbox = (await (await page.$('#chart-packets .u-over'))!.boundingBox())!;
    await page.mouse.move(pbox.x + pbox.width / 2, pbox.y + pbox.height / 2);
    await page.mouse.wheel({ deltaY: -300 });
    await page.waitForFunction((min: number, max: number) => {
      const u = (window as any).tcplensReport.charts.packets.u;
      return u.scales.x.max - u.scales.x.min < max - min;
    }, { timeout: 10_000 }, pk.xMin, pk.xMax);
    const pz = (await chartInfo(page)).find((c) => c.id === 'packets')!;
    assert.ok(pz.xMax - pz.xMin < pk.xMax - pk.xMin, 'wheel zoom narrows the range');
    assert.ok(pz.xMin >= pk.xMin && pz.xMax <= pk.xMax);
  });
});
