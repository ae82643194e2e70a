/**
 * The program built for kernels that refuse the one reading each packet's own timestamp (before Linux 6.2,
 * or without BTF): records are stamped with CLOCK_MONOTONIC as the filter runs, and the drain thread adds
 * the REALTIME - MONOTONIC offset (native/src/clock.h). This machine loads the other program, so the test
 * runs the real command from a copy of the package whose bpf/.output holds only the fallback object,
 * which is what an install on such a kernel amounts to. Every stamp must fall within the wall-clock
 * interval in which the traffic was sent (give or take 1 ms, the offset's promised accuracy).
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildRoot, repoRoot } from '../support/paths.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { readAll, startAndWait, startRecorder, stop, tmpFile } from './recorder-support.js';

const skip = netnsUnavailableReason();

/** A package tree like an install where only tcp_snapshot.bpf.o was built; returns its CLI entry. */
function packageWithFallbackObjectOnly(dir: string): string {
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  cpSync(buildRoot, path.join(dir, 'dist'), { recursive: true, filter: (src) => src !== path.join(buildRoot, 'test') });
  mkdirSync(path.join(dir, 'native/build/Release'), { recursive: true });
  copyFileSync(path.join(repoRoot, 'native/build/Release/tcplens_native.node'), path.join(dir, 'native/build/Release/tcplens_native.node'));
  mkdirSync(path.join(dir, 'bpf/.output'), { recursive: true });
  copyFileSync(path.join(repoRoot, 'bpf/.output/tcp_snapshot.bpf.o'), path.join(dir, 'bpf/.output/tcp_snapshot.bpf.o'));
  return path.join(dir, 'dist/bin/tcplens.js');
}

const wallNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

test('without the program that reads packet timestamps: monotonic stamps plus the sampled offset are wall-clock time', { skip: skip ?? false, timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-fallback-'));
  const out = tmpFile('fallback.pcapng');
  try {
    const cli = packageWithFallbackObjectOnly(dir);
    let from = 0n;
    let to = 0n;
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out], { env: { TCPLENS_LOG: 'debug' }, cli });
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8082', '--bind', pair.addrB], /Serving HTTP/);
      from = wallNs();
      // Spread over more than one second, so the drain thread re-samples the offset in between.
      for (let i = 0; i < 6; i++) {
        pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8082/`]);
        await new Promise((r) => setTimeout(r, 250));
      }
      to = wallNs() + 1_000_000n; // Date.now() is whole milliseconds
      await new Promise((r) => setTimeout(r, 300)); // the last segments reach the socket
      assert.equal(await stop(rec, 'SIGINT'), 0, rec.stderr());
      assert.match(rec.stderr(), /"timestamps":"filter"/, 'the fallback program was loaded');
    });
    const { result, packets } = await readAll(out);
    assert.equal(result.error, null);
    assert.ok(packets.length >= 6 * 6, `six HTTP exchanges recorded (${packets.length} packets)`);
    const first = packets.reduce((m, p) => (p.tsNs < m ? p.tsNs : m), packets[0]!.tsNs);
    const last = packets.reduce((m, p) => (p.tsNs > m ? p.tsNs : m), packets[0]!.tsNs);
    t.diagnostic(`stamps ${Number(first - from) / 1e6} ms after the traffic began, ${Number(to - last) / 1e6} ms before it ended`);
    assert.ok(first >= from - 1_000_000n, `no stamp before the traffic began (first ${Number(from - first) / 1e6} ms early)`);
    assert.ok(last <= to + 1_000_000n, `no stamp after the traffic ended (last ${Number(last - to) / 1e6} ms late)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { force: true });
  }
});
