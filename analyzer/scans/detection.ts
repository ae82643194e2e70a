/**
 * When a scan became detectable, by two methods (docs/scans.md "Detection delay"):
 *
 * - threshold (the default): the probe at which the episode first reaches --min-ports ports on one host
 *   or --min-hosts hosts.
 * - trw: Threshold Random Walk (Jung, Paxson, Berger, Balakrishnan, "Fast Portscan Detection Using
 *   Sequential Hypothesis Testing", IEEE S&P 2004). Each observation of a source multiplies a likelihood
 *   ratio by P(outcome | scanner) / P(outcome | benign): a failed first contact by theta1'/theta0' =
 *   0.8/0.2 = 4, a success by 0.2/0.8 = 0.25 (theta0 = 0.8: a benign source's first contact succeeds with
 *   probability 0.8; theta1 = 0.2: a scanner's). The walk decides "scanner" at eta1 = beta/alpha = 99 and
 *   "benign" at eta0 = (1 - beta)/(1 - alpha) = 0.0101 (alpha = 0.01 false positives, beta = 0.99
 *   detections wanted); both decisions restart the walk at 1, so a source that turns to scanning later
 *   is still caught.
 *
 * Observations (our adaptation to captures, where vertical scans of one host matter as much as sweeps):
 * the paper counts first contacts to new hosts; here the unit is the (target, port) endpoint. A probe
 * (probes.ts) is a failure when it was not answered with a SYN/ACK (refused, unanswered, and every FIN,
 * NULL, Xmas, ACK, Maimon and OS probe, which can never open a connection), a success when it was; both
 * count once per endpoint, so retrying one refused port is one failure. Every connection that carried
 * data (in either direction) is a success each time: the evidence of benign use the paper's first
 * contacts to live servers stand for.
 *
 * Output: TEMP table `scan_detection(prober, episode, method, frame_capture, frame_flow, probes_to_detect)`
 * naming, per episode and method, the probe flow at which it was detected and how many distinct (target,
 * port) pairs the episode had probed by then (that probe included).
 */
import type { Database } from '../db/database.js';
import type { ScanThresholds } from './thresholds.js';

export type DetectionMethod = 'threshold' | 'trw';
export const DETECTION_METHODS: readonly DetectionMethod[] = ['threshold', 'trw'];

/** The paper's parameters. */
export const TRW = Object.freeze({ theta0: 0.8, theta1: 0.2, alpha: 0.01, beta: 0.99 });
const ETA1 = TRW.beta / TRW.alpha;
const ETA0 = (1 - TRW.beta) / (1 - TRW.alpha);
const FAILURE_STEP = (1 - TRW.theta1) / (1 - TRW.theta0);
const SUCCESS_STEP = TRW.theta1 / TRW.theta0;

interface Probe {
  prober: string;
  episode: number;
  target: string;
  dport: number;
  ns: bigint;
  success: boolean;
  capture: number;
  flow: number;
}

