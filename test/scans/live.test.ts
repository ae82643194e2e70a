/**
 * The real thing, live: fixtures/scans/make.sh runs nmap (-sS -sT -sF -sN -sX -sA -sM -sW -O -D, IPv6, a
 * 24-host sweep, a slow scan), masscan, zmap, hping3 and benign traffic between two fresh network namespaces,
 * recorded by tcpdump and by `tcplens record` on the same veth end. Every capture must
 * be reported exactly as nmap itself saw the scan (its -oX file), the hping3 recipe says, or not at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { cliPath, fixturesDir } from '../support/paths.js';
import { netnsUnavailableReason } from '../support/netns.js';
import {
  BENIGN, HPING3_EXPECTED, NMAP_RECIPES, TOOL_EXPECTED, assertDecoyGroup, assertDistributedGroup, assertScans, assertSplitGroup, assertTool, nmapVerdict, scansOf,
} from './verdicts.js';

const skip = netnsUnavailableReason();
const makeScript = path.join(fixturesDir, 'scans', 'make.sh');

/** Runs make.sh with a hard time limit; resolves with its stderr (progress lines), rejects on failure. */
function make(out: string, recipes: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // No recipe = every recipe.
    const child = spawn(makeScript, [out, ...recipes], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // SIGTERM lets make.sh's trap delete its namespaces and kill what it started.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stderr);
      else reject(new Error(`make.sh ${recipes.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

test('live nmap, hping3 and benign runs between namespaces are reported exactly', { skip: skip ?? false, timeout: 480_000 }, async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'tcplens-live-scans-'));
  try {
    const log = await make(out, [], { TCPLENS_CLI: cliPath }, 400_000);
    const both = (name: string) => [
      [`${name} (tcpdump)`, path.join(out, `${name}.pcap`)],
      [`${name} (tcplens record)`, path.join(out, `${name}.tcplens.pcapng`)],
    ] as const;

    for (const [name, kind] of Object.entries(NMAP_RECIPES)) {
      const expected = [nmapVerdict(path.join(out, `${name}.nmap.xml`), kind)];
      await t.test(`${name} (tcpdump)`, async () => assertScans(name, await scansOf(path.join(out, `${name}.pcap`)), expected));
      await t.test(`${name} (tcplens record)`, async () => {
        const file = path.join(out, `${name}.tcplens.pcapng`);
        assert.ok(existsSync(file), `tcplens record made no ${name}.tcplens.pcapng: ${log}`);
        assertScans(`${name} recorded by tcplens`, await scansOf(file), expected);
      });
    }
    // The scanner's tool: nmap -sS -sT -sF -sA -O, masscan, zmap, hping3 (masscan and zmap send from
    // their own raw-socket stacks, given the veth, a source address and the server's MAC as router).
    for (const name of Object.keys(TOOL_EXPECTED)) {
      for (const [label, file] of both(name)) {
        await t.test(`${label}: tool ${TOOL_EXPECTED[name]!.tool}`, async () => assertTool(name, file));
      }
    }
    for (const [label, file] of both('scan-decoy')) await t.test(`${label}: one decoy group of 6 sources`, () => assertDecoyGroup(file));
    for (const [label, file] of both('scan-distributed')) await t.test(`${label}: one distributed group of 4`, () => assertDistributedGroup(file));
    for (const [label, file] of both('scan-split')) await t.test(`${label}: one distributed group of 5 below the thresholds`, () => assertSplitGroup(file));
    for (const [label, file] of both('hping3')) {
      await t.test(label, async () => assertScans(label, await scansOf(file), HPING3_EXPECTED));
    }
    for (const name of BENIGN) {
      for (const [label, file] of both(name)) {
        await t.test(`${label}: no scan`, async () => assert.deepEqual(await scansOf(file), []));
      }
    }
    for (const [label, file] of both('anomalies')) {
      await t.test(`${label}: every kind the recipe makes is found, and --fail-on anomaly exits 4`, async () => {
        const r = await runCli(['scans', file, '--show', 'anomalies', '--format', 'json', '--fail-on', 'anomaly']);
        assert.equal(r.status, 4, r.stderr);
        const kinds = new Set((JSON.parse(r.stdout) as { kind: string }[]).map((f) => f.kind));
        assert.deepEqual([...kinds].sort(), ['blind_reset', 'isn_predictable', 'no_ack_flags', 'reserved_bits', 'syn_fin', 'syn_flood', 'syn_rst', 'tiny_window', 'zero_window']);
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
