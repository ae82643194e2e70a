/**
 * flows.state and flows.history against Zeek's definitions (conn.log conn_state/history), one test per
 * state, on fixtures made with real tools (fixtures/flows/make.sh: curl, python sockets, hping3, tcpdump
 * in network namespaces). Each expected history is read off the fixture's packets with Zeek's letter
 * rules (comments spell the packets out); the last test replays captures from Zeek's own test suite
 * against Zeek's recorded output for them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  // The first exchange is closed by the server first, the second by the client first.
  assert.deepEqual(flows.map((f) => f.history), ['ShADadfF', 'ShADadFf']);
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
