/**
 * The signals tcpdump handles, handled as tcpdump does, and no way into a recorder for another user:
 * SIGUSR1 prints counters (never Node's debugger), SIGHUP ends cleanly, a debugger flag is refused with
 * privileges; honest limits: --host beyond the kernel program's room, a missing capability named, a
 * symbolic link at a rotated name.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { cliPath } from '../support/paths.js';
import { tshark } from '../support/tshark.js';
import { netnsUnavailableReason, withNetnsPair, type NetnsPair } from '../support/netns.js';
import { waitForExit } from '../support/processes.js';
import { expectedTimestampSource, readAll, startAndWait, startRecorder, stop, tmpFile, tsharkWarnings, type Started } from './recorder-support.js';

const run = promisify(execFile);
const skip = netnsUnavailableReason() ?? false;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function removeAll(base: string): void {
  const dir = path.dirname(base);
  for (const f of readdirSync(dir)) if (f.startsWith(path.basename(base))) rmSync(path.join(dir, f), { force: true });
}

function filesOf(base: string): string[] {
  const dir = path.dirname(base);
  return readdirSync(dir).filter((f) => f.startsWith(path.basename(base))).map((f) => path.join(dir, f));
}

async function http(pair: NetnsPair, times: number): Promise<void> {
  for (let i = 0; i < times; i++) pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8081/`]);
}

/** Waits (bounded) until the process's stderr matches `re` `count` times; returns stderr. */
async function stderrMatches(s: Started, re: RegExp, count: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = s.stderr();
    if ((text.match(new RegExp(re.source, 'g')) ?? []).length >= count) return text;
    await sleep(50);
  }
  assert.fail(`stderr never showed ${re} ${count} times: ${s.stderr()}`);
}

async function failing(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return run(cmd, args, { env: env ?? process.env }).then(
    (r) => assert.fail(`expected a failure; stderr: ${r.stderr}`),
    (e: { code: number; stderr: string }) => e,
  );
}

test('kill -USR1: counters on stderr, recording goes on, and no socket listens for a debugger', { skip, timeout: 120_000 }, async () => {
  const out = tmpFile('usr1.pcapng');
  try {
    await withNetnsPair(async (pair) => {
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out]);
      await http(pair, 3);
      rec.child.kill('SIGUSR1');
      const first = await stderrMatches(rec, /\d+ packets captured/, 1);
      assert.match(first, /\d+ packets seen by filter/);
      assert.match(first, /\d+ packets dropped by ring buffer/);
      assert.doesNotMatch(first, /Debugger listening/);
      const sockets = pair.exec(pair.b, 'ss', ['-ltnpH']);
      assert.doesNotMatch(sockets, new RegExp(`pid=${rec.child.pid},`), `no listening socket of the recorder: ${sockets}`);
      await http(pair, 3);
      rec.child.kill('SIGUSR1'); // still alive and answering
      await stderrMatches(rec, /\d+ packets captured/, 2);
      assert.equal(await stop(rec), 0, rec.stderr());
      const counts = [...rec.stderr().matchAll(/(\d+) packets captured/g)].map((m) => Number(m[1]));
      assert.equal(counts.length, 3, 'two reports and the summary');
      assert.ok(counts[2]! > counts[0]!, `recording went on after SIGUSR1: ${counts.join(', ')}`);
      const { result, packets } = await readAll(out);
      assert.equal(result.error, null);
      assert.equal(packets.length, counts[2]);
    });
  } finally {
    rmSync(out, { force: true });
  }
});

