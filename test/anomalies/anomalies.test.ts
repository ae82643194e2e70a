import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { tsharkFields } from '../support/tshark.js';

const fx = (name: string) => path.join(fixturesDir, 'scans', `${name}.pcap`);
const anomaliesPcap = fx('anomalies');

interface Finding {
  kind: string;
  frame: number | null;
  frames: number;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  detail: string;
}

async function findings(file: string): Promise<Finding[]> {
  const r = await runCli(['scans', file, '--show', 'anomalies', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Finding[];
}

async function tsharkFrames(filter: string): Promise<number[]> {
  return (await tsharkFields(anomaliesPcap, ['frame.number'], filter)).map((r) => Number(r[0]));
}

const framesOf = (all: Finding[], kind: string) => all.filter((f) => f.kind === kind).map((f) => f.frame).sort((a, b) => a! - b!);

test('invalid flag combinations are the frames tshark shows with those flags', async () => {
  const all = await findings(anomaliesPcap);
  assert.deepEqual(framesOf(all, 'syn_fin'), await tsharkFrames('tcp.flags.syn == 1 && tcp.flags.fin == 1'));
  assert.deepEqual(framesOf(all, 'syn_rst'), await tsharkFrames('tcp.flags.syn == 1 && tcp.flags.reset == 1'));
  assert.deepEqual(framesOf(all, 'reserved_bits'), await tsharkFrames('tcp.flags.res == 1'));
  // The lone FIN from 10.199.1.17 is not part of any scan, so FIN without ACK is an anomaly there.
  assert.deepEqual(framesOf(all, 'no_ack_flags'), await tsharkFrames('ip.src == 10.199.1.17 && tcp.flags == 0x001'));
  assert.equal(framesOf(all, 'syn_fin').length, 3);
  assert.equal(framesOf(all, 'syn_rst').length, 3);
});

test('the blind reset (hping3 RST seq 7 into an established connection) is the only RST outside the window', async () => {
  const all = await findings(anomaliesPcap);
  const resets = all.filter((f) => f.kind === 'blind_reset');
  assert.deepEqual(resets.map((f) => f.frame), await tsharkFrames('tcp.flags.reset == 1 && tcp.srcport == 41001 && tcp.seq_raw == 7'));
  assert.equal(resets.length, 1);
});

test('the SYN flood on port 8080 is one finding counting every spoofed SYN', async () => {
  const all = await findings(anomaliesPcap);
  const floods = all.filter((f) => f.kind === 'syn_flood');
  assert.equal(floods.length, 1);
  assert.equal(floods[0]!.dst, '10.199.0.2');
  assert.equal(floods[0]!.dport, 8080);
  const spoofed = await tsharkFrames('tcp.dstport == 8080 && tcp.flags == 0x002 && !(ip.src == 10.199.0.0/16)');
  assert.equal(floods[0]!.frames, spoofed.length);
});

test("zero windows are the connections where tshark raises tcp.analysis.zero_window; the clamped client's window is tiny", async () => {
  const all = await findings(anomaliesPcap);
  const zero = all.filter((f) => f.kind === 'zero_window');
  const flagged = await tsharkFrames('tcp.analysis.zero_window');
  assert.equal(zero.length, 1);
  assert.equal(zero[0]!.frame, flagged[0]);
  assert.equal(zero[0]!.frames, flagged.length);
  const tiny = all.filter((f) => f.kind === 'tiny_window');
  assert.equal(tiny.length, 1);
  assert.equal(tiny[0]!.src, '10.199.0.1');
  assert.equal(tiny[0]!.dport, 80);
});

test('constant ISNs (hping3 -M 1000) are predictable; nothing else in the capture is', async () => {
  const all = await findings(anomaliesPcap);
  const isn = all.filter((f) => f.kind === 'isn_predictable');
  assert.equal(isn.length, 1);
  assert.equal(isn[0]!.src, '10.199.1.19');
  assert.match(isn[0]!.detail, /constant/);
});

test('real Linux ISNs in a recorded capture come out random ("Good luck!") for the client and the server', async () => {
  const r = await runCli(['scans', fx('benign-http'), '--show', 'isn', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const hosts = JSON.parse(r.stdout) as { host: string; role: string; samples: number; class: string; difficulty: string }[];
  assert.deepEqual(hosts.map((h) => [h.host, h.role, h.samples, h.class, h.difficulty]), [
    ['10.199.0.1', 'syn', 200, 'random', 'Good luck!'],
    ['10.199.0.2', 'synack', 200, 'random', 'Good luck!'],
  ]);
});

test('scans and benign traffic raise no anomaly: probes of a scan are reported as the scan only', async () => {
  for (const name of ['scan-syn', 'scan-connect', 'scan-fin', 'scan-null', 'scan-xmas', 'scan-ack', 'scan-maimon', 'scan-window', 'scan-ipv6', 'scan-sweep', 'scan-slow', 'hping3', 'benign-http', 'benign-bulk', 'benign-clients']) {
    assert.deepEqual(await findings(fx(name)), [], name);
  }
});
