/**
 * The capture analysis against the kernel's own view of the same sockets: four iperf3 transfers between two
 * network namespaces, each recorded by tcpdump on the sender's veth while `ss -ti` samples tcp_info of the
 * sending socket every 200 ms. tcplens's figures for the data connection must agree with the kernel's:
 * smoothed RTT within 15% (the median of the sampled srtt against the median ACK RTT), retransmitted segments
 * within 5% (tcp_info total_retrans against the segments that resent sequence space), and `limited_by`
 * naming what tcp_info's rwnd_limited / sndbuf_limited / busy times and retransmissions show.
 *
 * Shaping without netem (not in this kernel): the receiver's buffer is made small with its namespace's
 * tcp_rmem (receive-window-limited), 1% of the data segments are dropped at the receiver by nftables
 * (`numgen random mod 100 < 1 drop`), iperf3 -b paces the sender far below the veth's speed
 * (application-limited), and a delay line adds 50 ms (long RTT): the receiver's namespace routes its
 * packets to the sender into a TUN device, and test/perf/scripts/delay-line.py (Python standard library)
 * holds each for the delay before sending it out of the veth. The first three run with 20 ms added too:
 * on a bare veth the RTT is tens of microseconds, which the kernel measures from the moment TCP hands a
 * segment down to the moment it processes the ACK, host queueing a capture cannot see included; with a
 * real path delay both measure the path.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { netnsUnavailableReason, withNetnsPair, type NetnsPair } from '../support/netns.js';
import { recordWhile, startAndWait, waitForExit } from '../support/processes.js';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';

const DELAY_LINE = path.join(repoRoot, 'test/perf/scripts/delay-line.py');

const PORT = 5201;
const SECONDS = 4;
const workDir = mkdtempSync(path.join(tmpdir(), 'tcplens-kernel-'));

interface SsSample {
  localPort: number;
  srttMs: number;
  retrans: number;
  bytesAcked: number;
  busyMs: number;
  rwndLimitedMs: number;
  sndbufLimitedMs: number;
  dataSegsOut: number;
}

/** The sockets `ss -tin` shows towards the iperf3 server, one sample each. */
function parseSs(text: string): SsSample[] {
  const out: SsSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^(?:ESTAB\s+)?\d+\s+\d+\s+\S+:(\d+)\s+\S+:(\d+)/.exec(lines[i]!);
    if (!head || Number(head[2]) !== PORT) continue;
    const info = lines[i + 1] ?? '';
    const num = (re: RegExp): number => Number(re.exec(info)?.[1] ?? 0);
    out.push({
      localPort: Number(head[1]), srttMs: num(/\brtt:([\d.]+)\//), retrans: num(/\bretrans:\d+\/(\d+)/),
      bytesAcked: num(/\bbytes_acked:(\d+)/), busyMs: num(/\bbusy:(\d+)ms/), rwndLimitedMs: num(/\brwnd_limited:(\d+)ms/),
      sndbufLimitedMs: num(/\bsndbuf_limited:(\d+)ms/), dataSegsOut: num(/\bdata_segs_out:(\d+)/),
    });
  }
  return out;
}

interface Transfer {
  /** Every sample of the data socket (the one that carried most), oldest first. */
  samples: SsSample[];
  /** tcp_info's total_retrans of the data socket at the end, as iperf3 -J reports it. */
  retransmits: number;
  conn: Record<string, unknown>;
}

function mac(pair: NetnsPair, ns: string, dev: string): string {
  return JSON.parse(pair.exec(ns, 'ip', ['-j', 'link', 'show', dev]))[0].address as string;
}