test('kill -HUP: exit 0, summary, every rotated file valid with its statistics block', { skip, timeout: 120_000 }, async () => {
  const base = tmpFile('hup.pcapng');
  try {
    await withNetnsPair(async (pair) => {
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', base, '-C', '0.002']);
      await http(pair, 12);
      await sleep(300);
      assert.equal(await stop(rec, 'SIGHUP'), 0, rec.stderr());
      assert.match(rec.stderr(), /\d+ packets captured/);
    });
    const files = filesOf(base);
    assert.ok(files.length >= 2, `${files.length} files`);
    for (const f of files) {
      const { result } = await readAll(f);
      assert.equal(result.error, null, `${f} reads to its end`);
      assert.notEqual(result.interfaces[0]!.recv, null, `${f} ends with an ISB`);
      const t = await tshark(['-r', f, '-q']);
      assert.equal(tsharkWarnings(t.stderr), '', `tshark reads ${f} cleanly`);
    }
  } finally {
    removeAll(base);
  }
});

test('kill -USR2: what the recorder holds is written and fdatasync()ed at once, then it goes on', { skip, timeout: 120_000 }, async () => {
  const out = tmpFile('usr2.pcapng');
  try {
    await withNetnsPair(async (pair) => {
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out]);
      await http(pair, 3);
      rec.child.kill('SIGUSR2');
      const text = await stderrMatches(rec, /"msg":"flushed to disk"/, 1);
      const line = JSON.parse(text.split('\n').find((l) => l.includes('"flushed to disk"'))!) as { captured: number; fileBytes: number };
      assert.ok(line.captured > 0, text);
      // Read while the recorder still runs: the file holds at least what the flush reported.
      assert.ok(statSync(out).size >= line.fileBytes);
      const { result, packets } = await readAll(out);
      assert.equal(result.error, null, 'the file ends on a whole block');
      assert.ok(packets.length >= line.captured, `${packets.length} packets on disk, ${line.captured} reported flushed`);
      assert.equal(await stop(rec), 0, rec.stderr());
    });
  } finally {
    rmSync(out, { force: true });
  }
});

test('a debugger flag with privileges: one line, exit 2, nothing recorded', { skip, timeout: 60_000 }, async () => {
  const out = tmpFile('inspect.pcapng');
  for (const opts of ['--inspect-port=0', '--inspect=127.0.0.1:0']) {
    const r = await failing(process.execPath, [cliPath, 'record', '-i', 'lo', '-w', out], { ...process.env, NODE_OPTIONS: opts });
    assert.equal(r.code, 2, r.stderr);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('tcplens:'));
    assert.equal(ours.length, 1, r.stderr);
    assert.match(ours[0]!, /refuses --inspect/);
  }
  const direct = await failing(process.execPath, ['--inspect-port=0', cliPath, 'record', '-i', 'lo', '-w', out]);
  assert.equal(direct.code, 2, direct.stderr);
  assert.match(direct.stderr, /^tcplens: record runs with privileges and refuses --inspect-port/m);
  rmSync(out, { force: true });
});

test('beyond what the kernel program holds: 17 IPv4 --host (16), 9 IPv6 (8), 17 --port (16), -s 65535 (4096): exit 2 naming the limit', { skip, timeout: 30_000 }, async () => {
  const v4 = Array.from({ length: 17 }, (_, i) => ['--host', `10.199.1.${i + 1}`]).flat();
  const r4 = await failing(process.execPath, [cliPath, 'record', '-i', 'lo', '-w', tmpFile('h.pcapng'), ...v4]);
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, /^tcplens: --host: 17 IPv4 addresses given; the kernel program holds at most 16/);
  const v6 = Array.from({ length: 9 }, (_, i) => ['--host', `fd00:199::${i + 10}`]).flat();
  const r6 = await failing(process.execPath, [cliPath, 'record', '-i', 'lo', '-w', tmpFile('h.pcapng'), ...v6]);
  assert.equal(r6.code, 2);
  assert.match(r6.stderr, /at most 8/);
  const ports = Array.from({ length: 17 }, (_, i) => ['--port', String(1000 + i)]).flat();
  const rp = await failing(process.execPath, [cliPath, 'record', '-i', 'lo', '-w', tmpFile('h.pcapng'), ...ports]);
  assert.equal(rp.code, 2);
  assert.match(rp.stderr, /^tcplens: --port: 17 ports given; the kernel program holds at most 16/);
  const snap = await failing(process.execPath, [cliPath, 'record', '-i', 'lo', '-w', tmpFile('h.pcapng'), '-s', '65535']);
  assert.equal(snap.code, 2);
  assert.equal(snap.stderr, 'tcplens: -s 65535: the kernel program keeps at most 4096 bytes of a packet (-s 0 keeps that much)\n');
});

