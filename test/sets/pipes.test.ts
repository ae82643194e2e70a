/**
 * Captures from pipes (issue: capture sets and pipes): `-` reads standard input, streamed with no temporary
 * file, for pcap, pcapng and gzip; FIFOs and /dev/stdin too. Results equal those on the file; a producer
 * killed mid-stream gives the partial-result line naming `<stdin>` and exit 1. Through the real command line.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { cliPath, fixturesDir } from '../support/paths.js';

const LOSSY = path.join(fixturesDir, 'sets/lossy-bulk.pcap');
const PCAPNG = path.join(fixturesDir, 'http-loopback.pcapng');
const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-pipes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `producer | tcplens ARGS` through bash, as a user types it. */
function piped(producer: string, args: string[]): Run {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  try {
    const stdout = execFileSync('bash', ['-c', `set -o pipefail; ${producer} | "${process.execPath}" "${cliPath}" ${quoted}`], {
      encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
    });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number | null; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

function infoWithoutPath(json: string): unknown {
  return (JSON.parse(json) as Record<string, unknown>[]).map(({ path: _p, ...rest }) => rest);
}

test('tcpdump -w - | tcplens info - equals info on the file', async () => {
  const file = await runCli(['info', LOSSY, '--format', 'json']);
  assert.equal(file.status, 0, file.stderr);
  const pipe = piped(`tcpdump -r '${LOSSY}' -w - 2>/dev/null`, ['info', '-', '--format', 'json']);
  assert.equal(pipe.status, 0, pipe.stderr);
  assert.equal((JSON.parse(pipe.stdout) as { path: string }[])[0]!.path, '<stdin>');
  assert.deepEqual(infoWithoutPath(pipe.stdout), infoWithoutPath(file.stdout));
});

test('tcpdump -w - | tcplens seq - --frames equals seq on the file; pcapng, gzip and /dev/stdin too', async () => {
  for (const [capture, producer] of [
    [LOSSY, `tcpdump -r '${LOSSY}' -w - 2>/dev/null`],
    [LOSSY, `gzip -c '${LOSSY}'`],
    [PCAPNG, `cat '${PCAPNG}'`],
  ] as const) {
    const file = await runCli(['seq', capture, '--frames', '--format', 'csv']);
    assert.equal(file.status, 0, file.stderr);
    const pipe = piped(producer, ['seq', '-', '--frames', '--format', 'csv']);
    assert.equal(pipe.status, 0, pipe.stderr);
    assert.equal(pipe.stdout, file.stdout, producer);
  }
  const devStdin = piped(`cat '${LOSSY}'`, ['query', '/dev/stdin', 'SELECT count(*) AS n, count(DISTINCT flow_id) AS flows FROM packets', '--format', 'csv']);
  assert.equal(devStdin.status, 0, devStdin.stderr);
  const fromFile = await runCli(['query', LOSSY, 'SELECT count(*) AS n, count(DISTINCT flow_id) AS flows FROM packets', '--format', 'csv']);
  assert.equal(devStdin.stdout, fromFile.stdout);
});

test('a producer killed mid-stream: the results so far, the partial-result line naming <stdin>, exit 1', async () => {
  const whole = await runCli(['query', LOSSY, 'SELECT count(*) AS n FROM packets', '--format', 'csv']);
  const total = Number(whole.stdout.trim().split('\n')[1]);
  // The producer writes 100,003 bytes (not a record boundary) and then waits; it is killed by PID once
  // those bytes have reached the recorder's pipe.
  const producer = spawn('bash', ['-c', `head -c 100003 '${LOSSY}'; exec sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const consumer = spawn(process.execPath, [cliPath, 'query', '-', 'SELECT count(*) AS n FROM packets', '--format', 'csv'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  consumer.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  consumer.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let forwarded = 0;
  producer.stdout.on('data', (chunk: Buffer) => {
    consumer.stdin.write(chunk);
    forwarded += chunk.length;
    if (forwarded >= 100003) producer.kill('SIGKILL');
  });
  producer.on('close', () => consumer.stdin.end());
  const status = await new Promise<number | null>((resolve) => consumer.on('close', resolve));
  try {
    assert.equal(forwarded, 100003);
    assert.equal(status, 1, stderr);
    const n = Number(stdout.trim().split('\n')[1]);
    assert.ok(n > 0 && n < total, `${n} of ${total} packets before the cut`);
    assert.match(stderr.trim(), /^tcplens: <stdin>: at byte \d+: expected a \d+-byte record .*$/);
  } finally {
    if (producer.exitCode === null) producer.kill('SIGKILL');
  }
});

test('a FIFO is read as a stream', async () => {
  const fifo = path.join(dir, 'capture.fifo');
  execFileSync('mkfifo', [fifo]);
  const consumer = spawn(process.execPath, [cliPath, 'seq', fifo, '--frames', '--format', 'csv'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  consumer.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  consumer.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Opening the FIFO for writing waits for the reader: the data goes in once tcplens has opened it.
  const consumed = new Promise<number | null>((resolve) => consumer.on('close', resolve));
  const writer = spawn('bash', ['-c', `cat '${LOSSY}' > '${fifo}'`], { stdio: 'ignore' });
  const written = new Promise((resolve) => writer.on('close', resolve));
  const status = await consumed;
  await written;
  assert.equal(status, 0, stderr);
  const file = await runCli(['seq', LOSSY, '--frames', '--format', 'csv']);
  assert.equal(stdout, file.stdout);
});

test('standard input can be named only once', () => {
  const r = piped(`cat '${LOSSY}'`, ['seq', '-', '-']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^tcplens: standard input \(-\) can be read only once$/);
});