/** Adds `seconds` to every packet b sends to a (the ACKs of a's data): a TUN device and the delay line. */
async function addDelay(pair: NetnsPair, seconds: number): Promise<void> {
  const line = await startAndWait(pair, pair.b, 'python3',
    [DELAY_LINE, 'tldelay', pair.vethB, mac(pair, pair.a, pair.vethA), mac(pair, pair.b, pair.vethB), String(seconds)], /ready/, 10_000);
  assert.equal(line.child.exitCode, null);
  pair.exec(pair.b, 'ip', ['link', 'set', 'tldelay', 'up']);
  pair.exec(pair.b, 'ip', ['route', 'replace', `${pair.addrA}/32`, 'dev', 'tldelay', 'src', pair.addrB]);
}

/** Runs iperf3 a -> b while tcpdump records a's veth and ss samples the sender; returns the kernel's and our view. */
async function transfer(pair: NetnsPair, name: string, clientArgs: string[]): Promise<Transfer> {
  const file = path.join(workDir, `${name}.pcap`);
  const bySocket = new Map<number, SsSample[]>();
  let report = '';
  await recordWhile(pair, pair.a, pair.vethA, file, async () => {
    const server = await startAndWait(pair, pair.b, 'iperf3', ['-s', '-1', '--forceflush', '-B', pair.addrB, '-p', String(PORT)], /listening/i, 10_000);
    const client = pair.spawn(pair.a, 'iperf3', ['-c', pair.addrB, '-p', String(PORT), '-t', String(SECONDS), '-J', ...clientArgs]);
    let json = '';
    client.stdout!.setEncoding('utf8').on('data', (d: string) => (json += d));
    const exited = new Promise<void>((resolve) => client.once('exit', () => resolve()));
    void exited.then(() => (report = json));
    let done = false;
    void exited.then(() => (done = true));
    // Sample until the client ends (bounded: the transfer takes SECONDS, allow three times that).
    for (let i = 0; i < SECONDS * 15 && !done; i++) {
      for (const s of parseSs(pair.exec(pair.a, 'ss', ['-tin', 'state', 'established']))) {
        const list = bySocket.get(s.localPort) ?? [];
        list.push(s);
        bySocket.set(s.localPort, list);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await exited;
    await waitForExit(server, 10_000);
  }, 128);
  const data = [...bySocket.values()].sort((x, y) => y.at(-1)!.bytesAcked - x.at(-1)!.bytesAcked)[0];
  assert.ok(data && data.length >= 5, `ss should have sampled the data socket several times (got ${data?.length ?? 0})`);
  const r = await runCli(['conns', file, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const conn = (JSON.parse(r.stdout) as Record<string, unknown>[]).find((c) => c['id.orig_p'] === data[0]!.localPort);
  assert.ok(conn, `tcplens should show the data connection from port ${data[0]!.localPort}`);
  const retransmits = Number((JSON.parse(report) as { end: { sum_sent: { retransmits: number } } }).end.sum_sent.retransmits);
  return { samples: data, retransmits, conn };
}

/** What tcp_info says limited the sender, in tcplens's terms. */
function kernelVerdict(t: Transfer): string {
  // The same rule as tcplens's verdict (analyzer/perf/direction.ts), on tcp_info's times: rwnd_limited
  // against the time with data to send, idle (not busy) as the application's share.
  const last = t.samples.at(-1)!;
  const transferMs = SECONDS * 1000;
  const rwnd = last.rwndLimitedMs / transferMs;
  const idle = Math.max(0, 1 - last.busyMs / transferMs);
  if (rwnd >= 0.5) return 'receiver_window';
  if (idle >= 0.5) return 'sender_application';
  if (last.dataSegsOut > 0 && t.retransmits / last.dataSegsOut >= 0.005) return 'loss';
  if (rwnd >= idle && rwnd >= 0.25) return 'receiver_window';
  if (idle > rwnd && idle >= 0.25) return 'sender_application';
  return 'network';
}

function assertAgreement(name: string, t: Transfer, expected: string): void {
  const last = t.samples.at(-1)!;
  // The median of the sampled srtt: in loss recovery the kernel's srtt swings (20 to 90 ms in one run) with
  // samples held back by holes, and a mean of a few samples would follow whichever moments ss happened to see.
  const sorted = t.samples.map((x) => x.srttMs).sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const kernelRtt = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const ourRtt = Number(t.conn['orig_rtt_median_ms']);
  const ourRetrans = Number(t.conn['orig_retrans_segments']);
  const ours = String(t.conn['orig_limited_by']);
  const facts = `${name}: kernel srtt ${kernelRtt.toFixed(3)} ms, retrans ${t.retransmits}, busy ${last.busyMs} ms, ` +
    `rwnd_limited ${last.rwndLimitedMs} ms, sndbuf_limited ${last.sndbufLimitedMs} ms; tcplens rtt ${ourRtt.toFixed(3)} ms, ` +
    `retrans ${ourRetrans}, limited_by ${ours} (rwnd ${t.conn['orig_rwnd_limited_s']} s, app ${t.conn['orig_app_limited_s']} s, ` +
    `recovery ${t.conn['orig_recovery_s']} s, network ${t.conn['orig_network_s']} s)`;
  console.log(facts, 'srtt samples', t.samples.map((x) => x.srttMs).join(' '), 'ts rtt', t.conn['orig_ts_rtt_avg_ms'], 'min', t.conn['orig_rtt_min_ms'], 'max', t.conn['orig_rtt_max_ms'], 'n', t.conn['orig_rtt_samples']);
  assert.equal(kernelVerdict(t), expected, `the kernel should show ${expected}: ${facts}`);
  assert.equal(ours, expected, facts);
  assert.ok(Math.abs(ourRtt - kernelRtt) <= 0.15 * kernelRtt, `RTT not within 15%: ${facts}`);
  assert.ok(Math.abs(ourRetrans - t.retransmits) <= Math.max(1, 0.05 * t.retransmits), `retransmissions not within 5%: ${facts}`);
}

const noNetns = netnsUnavailableReason() ?? (existsSync('/dev/net/tun') ? null : 'no /dev/net/tun for the delay line');

describe('per-connection figures agree with the kernel (tcp_info via ss -ti)', { skip: noNetns ?? false }, () => {
  after(() => rmSync(workDir, { recursive: true, force: true }));

  test('receiver-window-limited: a small receive buffer at the receiver', async () => {
    await withNetnsPair(async (pair) => {
      pair.exec(pair.b, 'sysctl', ['-q', '-w', 'net.ipv4.tcp_rmem=4096 16384 16384', 'net.ipv4.tcp_moderate_rcvbuf=0']);
      await addDelay(pair, 0.02);
      assertAgreement('rwnd', await transfer(pair, 'rwnd', []), 'receiver_window');
    });
  });

  test('loss-limited: 1% of the segments dropped at random by nftables', async () => {
    await withNetnsPair(async (pair) => {
      await addDelay(pair, 0.02);
      pair.exec(pair.b, 'nft', ['add', 'table', 'inet', 'tlloss']);
      pair.exec(pair.b, 'nft', ['add', 'chain', 'inet', 'tlloss', 'in', '{', 'type', 'filter', 'hook', 'input', 'priority', '0', ';', '}']);
      pair.exec(pair.b, 'nft', ['add', 'rule', 'inet', 'tlloss', 'in', 'tcp', 'dport', String(PORT), 'numgen', 'random', 'mod', '100', '<', '1', 'drop']);
      assertAgreement('loss', await transfer(pair, 'loss', []), 'loss');
    });
  });

  test('application-limited: iperf3 -b far below the link', async () => {
    await withNetnsPair(async (pair) => {
      await addDelay(pair, 0.02);
      assertAgreement('app', await transfer(pair, 'app', ['-b', '5M']), 'sender_application');
    });
  });

  test('long RTT: 50 ms added by a delay line', async () => {
    await withNetnsPair(async (pair) => {
      await addDelay(pair, 0.05);
      const t = await transfer(pair, 'long-rtt', []);
      assertAgreement('long RTT', t, kernelVerdict(t));
      assert.ok(Number(t.conn['orig_rtt_min_ms']) >= 50, 'the delay line adds 50 ms');
    });
  });
});
