/**
 * Ground truth for scan tests: nmap's own verdict (its -oX file) for nmap runs, and the recipe itself for
 * hping3 runs (fixtures/scans/make.sh), checked against what `tcplens scans --format json` reports.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';

export interface ExpectedScan {
  scanner: string;
  probeTypes: string[];
  kind: 'vertical' | 'horizontal' | 'block';
  targets: string[];
  /** Distinct ports probed. */
  ports: number;
  /** Ports nmap calls open or open|filtered (the union over targets). */
  openPorts: number[];
}

/** nmap's scan type names mapped to our probe types: -sW sends the same ACK probes as -sA. */
const NMAP_TYPE: Record<string, string> = { syn: 'syn', connect: 'connect', fin: 'fin', null: 'null', xmas: 'xmas', ack: 'ack', window: 'ack', maimon: 'maimon' };

/** Reads nmap's XML output: scanner (-S), scan type, hosts, number of ports, and open ports. */
export function nmapVerdict(xmlFile: string, kind: ExpectedScan['kind']): ExpectedScan {
  const xml = readFileSync(xmlFile, 'utf8');
  const args = /<nmaprun [^>]*args="([^"]*)"/.exec(xml)![1]!;
  const scanner = /-S (\S+)/.exec(args)![1]!;
  const info = /<scaninfo type="(\w+)" protocol="tcp" numservices="(\d+)"/.exec(xml)!;
  const targets: string[] = [];
  const open = new Set<number>();
  for (const host of xml.split('<host ').slice(1)) {
    const addr = /<address addr="([^"]+)" addrtype="ipv[46]"/.exec(host)![1]!;
    targets.push(addr);
    for (const m of host.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="([a-z|]+)"/g)) {
      if (m[2] === 'open' || m[2] === 'open|filtered') open.add(Number(m[1]));
    }
    // A port list collapsed into <extraports state="open|filtered"> would hide ports: never expected here.
    assert.doesNotMatch(host, /<extraports state="open/, `${xmlFile}: open ports folded into extraports`);
  }
  return {
    scanner, kind, probeTypes: [NMAP_TYPE[info[1]!]!], targets: targets.sort(), ports: Number(info[2]),
    openPorts: [...open].sort((a, b) => a - b),
  };
}

/** The nmap recipes of make.sh and the kind of scan each is. */
export const NMAP_RECIPES: Record<string, ExpectedScan['kind']> = {
  'scan-syn': 'vertical', 'scan-connect': 'vertical', 'scan-fin': 'vertical', 'scan-null': 'vertical',
  'scan-xmas': 'vertical', 'scan-ack': 'vertical', 'scan-maimon': 'vertical', 'scan-window': 'vertical',
  'scan-ipv6': 'vertical', 'scan-sweep': 'horizontal', 'scan-block': 'block', 'scan-slow': 'vertical',
};

/** hping3.pcap: five hping3 runs from 10.199.1.11-15, ports 70-94 of 10.199.0.2 where 80 is open. */
export const HPING3_EXPECTED: ExpectedScan[] = [
  ['10.199.1.11', 'syn', [80]], ['10.199.1.12', 'fin', [80]], ['10.199.1.13', 'xmas', [80]],
  ['10.199.1.14', 'null', [80]], ['10.199.1.15', 'ack', []],
].map(([scanner, type, open]) => ({
  scanner: scanner as string, probeTypes: [type as string], kind: 'vertical', targets: ['10.199.0.2'], ports: 25, openPorts: open as number[],
}));

export const BENIGN = [
  'benign-http', 'benign-busy', 'benign-bulk', 'benign-clients', 'anomalies',
  'benign-data-ports', 'benign-health', 'benign-retry', 'benign-browser', 'benign-http300',
];

export interface ReportedScan {
  scanner: string;
  kind: string;
  probe_types: string[];
  targets: number;
  target_list: string[];
  ports: number;
  port_ranges: string;
  open_ports: number[];
  probes: number;
  first_ts: string;
  last_ts: string;
  rate_per_s: number | null;
}

