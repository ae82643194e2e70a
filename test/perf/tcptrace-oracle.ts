/**
 * Per-connection figures against Debian's tcptrace (`tcptrace -l -n -r FILE`): RTT min/avg/max, retransmitted
 * bytes, unique bytes and throughput of each direction, for the connections both tools see. Ours come from the
 * public library (openCaptures + the flows table), as `tcplens conns` shows them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openCaptures } from '../../analyzer/index.js';

const run = promisify(execFile);

export interface TcptraceDirection {
  [field: string]: number | null;
}

export interface TcptraceConn {
  a: string;
  b: string;
  /** a->b and b->a figures by tcptrace's label. */
  ab: TcptraceDirection;
  ba: TcptraceDirection;
}

/** "192.168.1.1:80" or an IPv6 address with a port after the last colon. */
function splitHost(text: string): [string, number] {
  const i = text.lastIndexOf(':');
  return [text.slice(0, i), Number(text.slice(i + 1))];
}

function value(text: string): number | null {
  return text === 'NA' || text === '' ? null : Number(text);
}

export async function tcptrace(file: string): Promise<TcptraceConn[] | null> {
  let stdout: string;
  try {
    ({ stdout } = await run('tcptrace', ['-l', '-n', '-r', file], { maxBuffer: 1 << 28, timeout: 120_000 }));
  } catch {
    return null; // a format tcptrace cannot read (pcapng, some link types)
  }
  const conns: TcptraceConn[] = [];
  let cur: TcptraceConn | null = null;
  for (const line of stdout.split('\n')) {
    if (/^TCP connection \d+:/.test(line)) {
      cur = { a: '', b: '', ab: {}, ba: {} };
      conns.push(cur);
      continue;
    }
    if (!cur) continue;
    const host = /^\s+host ([ab]):\s+(\S+)/.exec(line);
    if (host) {
      cur[host[1] as 'a' | 'b'] = host[2]!;
      continue;
    }
    const pair = /^\s+([A-Za-z#/ _]+?):\s+(\S+)(?:\s+[A-Za-z]+)?\s{2,}([A-Za-z#/ _]+?):\s+(\S+)/.exec(line);
    if (pair) {
      cur.ab[pair[1]!.trim()] = value(pair[2]!);
      cur.ba[pair[3]!.trim()] = value(pair[4]!);
    }
  }
  return conns.filter((c) => c.a !== '' && c.b !== '');
}

/** The figures compared, with how close counts as agreement. */
export const FIGURES = [
  { name: 'RTT min', ours: 'rtt_min_ms', theirs: 'RTT min', abs: 0.05, rel: 0.01 },
  { name: 'RTT avg', ours: 'rtt_avg_ms', theirs: 'RTT avg', abs: 0.05, rel: 0.01 },
  { name: 'RTT max', ours: 'rtt_max_ms', theirs: 'RTT max', abs: 0.05, rel: 0.01 },
  { name: 'retransmitted bytes', ours: 'retrans_bytes', theirs: 'rexmt data bytes', abs: 0, rel: 0 },
  { name: 'unique bytes', ours: 'unique_bytes', theirs: 'unique bytes sent', abs: 0, rel: 0.01 },
  { name: 'throughput (B/s)', ours: 'goodput_bps', theirs: 'throughput', abs: 1, rel: 0.01, scale: 1 / 8 },
] as const;

export interface FigureAgreement {
  compared: number;
  agree: number;
  examples: string[];
}

export interface FileComparison {
  path: string;
  readable: boolean;
  connections: number;
  figures: FigureAgreement[];
}

export async function compareWithTcptrace(file: string, displayPath = file): Promise<FileComparison> {
  const figures: FigureAgreement[] = FIGURES.map(() => ({ compared: 0, agree: 0, examples: [] }));
  const theirs = await tcptrace(file);
  if (theirs === null) return { path: displayPath, readable: false, connections: 0, figures };
  const lens = await openCaptures([file]);
  let rows: Record<string, unknown>[];
  try {
    rows = (await lens.query('SELECT * FROM flows ORDER BY first_ts, flow_id')).rows;
  } finally {
    await lens.close();
  }
  const used = new Set<number>();
  let connections = 0;
  for (const t of theirs) {
    const [ah, ap] = splitHost(t.a);
    const [bh, bp] = splitHost(t.b);
    const i = rows.findIndex((r, k) => !used.has(k) &&
      ((r['client'] === ah && r['cport'] === ap && r['server'] === bh && r['sport'] === bp) ||
       (r['client'] === bh && r['cport'] === bp && r['server'] === ah && r['sport'] === ap)));
    if (i < 0) continue;
    used.add(i);
    connections++;
    const r = rows[i]!;
    const aIsClient = r['client'] === ah && r['cport'] === ap;
    for (const [dir, side] of [[t.ab, aIsClient ? 'client' : 'server'], [t.ba, aIsClient ? 'server' : 'client']] as const) {
      FIGURES.forEach((f, k) => {
        const tv = dir[f.theirs];
        const raw = r[`${side}_${f.ours}`];
        if (tv === null || tv === undefined) return;
        // RTT only where tcptrace took samples; the rest wherever tcptrace reports the figure.
        if (f.theirs.startsWith('RTT') && !(Number(dir['RTT samples']) > 0)) return;
        const ov = raw === null || raw === undefined ? Number.NaN : Number(raw) * ('scale' in f ? f.scale : 1);
        const a = figures[k]!;
        a.compared++;
        if (Math.abs(ov - tv) <= Math.max(f.abs, f.rel * Math.abs(tv))) a.agree++;
        else if (a.examples.length < 3) a.examples.push(`${t.a}>${t.b} ${dir === t.ab ? 'a->b' : 'b->a'}: tcptrace ${tv}, tcplens ${Number.isNaN(ov) ? '-' : +ov.toFixed(3)}`);
      });
    }
  }
  return { path: displayPath, readable: true, connections, figures };
}

export function totals(files: FileComparison[]): FigureAgreement[] {
  return FIGURES.map((_, k) => {
    const t: FigureAgreement = { compared: 0, agree: 0, examples: [] };
    for (const f of files) {
      t.compared += f.figures[k]!.compared;
      t.agree += f.figures[k]!.agree;
      if (t.examples.length < 8) t.examples.push(...f.figures[k]!.examples.slice(0, 8 - t.examples.length).map((e) => `${f.path}: ${e}`));
    }
    return t;
  });
}

export function markdownTable(files: FileComparison[]): string {
  const lines = ['| figure (per direction) | tolerance | compared | agree | share |', '|---|---|---:|---:|---:|'];
  totals(files).forEach((t, k) => {
    const f = FIGURES[k]!;
    const tol = f.abs === 0 && f.rel === 0 ? 'equal' : `${f.abs > 0 ? `${f.abs}` : ''}${f.abs > 0 && f.rel > 0 ? ' or ' : ''}${f.rel > 0 ? `${f.rel * 100}%` : ''}`;
    lines.push(`| ${f.name} | ${tol} | ${t.compared} | ${t.agree} | ${t.compared === 0 ? '-' : `${((100 * t.agree) / t.compared).toFixed(1)}%`} |`);
  });
  return lines.join('\n');
}