test('without CAP_BPF but with CAP_NET_RAW: the message names CAP_BPF', { skip, timeout: 30_000 }, async () => {
  const out = tmpFile('nobpf.pcapng');
  const r = await failing('setpriv', ['--bounding-set=-bpf,-sys_admin', '--inh-caps=-bpf,-sys_admin', process.execPath, cliPath, 'record', '-i', 'lo', '-w', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^tcplens: record needs CAP_BPF /);
  assert.doesNotMatch(r.stderr, /CAP_NET_RAW|ring buffer/);
});

test('with CAP_BPF and CAP_NET_RAW but without CAP_PERFMON: the message names CAP_PERFMON', { skip, timeout: 30_000 }, async () => {
  // The verifier refuses the program without it (recorder/capabilities.ts); say so before loading.
  const out = tmpFile('noperfmon.pcapng');
  const r = await failing('setpriv', ['--bounding-set=-perfmon,-sys_admin', '--inh-caps=-perfmon,-sys_admin', process.execPath, cliPath, 'record', '-i', 'lo', '-w', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^tcplens: record needs CAP_PERFMON \(for the verifier to accept the program\): run as root or grant it /);
  assert.equal(existsSync(out), false, 'no file is created');
});

test('with CAP_BPF, CAP_PERFMON and CAP_NET_RAW but not CAP_SYS_ADMIN: it records, with each packet\'s own timestamp', { skip, timeout: 60_000 }, async () => {
  const out = tmpFile('caps.pcapng');
  try {
    await withNetnsPair(async (pair) => {
      const rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', out],
        { env: { TCPLENS_LOG: 'debug' }, under: ['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin'] });
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', pair.addrB], /Serving HTTP/);
      await http(pair, 3);
      await sleep(300); // the last segments reach the socket
      assert.equal(await stop(rec, 'SIGINT'), 0, rec.stderr());
      const expected = expectedTimestampSource();
      assert.match(rec.stderr(), new RegExp(`"timestamps":"${expected}"`), `${expected} timestamps on this kernel`);
    });
    const { result, packets } = await readAll(out);
    assert.equal(result.error, null);
    assert.ok(packets.length >= 3 * 6, `three HTTP exchanges recorded (${packets.length} packets)`);
  } finally {
    rmSync(out, { force: true });
  }
});

test('a symbolic link at a rotated name: one clean line, the summary, exit 1, the first file valid', { skip, timeout: 120_000 }, async () => {
  const base = tmpFile('link.pcapng');
  const target = tmpFile('link-target');
  try {
    symlinkSync(target, `${base}1`);
    let rec: Started | undefined;
    await withNetnsPair(async (pair) => {
      await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
      rec = await startRecorder(pair, pair.b, ['-i', pair.vethB, '-w', base, '-C', '0.002']);
      await http(pair, 12);
      assert.equal(await waitForExit(rec, 20_000), 1, rec.stderr());
    });
    const lines = rec!.stderr().split('\n').filter((l) => l.length > 0 && !l.startsWith('{'));
    assert.match(lines[0]!, /^\d+ packets captured$/);
    assert.equal(lines.at(-1), `tcplens: ${base}1: cannot create: is a symbolic link (refused: the recorder runs as root)`);
    assert.equal(lines.length, 4, lines.join('\n'));
    const { result } = await readAll(base);
    assert.equal(result.error, null);
    assert.notEqual(result.interfaces[0]!.recv, null, 'the first file is closed with its ISB');
  } finally {
    removeAll(base);
    rmSync(target, { force: true });
  }
});
