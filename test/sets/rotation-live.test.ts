/**
 * The loop tcplens exists for: record on a server with rotation, then analyze the files as one recording.
 * During one live transfer between two namespaces (an iperf3 bulk transfer and HTTP requests), `tcplens
 * record -C 1` and `tcpdump -C 1` each write a rotation set on the server's veth. Each set, given to the
 * commands in shuffled order, must give one connection per real connection and tshark's flags on the
 * mergecap'd set.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SEQ_FLAGS } from '../../analyzer/seq/flags.js';
import { runCli } from '../support/cli.js';
import { netnsUnavailableReason, withNetnsPair } from '../support/netns.js';
import { startAndWait, stop } from '../support/processes.js';
import { tshark } from '../support/tshark.js';
import { cliPath } from '../support/paths.js';
import { tsharkFlags } from '../seq/oracle.js';
import { existsSync } from 'node:fs';

const skip = netnsUnavailableReason()
  ?? (existsSync(path.join(path.dirname(cliPath), '../../native/build/Release/tcplens_native.node')) ? null : 'the recorder addon is not built (npm run build:native)');

function flagRows(sets: Set<number>[]): string[] {
  const rows: string[] = [];
  sets.forEach((frames, code) => {
    for (const f of frames) rows.push(`${f},${SEQ_FLAGS[code]}`);
  });
  return rows.sort();
}

async function checkSet(files: string[], label: string, dir: string): Promise<void> {
  assert.ok(files.length >= 3, `${label}: a rotation set of several files (${files.length})`);
  const merged = path.join(dir, `${label}-merged.pcapng`);
  execFileSync('mergecap', ['-w', merged, ...files]);
  // Real connections: tshark's TCP conversations on the merged set (each a distinct 4-tuple here).
  const { stdout } = await tshark(['-r', merged, '-q', '-z', 'conv,tcp']);
  const conversations = stdout.split('\n').filter((l) => /<->/.test(l)).length;
  const shuffled = [...files].reverse();
  const sql = 'SELECT client, cport, server, sport, state, history, packets, bytes FROM flows ORDER BY first_ts, cport';
  const flows = await runCli(['query', ...shuffled, sql, '--format', 'csv']);
  assert.equal(flows.status, 0, flows.stderr);
  assert.equal(flows.stdout.trim().split('\n').length - 1, conversations, `${label}: one connection per real connection`);
  // No connection is cut at a file boundary: the same connections, states and histories as the one merged file.
  const one = await runCli(['query', merged, sql, '--format', 'csv']);
  assert.equal(flows.stdout, one.stdout, `${label}: connections as in the merged file`);
  assert.ok(!/,(OTH|S1|SH|SHR),/.test(flows.stdout), `${label}: no connection seen from the middle`);
  const seq = await runCli(['seq', ...shuffled, '--frames', '--format', 'csv'], { timeoutMs: 120_000 });
  assert.equal(seq.status, 0, seq.stderr);
  assert.deepEqual(seq.stdout.trim().split('\n').slice(1).filter(Boolean).map((l) => l.split(',').slice(0, 2).join(',')).sort(), flagRows(await tsharkFlags(merged)), `${label}: tshark's flags`);
}

test('rotation sets written by tcplens record -C and tcpdump -C analyze as one recording', { skip: skip ?? false, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-rotation-'));
  try {
    await withNetnsPair(async (pair) => {
      const rec = await startAndWait(pair, pair.b, process.execPath,
        [cliPath, 'record', '-i', pair.vethB, '-w', path.join(dir, 'rec.pcapng'), '-s', '128', '-C', '1'], /"msg":"recording"/);
      const td = await startAndWait(pair, pair.b, 'tcpdump',
        ['-i', pair.vethB, '-Z', 'root', '-s', '128', '-U', '--immediate-mode', '-B', '65536', '-n', '-C', '1', '-w', path.join(dir, 'td.pcap'), 'tcp'], /listening on/);
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8080', '--bind', pair.addrB], /Serving HTTP/);
      for (let i = 0; i < 5; i++) pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8080/`]);
      const iperf = await startAndWait(pair, pair.b, 'iperf3', ['-s', '-1', '-p', '5201', '--forceflush'], /Server listening/);
      // About 40,000 segments at a pace both recorders keep up with on a loaded 2-core machine.
      pair.exec(pair.a, 'iperf3', ['-c', pair.addrB, '-p', '5201', '-n', '40M', '-b', '200M'], 60_000);
      await iperf.exited;
      for (let i = 0; i < 5; i++) pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8080/`]);
      await new Promise((r) => setTimeout(r, 500)); // the last FIN/ACKs reach both capture sockets
      assert.equal(await stop(rec, 'SIGINT'), 0, rec.stderr());
      assert.equal(await stop(td, 'SIGINT'), 0, td.stderr());
    });
    const names = readdirSync(dir);
    await checkSet(names.filter((f) => f.startsWith('rec.pcapng')).map((f) => path.join(dir, f)), 'tcplens', dir);
    await checkSet(names.filter((f) => f.startsWith('td.pcap')).map((f) => path.join(dir, f)), 'tcpdump', dir);
  } finally {
    if (process.env['KEEP']) console.log(dir); else rmSync(dir, { recursive: true, force: true });
  }
});
