/**
 * flows.state and flows.history against Zeek's definitions (conn.log conn_state/history), one test per
 * state, on fixtures made with real tools (fixtures/flows/make.sh: curl, python sockets, hping3, tcpdump
 * in network namespaces). Each expected history is read off the fixture's packets with Zeek's letter
 * rules (comments spell the packets out); the last test replays captures from Zeek's own test suite
 * against Zeek's recorded output for them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCaptures, type FlowRow } from '../../analyzer/index.js';
import { corpusDir, fixturesDir } from '../support/paths.js';

async function flowsOf(file: string): Promise<FlowRow[]> {
  const lens = await openCaptures([file]);
  try {
    assert.deepEqual(lens.errors, []);
    return await lens.flows();
  } finally {
    await lens.close();
  }
}

async function only(name: string): Promise<FlowRow> {
  const flows = await flowsOf(path.join(fixturesDir, 'flows', name));
  assert.equal(flows.length, 1, `${name}: one connection`);
  return flows[0]!;
}

test('SF: curl to http.server, both sides close', async () => {
  // S, SYN-ACK (h), client ACK (A), request (D), server ACK (a), response (d), server FIN (f), client FIN (F)
  const f = await only('sf.pcap');
  assert.equal(f.state, 'SF');
  assert.equal(f.history, 'ShADadfF');
  assert.equal(f.client, '10.199.0.1');
  assert.equal(f.server, '10.199.0.2');
  assert.equal(f.sport, 8080);
  assert.equal(f.packets, 12);
  assert.equal(f.client_payload, 89);
  assert.ok(f.rtt_ms !== null && f.rtt_ms >= 0);
});

test('REJ: SYN to a closed port answered by RST-ACK', async () => {
  const f = await only('rej.pcap');
  assert.equal(f.state, 'REJ');
  assert.equal(f.history, 'Sr');
  assert.equal(f.sport, 9);
});

test('S0: SYN never answered', async () => {
  const f = await only('s0.pcap');
  assert.equal(f.state, 'S0');
  assert.equal(f.history, 'S');
  assert.equal(f.server_packets, 0);
});

test('S1: established, not closed', async () => {
  const f = await only('s1.pcap');
  assert.equal(f.state, 'S1');
  assert.equal(f.history, 'ShADa');
});

test('S2: client closed (FIN), server did not', async () => {
  const f = await only('s2.pcap');
  assert.equal(f.state, 'S2');
  assert.equal(f.history, 'ShADaF');
});

test('S3: server closed (FIN), client did not', async () => {
  const f = await only('s3.pcap');
  assert.equal(f.state, 'S3');
  assert.equal(f.history, 'ShADaf');
});

test('RSTO: established, client aborts with RST', async () => {
  const f = await only('rsto.pcap');
  assert.equal(f.state, 'RSTO');
  assert.equal(f.history, 'ShADaR');
});

test('RSTR: established, server aborts with RST', async () => {
  const f = await only('rstr.pcap');
  assert.equal(f.state, 'RSTR');
  assert.equal(f.history, 'ShADar');
});

test('RSTOS0: SYN then RST from the client, no SYN-ACK', async () => {
  const f = await only('rstos0.pcap');
  assert.equal(f.state, 'RSTOS0');
  assert.equal(f.history, 'SR');
});

test('RSTRH: SYN-ACK then RST from the server, no SYN seen (roles flipped: ^)', async () => {
  const f = await only('rstrh.pcap');
  assert.equal(f.state, 'RSTRH');
  assert.equal(f.history, '^hr');
  assert.equal(f.server, '10.199.0.2');
  assert.equal(f.sport, 80);
  assert.equal(f.client, '10.199.0.99');
});

test('SH: SYN then FIN from the client, no SYN-ACK', async () => {
  const f = await only('sh.pcap');
  assert.equal(f.state, 'SH');
  assert.equal(f.history, 'SF');
});

test('SHR: SYN-ACK then FIN from the server, no SYN seen', async () => {
  const f = await only('shr.pcap');
  assert.equal(f.state, 'SHR');
  assert.equal(f.history, '^hf');
  assert.equal(f.sport, 80);
});

test('OTH: midstream traffic, no SYN; the port heuristic picks the server (port 80)', async () => {
  const f = await only('oth.pcap');
  assert.equal(f.state, 'OTH');
  assert.equal(f.history, 'AD');
  assert.equal(f.server, '10.199.0.99');
  assert.equal(f.sport, 80);
});

test('a SYN with a new ISN on a used 4-tuple starts a new connection (reused_ports)', async () => {
  const flows = await flowsOf(path.join(fixturesDir, 'flows', 'reused-ports.pcap'));
  assert.equal(flows.length, 2);
  assert.deepEqual(flows.map((f) => [f.cport, f.sport, f.state, f.reused_ports]), [[40123, 8080, 'SF', false], [40123, 8080, 'SF', true]]);
  // Which side's FIN comes first is a race between curl and http.server; either order is a clean close.
  for (const f of flows) assert.match(f.history, /^ShADad(fF|Ff)$/);
  assert.notEqual(flows[0]!.client_isn, flows[1]!.client_isn);
});

test("Zeek's own RST traces give Zeek's recorded history and conn_state", async () => {
  // zeek/zeek testing/btest/Baseline/scripts.base.protocols.conn.conn_state-RST-behavior/out
  const expected: [string, string, string][] = [
    ['single-rst.pcap', 'R', 'OTH'],
    ['syn-then-rst.pcap', 'SR', 'RSTOS0'],
    ['syn-then-ack-then-rst.pcap', 'SaR', 'RSTOS0'],
    ['syn-then-stuff-then-rst.pcap', 'SaFR', 'OTH'],
  ];
  for (const [file, history, state] of expected) {
    const flows = await flowsOf(path.join(corpusDir, 'zeek/tcp', file));
    assert.deepEqual(flows.map((f) => [f.history, f.state]), [[history, state]], file);
  }
});

test('content gaps: payload the snaplen cut off (editcap -s 100) is acked but never seen: G and g', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-flows-test-'));
  try {
    const cut = path.join(dir, 'sf-100.pcap');
    execFileSync('editcap', ['-s', '100', path.join(fixturesDir, 'flows/sf.pcap'), cut]);
    // The server's ACK of the cut request reveals the client's gap (G), the client's ACK of the cut
    // response the server's (g); the second cut response is the 2nd gap (letters repeat at 10, 100 ...).
    const flows = await flowsOf(cut);
    assert.deepEqual(flows.map((f) => [f.history, f.state]), [['ShADaGdgfF', 'SF']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Zeek's conn.log baselines for its missing-SYN, flip, end-gap, FIN and retransmission traces", async () => {
  // zeek/zeek testing/btest/Baseline/core.tcp.missing-syn/conn.log, core.tcp.flip-without-syn/conn.log,
  // core.tcp.miss-end-data/conn.log, core.tcp.fin-retransmit/out and core.tcp.rxmit-history/conn-1.log.
  const expected: [string, Partial<FlowRow>][] = [
    ['missing-syn.pcap', {
      client: '141.42.64.125', cport: 56730, server: '125.190.109.199', sport: 80, state: 'SF', history: '^hADdFaf',
      client_packets: 11, server_packets: 10, client_payload: 98, server_payload: 9417,
    }],
    ['http-on-irc-port-missing-syn.pcapng', {
      client: '141.142.228.5', cport: 6669, server: '192.150.187.43', sport: 80, state: 'SF', history: '^hADadFf',
      client_packets: 6, server_packets: 7, client_payload: 136, server_payload: 5007,
    }],
    // core.tcp.miss-end-data/conn.log
    ['miss_end_data.pcap', {
      client: '192.168.122.230', cport: 60648, server: '77.238.160.184', sport: 80, state: 'SF', history: 'ShADafgF',
      client_packets: 5, server_packets: 4, client_payload: 538,
    }],
    // core.tcp.fin-retransmit/out: orig state 5 (closed), 3 packets; resp state 6 (reset), 2 packets,
    // which conn_state() turns into RSTR.
    ['fin_retransmission.pcap', { state: 'RSTR', client_packets: 3, server_packets: 2 }],
    ['retransmit-fast009.pcap', {
      client: '10.0.88.85', cport: 50368, server: '192.168.0.27', sport: 80, state: 'RSTO', history: 'ShADaGdgtR',
      client_packets: 17, server_packets: 22,
    }],
  ];
  for (const [file, want] of expected) {
    const flows = await flowsOf(path.join(corpusDir, 'zeek/tcp', file));
    assert.equal(flows.length, 1, file);
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, flows[0]![k as keyof FlowRow]]));
    assert.deepEqual(got, want, file);
  }
});

test("Zeek's timers: an unanswered SYN repeated within 5 s is one attempt, after 5 s a new one", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-flows-test-'));
  try {
    const s0 = path.join(fixturesDir, 'flows/s0.pcap');
    const run = async (shift: number): Promise<FlowRow[]> => {
      // The same SYN (same ISN) again `shift` seconds later, as a SYN retransmission would be.
      const later = path.join(dir, `later-${shift}.pcap`);
      const both = path.join(dir, `both-${shift}.pcap`);
      execFileSync('editcap', ['-t', String(shift), s0, later]);
      execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', both, s0, later]);
      return flowsOf(both);
    };
    assert.deepEqual((await run(3)).map((f) => [f.state, f.history, f.packets, f.reused_ports]), [['S0', 'S', 2, false]]);
    assert.deepEqual((await run(7)).map((f) => [f.state, f.history, f.packets, f.reused_ports]), [['S0', 'S', 1, false], ['S0', 'S', 1, false]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
