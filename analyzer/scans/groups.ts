/**
 * Decoy and distributed scans: several sources that are one scan.
 *
 * Each source's probes span [first, last], widened by GROUP_PAD_SECONDS on both sides.
 * - decoy (nmap -D, Snort's "decoy portscan"): sources in lockstep: the same (target, port) pairs
 *   (Jaccard similarity >= DECOY_JACCARD), each shared pair first probed by both within
 *   DECOY_INTERVAL_SECONDS (the median over the shared pairs: nmap sends a probe from every decoy back to
 *   back, whatever its timing template, while scans run one after the other are far apart). Every
 *   decoy still has its own scan row; nothing on the wire tells the real one from the forged ones.
 * - distributed (Snort's "distributed portscan"): at least DISTRIBUTED_MIN_SOURCES sources linked by
 *   pairs whose widened spans overlap, that share a target and split its ports (Jaccard <=
 *   DISTRIBUTED_JACCARD), with no two members probing largely the same pairs (every pair of members
 *   at most DISTRIBUTED_JACCARD: two runs of one recipe are not a split). The group counts when its union meets the scan thresholds, so sources that
 *   each stay below them still become scan rows of the group.
 *
 * Input: `scan_episodes` (detect.ts). Output: TEMP table `scan_group_members(prober, episode, group_id,
 * group_kind, detect_capture, detect_flow, group_probes)`, one row per episode in a group; group ids in
 * order of the group's first probe. detect_* name the probe at which the union of the group's probes
 * reached the thresholds, group_probes how many distinct (source, target, port) probes it took: the
 * detection of members whose own probes never reach them.
 */
import type { Database } from '../db/database.js';
import type { ScanThresholds } from './thresholds.js';

export const GROUP_PAD_SECONDS = 1;
export const DECOY_JACCARD = 0.5;
export const DECOY_INTERVAL_SECONDS = 0.25;
export const DISTRIBUTED_JACCARD = 0.1;
export const DISTRIBUTED_MIN_SOURCES = 3;
/** Episodes with fewer distinct (target, port) pairs take part in no group: too little to compare. */
const MIN_PAIRS = 3;

interface Candidate {
  prober: string;
  episode: number;
  t0: number;
  t1: number;
  pairs: Set<string>;
  /** When each (target, port) pair was first probed, seconds. */
  firstProbe: Map<string, number>;
  /** The probe flow that first probed each pair: [capture_id, flow_id]. */
  firstFlow: Map<string, [number, number]>;
  targets: string[];
}

function jaccard(a: Set<string>, b: Set<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let both = 0;
  for (const x of small) if (large.has(x)) both++;
  return both / (a.size + b.size - both);
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]!]!;
      i = this.parent[i]!;
    }
    return i;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

/** Median, over the (target, port) pairs both probed, of the time between their first probes. */
function lockstepGap(a: Candidate, b: Candidate): number {
  const gaps: number[] = [];
  for (const [pair, t] of a.firstProbe) {
    const u = b.firstProbe.get(pair);
    if (u !== undefined) gaps.push(Math.abs(t - u));
  }
  if (gaps.length === 0) return Infinity;
  gaps.sort((x, y) => x - y);
  return gaps[Math.floor(gaps.length / 2)]!;
}

/** Pairs of candidates that share a target and whose widened spans overlap, each pair once. */
function* overlappingPairs(cands: Candidate[]): Generator<[number, number]> {
  const byTarget = new Map<string, number[]>();
  cands.forEach((c, i) => {
    for (const t of c.targets) {
      let list = byTarget.get(t);
      if (!list) byTarget.set(t, (list = []));
      list.push(i);
    }
  });
  const seen = new Set<string>();
  for (const list of byTarget.values()) {
    list.sort((a, b) => cands[a]!.t0 - cands[b]!.t0);
    for (let x = 0; x < list.length; x++) {
      const a = cands[list[x]!]!;
      for (let y = x + 1; y < list.length; y++) {
        const b = cands[list[y]!]!;
        if (b.t0 >= a.t1 + 2 * GROUP_PAD_SECONDS) break; // sorted by start: no later one overlaps a
        if (a.prober === b.prober) continue;
        const key = list[x]! < list[y]! ? `${list[x]},${list[y]}` : `${list[y]},${list[x]}`;
        if (seen.has(key)) continue;
        seen.add(key);
        yield [list[x]!, list[y]!];
      }
    }
  }
}

interface Crossing { capture: number; flow: number; probes: number }

/**
 * The members' probes merged in time order: the first probe at which their union reaches the scan
 * thresholds (ports on one host, or hosts), or null when it never does.
 */