export async function scansOf(file: string, extra: string[] = []): Promise<ReportedScan[]> {
  const r = await runCli(['scans', file, '--format', 'json', ...extra]);
  assert.equal(r.status, 0, `${path.basename(file)}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReportedScan[];
}

/** Each expected scan is reported exactly once with the right scanner, type, targets, port count (2%) and open ports. */
export function assertScans(label: string, reported: ReportedScan[], expected: ExpectedScan[]): void {
  assert.equal(reported.length, expected.length, `${label}: ${reported.length} scans reported, ${expected.length} expected: ${JSON.stringify(reported.map((s) => s.scanner))}`);
  for (const want of expected) {
    const got = reported.find((s) => s.scanner === want.scanner);
    assert.ok(got, `${label}: no scan from ${want.scanner}`);
    assert.equal(got.kind, want.kind, `${label}: kind`);
    assert.deepEqual(got.probe_types, want.probeTypes, `${label}: probe types`);
    assert.deepEqual([...got.target_list].sort(), want.targets, `${label}: targets`);
    assert.equal(got.targets, want.targets.length);
    assert.ok(Math.abs(got.ports - want.ports) <= want.ports * 0.02, `${label}: ${got.ports} distinct ports, nmap probed ${want.ports}`);
    assert.deepEqual(got.open_ports, want.openPorts, `${label}: open ports`);
    assert.ok(got.probes >= got.ports, `${label}: ${got.probes} probes for ${got.ports} ports`);
  }
}

/**
 * The tool behind each capture of make.sh, as `tcplens scans` must name it: capture name -> every
 * scan's tool and an evidence item that must be among the fields that matched.
 */
export const TOOL_EXPECTED: Record<string, { tool: string; evidence: string; scans: number }> = {
  'scan-syn': { tool: 'nmap', evidence: 'options=mss', scans: 1 },
  'scan-connect': { tool: 'connect', evidence: 'options=mss,sack_perm,wscale,ts', scans: 1 },
  'scan-fin': { tool: 'nmap', evidence: 'seq-reused', scans: 1 },
  'scan-ack': { tool: 'nmap', evidence: 'sport-reused', scans: 1 },
  'scan-os': { tool: 'nmap', evidence: 'os-probe:tsval=0xFFFFFFFF,tsecr=0', scans: 1 },
  masscan: { tool: 'masscan', evidence: 'ip_id=(dst^dport^seq)&0xffff', scans: 1 },
  zmap: { tool: 'zmap', evidence: 'ip_id=54321', scans: 1 },
  hping3: { tool: 'hping3', evidence: 'sport+1-per-probe', scans: 5 },
};

export interface ToolScan { scanner: string; tool: string; tool_confidence: number; tool_evidence: string[] }

/** Every scan of the capture names the expected tool, with confidence >= 0.8 and the expected evidence. */
export async function assertTool(name: string, file: string): Promise<void> {
  const want = TOOL_EXPECTED[name]!;
  const scans = (await scansOf(file)) as unknown as ToolScan[];
  assert.equal(scans.length, want.scans, `${name}: ${scans.length} scans`);
  for (const s of scans) {
    assert.equal(s.tool, want.tool, `${name}: ${s.scanner} tool ${s.tool} (${s.tool_evidence.join('; ')})`);
    assert.ok(s.tool_confidence >= 0.8, `${name}: confidence ${s.tool_confidence}`);
    assert.ok(s.tool_evidence.includes(want.evidence), `${name}: evidence ${JSON.stringify(s.tool_evidence)}`);
  }
}

interface GroupScan { scanner: string; kind: string; ports: number; group_id: number | null; group_kind: string | null }

/** scan-decoy: nmap -S 10.199.1.24 -D 10.199.1.25,...,29: six rows, one decoy group, all 202 ports each. */
export async function assertDecoyGroup(file: string): Promise<void> {
  const scans = (await scansOf(file)) as unknown as GroupScan[];
  assert.deepEqual(scans.map((s) => s.scanner).sort(), ['10.199.1.24', '10.199.1.25', '10.199.1.26', '10.199.1.27', '10.199.1.28', '10.199.1.29']);
  assert.equal(new Set(scans.map((s) => s.group_id)).size, 1);
  assert.ok(scans.every((s) => s.group_id !== null && s.group_kind === 'decoy' && s.kind === 'vertical' && s.ports === 202), JSON.stringify(scans));
}

/** scan-distributed: four nmap runs from 10.199.4.1-4, 50 ports each: one distributed group. */
export async function assertDistributedGroup(file: string): Promise<void> {
  const scans = (await scansOf(file)) as unknown as GroupScan[];
  assert.deepEqual(scans.map((s) => s.scanner).sort(), ['10.199.4.1', '10.199.4.2', '10.199.4.3', '10.199.4.4']);
  assert.equal(new Set(scans.map((s) => s.group_id)).size, 1);
  assert.ok(scans.every((s) => s.group_id !== null && s.group_kind === 'distributed' && s.ports === 50), JSON.stringify(scans));
}

/** scan-split: five nmap runs from 10.199.4.11-15, 4 ports each of 1-20: each below the thresholds, one
 *  distributed group whose union reaches 15 ports; every member detected with the group. */
export async function assertSplitGroup(file: string): Promise<void> {
  const scans = (await scansOf(file)) as unknown as (GroupScan & { detected_at: string; probes_to_detect: number })[];
  assert.deepEqual(scans.map((s) => s.scanner).sort(), ['10.199.4.11', '10.199.4.12', '10.199.4.13', '10.199.4.14', '10.199.4.15']);
  assert.equal(new Set(scans.map((s) => s.group_id)).size, 1);
  assert.ok(scans.every((s) => s.group_kind === 'distributed' && s.ports === 4 && s.probes_to_detect === 15), JSON.stringify(scans));
  assert.equal(new Set(scans.map((s) => s.detected_at)).size, 1);
}
