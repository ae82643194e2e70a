/**
 * Zeek as the oracle for connections: the conn.logs Zeek's own test suite recorded for the traces of the
 * shared corpus (extracted into test/flows/zeek-baselines, one file per btest, each starting with a line
 * saying where it came from and how Zeek was run) against `tcplens conns TRACE --format json`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { corpusDir, repoRoot } from '../support/paths.js';

export const baselineDir = path.join(repoRoot, 'test/flows/zeek-baselines');

export interface BaselineConn {
  ts: string | null;
  orig_h: string | null;
  orig_p: number | null;
  resp_h: string | null;
  resp_p: number | null;
  /** null where the baseline lacks the column (zeek-cut output of a few columns). */
  conn_state: string | null;
  history: string | null;
  orig_pkts: number | null;
  resp_pkts: number | null;
}

export interface Baseline {
  name: string;
  trace: string;
  /** Zeek ran with -C (checksums ignored). */
  ignoreChecksums: boolean;
  conns: BaselineConn[];
}

function field(cells: string[], names: string[], name: string): string | null {
  const i = names.indexOf(name);
  if (i < 0) return null;
  const v = cells[i]!;
  return v === '-' ? null : v;
}

export function readBaselines(): Baseline[] {
  const out: Baseline[] = [];
  for (const file of readdirSync(baselineDir).filter((f) => f.endsWith('.conn.log')).sort()) {
    const lines = readFileSync(path.join(baselineDir, file), 'utf8').split('\n');
    const trace = lines.find((l) => l.startsWith('# trace: '))!.slice('# trace: '.length);
    const ignoreChecksums = lines.some((l) => l === '# checksums: ignored (-C)');
    const data = lines.filter((l) => l.length > 0 && !l.startsWith('# '));
    const fieldsLine = data.find((l) => l.startsWith('#fields\t'));
    let names: string[];
    let rows: string[];
    if (fieldsLine) {
      names = fieldsLine.split('\t').slice(1);
      rows = data.filter((l) => !l.startsWith('#'));
    } else {
      // zeek-cut output: a header line of column names, then rows.
      names = data[0]!.split('\t');
      rows = data.slice(1);
    }
    const conns: BaselineConn[] = [];
    for (const row of rows) {
      const cells = row.split('\t');
      const proto = field(cells, names, 'proto');
      if (proto !== null && proto !== 'tcp') continue;
      const num = (n: string): number | null => {
        const v = field(cells, names, n);
        return v === null ? null : Number(v);
      };
      conns.push({
        ts: field(cells, names, 'ts'), orig_h: field(cells, names, 'id.orig_h'), orig_p: num('id.orig_p'),
        resp_h: field(cells, names, 'id.resp_h'), resp_p: num('id.resp_p'),
        conn_state: names.includes('conn_state') ? field(cells, names, 'conn_state') ?? '' : null,
        history: names.includes('history') ? field(cells, names, 'history') ?? '' : null,
        orig_pkts: num('orig_pkts'), resp_pkts: num('resp_pkts'),
      });
    }
    out.push({ name: file.replace(/\.conn\.log$/, ''), trace, ignoreChecksums, conns });
  }
  return out;
}

export interface ConnComparison {
  baseline: string;
  zeek: BaselineConn | null;
  ours: Record<string, unknown> | null;
  /** Agreement per field; null where the baseline does not have the field. */
  state: boolean | null;
  history: boolean | null;
  packets: boolean | null;
}

/** Runs `tcplens conns` on the baseline's trace and pairs its connections with Zeek's. */
export async function compareBaseline(b: Baseline): Promise<ConnComparison[]> {
  const args = ['conns', path.join(corpusDir, b.trace), '--format', 'json'];
  if (!b.ignoreChecksums) args.push('--verify-checksums');
  const r = await runCli(args, { timeoutMs: 120_000 });
  if (r.status !== 0 && r.stdout.trim() === '') throw new Error(`tcplens conns ${b.trace}: exit ${r.status}: ${r.stderr}`);
  const ours = JSON.parse(r.stdout) as Record<string, unknown>[];
  const used = new Set<number>();
  const out: ConnComparison[] = [];
  const endpointsOnly = b.conns.every((c) => c.orig_h === null);
  for (const z of b.conns) {
    let best = -1;
    if (endpointsOnly) {
      best = ours.length === 1 ? 0 : -1;
    } else {
      let bestGap = Number.POSITIVE_INFINITY;
      ours.forEach((o, i) => {
        if (used.has(i)) return;
        const same = o['id.orig_h'] === z.orig_h && o['id.orig_p'] === z.orig_p && o['id.resp_h'] === z.resp_h && o['id.resp_p'] === z.resp_p;
        const swapped = o['id.orig_h'] === z.resp_h && o['id.orig_p'] === z.resp_p && o['id.resp_h'] === z.orig_h && o['id.resp_p'] === z.orig_p;
        if (!same && !swapped) return;
        const gap = z.ts === null || z.ts.startsWith('X') ? 0 : Math.abs(Number(o['ts']) - Number(z.ts));
        if (gap < bestGap) {
          bestGap = gap;
          best = i;
        }
      });
    }
    if (best < 0) {
      out.push({
        baseline: b.name, zeek: z, ours: null, state: z.conn_state === null ? null : false, history: z.history === null ? null : false,
        packets: z.orig_pkts === null && z.resp_pkts === null ? null : false,
      });
      continue;
    }
    used.add(best);
    const o = ours[best]!;
    out.push({
      baseline: b.name, zeek: z, ours: o,
      state: z.conn_state === null ? null : o['conn_state'] === z.conn_state,
      history: z.history === null ? null : o['history'] === z.history,
      packets: z.orig_pkts === null && z.resp_pkts === null ? null
        : (z.orig_pkts === null || o['orig_pkts'] === z.orig_pkts) && (z.resp_pkts === null || o['resp_pkts'] === z.resp_pkts),
    });
  }
  // Connections Zeek did not log (when the baseline names endpoints) disagree too.
  if (!endpointsOnly) {
    ours.forEach((o, i) => {
      if (!used.has(i)) out.push({ baseline: b.name, zeek: null, ours: o, state: false, history: false, packets: false });
    });
  }
  return out;
}

export function describe(c: ConnComparison): string {
  const z = c.zeek;
  const o = c.ours;
  const zt = z ? `${z.conn_state ?? '?'} ${z.history ?? '?'} ${z.orig_pkts ?? '?'}/${z.resp_pkts ?? '?'}` : 'not in Zeek';
  const ot = o ? `${o['conn_state']} ${o['history']} ${o['orig_pkts']}/${o['resp_pkts']}` : 'not in tcplens';
  const who = z ? `${z.orig_h ?? ''}:${z.orig_p ?? ''}>${z.resp_h ?? ''}:${z.resp_p ?? ''}` : `${o!['id.orig_h']}:${o!['id.orig_p']}>${o!['id.resp_h']}:${o!['id.resp_p']}`;
  return `${c.baseline} ${who}: zeek ${zt} | tcplens ${ot}`;
}

/** Per field: connections where the baseline has it, and where tcplens agrees. */
export function agreement(all: ConnComparison[], key: 'state' | 'history' | 'packets'): { total: number; equal: number } {
  const known = all.filter((c) => c[key] !== null);
  return { total: known.length, equal: known.filter((c) => c[key] === true).length };
}