function unionCrossing(members: Candidate[], t: ScanThresholds): Crossing | null {
  const all: { t: number; pair: string; flow: [number, number] }[] = [];
  for (const m of members) for (const [pair, time] of m.firstProbe) all.push({ t: time, pair, flow: m.firstFlow.get(pair)! });
  all.sort((a, b) => a.t - b.t);
  const ports = new Map<string, Set<string>>();
  let probes = 0;
  for (const p of all) {
    probes++;
    const cut = p.pair.lastIndexOf('|');
    const target = p.pair.slice(0, cut);
    let set = ports.get(target);
    if (!set) ports.set(target, (set = new Set()));
    set.add(p.pair.slice(cut + 1));
    if (ports.size >= t.minHosts || set.size >= t.minPorts) return { capture: p.flow[0], flow: p.flow[1], probes };
  }
  return null;
}

export async function findGroups(db: Database, thresholds: ScanThresholds): Promise<void> {
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_group_members (prober VARCHAR, episode BIGINT, group_id INTEGER, group_kind VARCHAR,
    detect_capture INTEGER, detect_flow BIGINT, group_probes INTEGER)`);
  const r = await db.query(`
    SELECT prober, CAST(episode AS BIGINT) AS episode,
           epoch_ns(min(first_ts)) / 1e9 AS t0, epoch_ns(max(last_ts)) / 1e9 AS t1,
           list(pair) AS pairs, list(t) AS times, list(fc) AS fcs, list(ff) AS ffs, list(DISTINCT target) AS targets
    FROM (SELECT prober, episode, target, target || '|' || dport AS pair, epoch_ns(min(first_ts)) / 1e9 AS t,
                 arg_min(capture_id, (first_ts, capture_id, flow_id)) AS fc, arg_min(flow_id, (first_ts, capture_id, flow_id)) AS ff,
                 min(first_ts) AS first_ts, max(last_ts) AS last_ts
          FROM scan_episodes GROUP BY prober, episode, target, dport)
    GROUP BY prober, episode
    HAVING count(*) >= ${MIN_PAIRS}`);
  const cands: Candidate[] = r.rows.map((row) => ({
    prober: String(row['prober']),
    episode: Number(row['episode']),
    t0: Number(row['t0']),
    t1: Number(row['t1']),
    pairs: new Set(row['pairs'] as string[]),
    firstProbe: new Map((row['pairs'] as string[]).map((p, i) => [p, Number((row['times'] as unknown[])[i])])),
    firstFlow: new Map((row['pairs'] as string[]).map((p, i) => [p, [Number((row['fcs'] as unknown[])[i]), Number((row['ffs'] as unknown[])[i])]])),
    targets: row['targets'] as string[],
  }));
  const decoy = new UnionFind(cands.length);
  const distributedEdges: [number, number][] = [];
  for (const [a, b] of overlappingPairs(cands)) {
    const j = jaccard(cands[a]!.pairs, cands[b]!.pairs);
    if (j >= DECOY_JACCARD && lockstepGap(cands[a]!, cands[b]!) <= DECOY_INTERVAL_SECONDS) decoy.union(a, b);
    else if (j <= DISTRIBUTED_JACCARD) distributedEdges.push([a, b]);
  }
  const components = (uf: UnionFind, nodes: number[]): number[][] => {
    const by = new Map<number, number[]>();
    for (const i of nodes) {
      const root = uf.find(i);
      let list = by.get(root);
      if (!list) by.set(root, (list = []));
      list.push(i);
    }
    return [...by.values()];
  };
  const all = cands.map((_, i) => i);
  const groups: { kind: 'decoy' | 'distributed'; members: number[]; crossing: Crossing }[] = [];
  const inDecoy = new Set<number>();
  for (const members of components(decoy, all)) {
    const crossing = members.length < 2 ? null : unionCrossing(members.map((i) => cands[i]!), thresholds);
    if (!crossing) continue;
    groups.push({ kind: 'decoy', members, crossing });
    for (const i of members) inDecoy.add(i);
  }
  const distributed = new UnionFind(cands.length);
  for (const [a, b] of distributedEdges) if (!inDecoy.has(a) && !inDecoy.has(b)) distributed.union(a, b);
  for (const members of components(distributed, all.filter((i) => !inDecoy.has(i)))) {
    const sources = new Set(members.map((i) => cands[i]!.prober));
    const splits = members.every((a, x) => members.slice(x + 1).every((b) => jaccard(cands[a]!.pairs, cands[b]!.pairs) <= DISTRIBUTED_JACCARD));
    if (!splits || sources.size < DISTRIBUTED_MIN_SOURCES) continue;
    const crossing = unionCrossing(members.map((i) => cands[i]!), thresholds);
    if (!crossing) continue;
    groups.push({ kind: 'distributed', members, crossing });
  }
  groups.sort((a, b) => Math.min(...a.members.map((i) => cands[i]!.t0)) - Math.min(...b.members.map((i) => cands[i]!.t0)));
  const values: string[] = [];
  groups.forEach((g, n) => {
    for (const i of g.members) {
      const c = cands[i]!;
      values.push(`('${c.prober.replace(/'/g, "''")}', ${c.episode}, ${n + 1}, '${g.kind}', ${g.crossing.capture}, ${g.crossing.flow}, ${g.crossing.probes})`);
    }
  });
  if (values.length > 0) await db.query(`INSERT INTO scan_group_members VALUES ${values.join(', ')}`);
}
