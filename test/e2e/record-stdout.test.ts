/**
 * `record -w -`: pcapng on standard output, read live by another program; logs stay on stderr; a reader
 * that goes away (EPIPE) ends the recording cleanly with exit 0, as tcpdump does.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { cliPath } from '../support/paths.js';
import { netnsUnavailableReason, withNetnsPair, type NetnsPair } from '../support/netns.js';
import { waitForExit } from '../support/processes.js';
import { startAndWait, tmpFile, tsharkWarnings, type Started } from './recorder-support.js';

const skip = netnsUnavailableReason() ?? false;

/** The PID of `parent`'s child whose command name is `comm` (bounded wait: the shell starts it). */
async function childPid(parent: number, comm: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === parent && stat.includes(`(${comm})`)) return Number(d);
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${comm} child of ${parent}`);
}

/**
 * Runs `tcplens record -i IFACE -w - | READER > OUT` in a shell in the server namespace (a real pipe, as a
 * user would type it), resolved once the recorder is attached; `recorder` is the recorder's own PID.
 */
async function recordPipe(pair: NetnsPair, reader: string, out: string): Promise<{ shell: Started; recorder: number }> {
  const cmd = `"${process.execPath}" "${cliPath}" record -i ${pair.vethB} -w - | ${reader} > "${out}"`;
  const shell = await startAndWait(pair, pair.b, 'sh', ['-c', cmd], /"msg":"recording"/);
  return { shell, recorder: await childPid(shell.child.pid!, 'node') };
}

async function http(pair: NetnsPair, times: number): Promise<void> {
  for (let i = 0; i < times; i++) pair.exec(pair.a, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${pair.addrB}:8081/`]);
}

function captured(stderr: string): number {
  const m = /(\d+) packets captured/.exec(stderr);
  assert.ok(m, `summary in stderr: ${stderr}`);
  return Number(m[1]);
}

test('record -w - | tshark -r -: tshark reads every packet the recorder captured', { skip, timeout: 120_000 }, async () => {
  const out = tmpFile('stdout-tshark.txt');
  await withNetnsPair(async (pair) => {
    await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
    const { shell, recorder } = await recordPipe(pair, 'tshark -n -r - -T fields -e frame.number -e tcp.flags', out);
    await http(pair, 10);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(recorder, 'SIGINT');
    assert.equal(await waitForExit(shell, 20_000), 0, shell.stderr());
    const stderr = shell.stderr();
    assert.equal(tsharkWarnings(stderr.split('\n').filter((l) => !/^\{|packets (captured|seen|dropped)/.test(l)).join('\n')), '', 'tshark warns of nothing');
    const rows = readFileSync(out, 'utf8').split('\n').filter((l) => l.length > 0);
    const n = captured(stderr);
    assert.ok(n >= 60, `${n} packets captured`);
    assert.equal(rows.length, n, 'tshark reads every packet captured');
    assert.ok(rows.every((r) => /^\d+\t0x[0-9a-f]+$/.test(r)), 'every frame is TCP');
  });
  rmSync(out, { force: true });
});

test('record -w - | head -c 10000: the closed pipe ends the recorder with exit 0 and the summary', { skip, timeout: 120_000 }, async () => {
  const out = tmpFile('stdout-head.bin');
  await withNetnsPair(async (pair) => {
    await startAndWait(pair, pair.b, 'python3', ['-u', '-m', 'http.server', '8081', '--bind', '0.0.0.0'], /Serving HTTP/);
    // The shell's status is the last command's (head); the recorder's own exit status is written after it.
    const status = tmpFile('stdout-head.status');
    const shell = await startAndWait(pair, pair.b, 'bash', ['-c', `"${process.execPath}" "${cliPath}" record -i ${pair.vethB} -w - | head -c 10000 > "${out}"; echo \${PIPESTATUS[0]} > "${status}"`], /"msg":"recording"/);
    // Traffic until the recorder has written more than head takes and noticed the closed pipe (bounded).
    for (let i = 0; i < 40 && shell.child.exitCode === null; i++) await http(pair, 2);
    assert.equal(await waitForExit(shell, 20_000), 0, shell.stderr());
    assert.equal(readFileSync(status, 'utf8').trim(), '0', `the recorder's exit status; stderr: ${shell.stderr()}`);
    assert.match(shell.stderr(), /\d+ packets captured/);
    assert.doesNotMatch(shell.stderr(), /tcplens:/, 'no error line');
    assert.equal(statSync(out).size, 10000);
    rmSync(status, { force: true });
  });
  rmSync(out, { force: true });
});
