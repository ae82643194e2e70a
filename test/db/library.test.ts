/**
 * The library API as a user's test would use it: typed flows and flags, SQL, and damaged input that
 * keeps every packet before the damage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureError, RuntimeError, openCaptures } from '../../analyzer/index.js';
import { runCli } from '../support/cli.js';
import { corpusDir, fixturesDir } from '../support/paths.js';

const ECHO = path.join(corpusDir, 'zeek/echo-connections.pcap.gz');

test('flows() and flags() are typed rows that agree with the tables', async () => {
  const lens = await openCaptures([ECHO]);
  try {
    const flows = await lens.flows();
    assert.equal(flows.length, 500);
    assert.ok(flows.every((f) => typeof f.flow_id === 'number' && typeof f.client === 'string' && typeof f.history === 'string'));
    const sf = await lens.flows(`state = 'SF'`);
    assert.equal(sf.length, flows.filter((f) => f.state === 'SF').length);

    const flags = await lens.flags();
    const count = await lens.query('SELECT count(*) AS n FROM tcp_analysis');
    assert.equal(flags.length, count.rows[0]!['n']);
    assert.ok(flags.length > 0);
    const flowIds = new Set(flows.map((f) => f.flow_id));
    for (const f of flags) assert.ok(f.flow_id !== null && flowIds.has(f.flow_id), `frame ${f.frame} belongs to a flow`);
    const keepAlive = await lens.flags(`flag = 'keep_alive'`);
    assert.deepEqual(keepAlive, flags.filter((f) => f.flag === 'keep_alive'));

    await assert.rejects(lens.query('SELECT nope FROM flows'), (err: unknown) => err instanceof RuntimeError && /^SQL error: Binder Error/.test(err.message));
  } finally {
    await lens.close();
  }
});

test('a capture cut inside its last packet: the packets before the damage load, the damage is one CaptureError', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-lib-test-'));
  try {
    const whole = path.join(fixturesDir, 'flows/sf.pcap');
    const cut = path.join(dir, 'sf-cut.pcap');
    writeFileSync(cut, readFileSync(whole).subarray(0, statSync(whole).size - 30));
    const lens = await openCaptures([cut]);
    try {
      assert.equal(lens.errors.length, 1);
      assert.ok(lens.errors[0] instanceof CaptureError);
      assert.match(lens.errors[0]!.message, new RegExp(`^${cut}: at byte \\d+: expected`));
      assert.equal(lens.captures[0]!.partial, true);
      const r = await lens.query('SELECT count(*) AS n, max(frame) AS last FROM packets');
      assert.deepEqual(r.rows[0], { n: 11, last: 11 });
      const caps = await lens.query('SELECT partial, error FROM captures');
      assert.equal(caps.rows[0]!['partial'], true);
      assert.equal(caps.rows[0]!['error'], lens.errors[0]!.message);
    } finally {
      await lens.close();
    }
    // The CLI prints the result for the 11 packets, the damage on stderr, and exits 1.
    const cli = await runCli(['query', cut, 'SELECT count(*) AS n FROM packets', '--format', 'csv']);
    assert.equal(cli.status, 1);
    assert.equal(cli.stdout, 'n\n11\n');
    assert.match(cli.stderr.trim(), new RegExp(`^tcplens: ${cut}: at byte \\d+: expected [^\\n]+$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