interface Detection {
  prober: string;
  episode: number;
  method: DetectionMethod;
  capture: number;
  flow: number;
  probes: number;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The threshold method: walk each episode's probes in time order until a threshold is reached. */
function thresholdDetections(probes: Probe[], t: ScanThresholds): Detection[] {
  const out: Detection[] = [];
  let key = '';
  let done = false;
  let pairs = new Set<string>();
  let hostPorts = new Map<string, Set<number>>();
  for (const p of probes) {
    const k = `${p.prober}\u0000${p.episode}`;
    if (k !== key) {
      key = k;
      done = false;
      pairs = new Set();
      hostPorts = new Map();
    }
    if (done) continue;
    pairs.add(`${p.target}|${p.dport}`);
    let ports = hostPorts.get(p.target);
    if (!ports) hostPorts.set(p.target, (ports = new Set()));
    ports.add(p.dport);
    if (ports.size >= t.minPorts || hostPorts.size >= t.minHosts) {
      out.push({ prober: p.prober, episode: p.episode, method: 'threshold', capture: p.capture, flow: p.flow, probes: pairs.size });
      done = true;
    }
  }
  return out;
}

/**
 * TRW over each source's merged stream of probes and data connections (both in time order). `successes`
 * holds, per source, the times of its data-carrying connections, sorted.
 */
function trwDetections(probes: Probe[], successes: Map<string, bigint[]>): Detection[] {
  const out: Detection[] = [];
  const bySource = new Map<string, Probe[]>();
  for (const p of probes) {
    let list = bySource.get(p.prober);
    if (!list) bySource.set(p.prober, (list = []));
    list.push(p);
  }
  for (const [source, list] of bySource) {
    const data = successes.get(source) ?? [];
    let d = 0;
    let ratio = 1;
    const seen = new Set<string>();
    const episodePairs = new Map<number, Set<string>>();
    const detected = new Set<number>();
    const step = (factor: number) => {
      ratio *= factor;
      if (ratio <= ETA0) ratio = 1; // benign: the walk restarts
    };
    for (const p of list) {
      for (; d < data.length && data[d]! <= p.ns; d++) step(SUCCESS_STEP);
      const pair = `${p.target}|${p.dport}`;
      let pairs = episodePairs.get(p.episode);
      if (!pairs) episodePairs.set(p.episode, (pairs = new Set()));
      pairs.add(pair);
      if (seen.has(pair)) continue; // a retry or second probe of one endpoint is no new evidence
      seen.add(pair);
      step(p.success ? SUCCESS_STEP : FAILURE_STEP);
      if (ratio >= ETA1) {
        if (!detected.has(p.episode)) {
          detected.add(p.episode);
          out.push({ prober: p.prober, episode: p.episode, method: 'trw', capture: p.capture, flow: p.flow, probes: pairs.size });
        }
        ratio = 1; // scanner: the walk restarts for the source's next episodes
      }
    }
  }
  return out;
}

/** Fills `scan_detection` from `scan_episodes` (detect.ts) and `flows`. */
export async function detectTimes(db: Database, thresholds: ScanThresholds): Promise<void> {
  await db.query(`CREATE OR REPLACE TEMP TABLE scan_detection (prober VARCHAR, episode BIGINT, method VARCHAR,
    frame_capture INTEGER, frame_flow BIGINT, probes_to_detect INTEGER)`);
  const r = await db.query(`
    SELECT prober, CAST(episode AS BIGINT) AS episode, target, dport, CAST(epoch_ns(first_ts) AS VARCHAR) AS ns,
           answer = 'synack' AS success, capture_id, flow_id
    FROM scan_episodes
    -- Sources with fewer distinct (target, port) probes can reach neither method's line (TRW needs 4
    -- failures in a row: 4^3 = 64 < 99): leaving them out keeps a flood of spoofed one-probe sources
    -- out of memory.
    WHERE prober IN (SELECT prober FROM scan_episodes GROUP BY prober
                     HAVING count(DISTINCT (target, dport)) >= ${Math.min(4, thresholds.minPorts, thresholds.minHosts)})
    ORDER BY prober, first_ts, capture_id, flow_id`);
  const probes: Probe[] = r.rows.map((row) => ({
    prober: String(row['prober']),
    episode: Number(row['episode']),
    target: String(row['target']),
    dport: Number(row['dport']),
    ns: BigInt(String(row['ns'])),
    success: Boolean(row['success']),
    capture: Number(row['capture_id']),
    flow: Number(row['flow_id']),
  }));
  const f = await db.query(`
    SELECT client, CAST(epoch_ns(first_ts) AS VARCHAR) AS ns FROM flows
    WHERE client_payload + server_payload > 0 AND client IN (SELECT DISTINCT prober FROM scan_episodes)
    ORDER BY client, first_ts`);
  const successes = new Map<string, bigint[]>();
  for (const row of f.rows) {
    const c = String(row['client']);
    let list = successes.get(c);
    if (!list) successes.set(c, (list = []));
    list.push(BigInt(String(row['ns'])));
  }
  const detections = [...thresholdDetections(probes, thresholds), ...trwDetections(probes, successes)];
  for (let i = 0; i < detections.length; i += 1000) {
    const values = detections.slice(i, i + 1000).map((d) =>
      `(${sqlString(d.prober)}, ${d.episode}, '${d.method}', ${d.capture}, ${d.flow}, ${d.probes})`);
    await db.query(`INSERT INTO scan_detection VALUES ${values.join(', ')}`);
  }
}
