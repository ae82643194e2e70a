/**
 * The conformance check shared by the seq tests: run tshark 4.0 (the oracle) once per capture with every
 * tcp.analysis flag as a field, load the same file through the library's openCaptures (the path every
 * command takes), and compare frame by frame, flag by flag.
 */
import { openCaptures } from '../../analyzer/index.js';
import { SEQ_FLAGS } from '../../analyzer/seq/flags.js';
import { tshark } from '../support/tshark.js';

export interface FlagAgreement {
  /** Frames flagged by tshark, by us, and by both. */
  tshark: number;
  ours: number;
  both: number;
  /** First frames flagged by only one side (up to 5 each), for the failure message. */
  onlyTshark: number[];
  onlyOurs: number[];
}

export interface FileAgreement {
  path: string;
  /** Indexed by flag code. */
  flags: FlagAgreement[];
  tcpPackets: number;
}

/** tshark's flagged frames per flag code. A flag field prints "1" (or "1,1" when added twice) or nothing. */
export async function tsharkFlags(file: string): Promise<Set<number>[]> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number'];
  for (const f of SEQ_FLAGS) args.push('-e', `tcp.analysis.${f}`);
  const { stdout } = await tshark(args);
  const sets = SEQ_FLAGS.map(() => new Set<number>());
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const cells = line.split('\t');
    const frame = Number(cells[0]);
    for (let code = 0; code < SEQ_FLAGS.length; code++) if ((cells[code + 1] ?? '') !== '') sets[code]!.add(frame);
  }
  return sets;
}

/** Our flags per flag code, as `seq` computes them (the same load, the same tcp_analysis table). */
export async function tcplensFlags(files: readonly string[]): Promise<{ flags: Set<number>[]; tcpPackets: number }> {
  const lens = await openCaptures(files, { tables: 'flags' });
  try {
    const sets = SEQ_FLAGS.map(() => new Set<number>());
    const r = await lens.query('SELECT frame::DOUBLE AS frame, enum_code(flag)::INTEGER AS code FROM tcp_analysis');
    for (const row of r.rows) sets[Number(row['code'])]!.add(Number(row['frame']));
    const tcp = lens.captures.reduce((n, c) => n + c.tcpPackets, 0);
    return { flags: sets, tcpPackets: tcp };
  } finally {
    await lens.close();
  }
}

export async function compareWithTshark(file: string, displayPath = file): Promise<FileAgreement> {
  const [theirs, ours] = await Promise.all([tsharkFlags(file), tcplensFlags([file])]);
  const flags = SEQ_FLAGS.map((_, code) => agreement(theirs[code]!, ours.flags[code]!));
  return { path: displayPath, flags, tcpPackets: ours.tcpPackets };
}

function agreement(theirs: Set<number>, ours: Set<number>): FlagAgreement {
  let both = 0;
  const onlyTshark: number[] = [];
  const onlyOurs: number[] = [];
  for (const f of theirs) {
    if (ours.has(f)) both++;
    else onlyTshark.push(f);
  }
  for (const f of ours) if (!theirs.has(f)) onlyOurs.push(f);
  onlyTshark.sort((a, b) => a - b);
  onlyOurs.sort((a, b) => a - b);
  return { tshark: theirs.size, ours: ours.size, both, onlyTshark: onlyTshark.slice(0, 5), onlyOurs: onlyOurs.slice(0, 5) };
}

/** F1 of our flags against tshark's; 1 when neither side raises the flag. */
export function f1(a: { tshark: number; ours: number; both: number }): number {
  if (a.tshark + a.ours === 0) return 1;
  return (2 * a.both) / (a.tshark + a.ours);
}

/** Sums per flag over files. */
export function totals(files: FileAgreement[]): { tshark: number; ours: number; both: number }[] {
  return SEQ_FLAGS.map((_, code) => {
    const t = { tshark: 0, ours: 0, both: 0 };
    for (const f of files) {
      t.tshark += f.flags[code]!.tshark;
      t.ours += f.flags[code]!.ours;
      t.both += f.flags[code]!.both;
    }
    return t;
  });
}

/** The aggregate table (markdown): per flag, frames flagged by tshark, by tcplens, by both, and F1. */
export function markdownTable(files: FileAgreement[]): string {
  const lines = ['| flag | tshark | tcplens | both | F1 | files below 0.99 |', '|---|---:|---:|---:|---:|---:|'];
  totals(files).forEach((t, code) => {
    const below = files.filter((f) => f1(f.flags[code]!) < 0.99).length;
    lines.push(`| ${SEQ_FLAGS[code]} | ${t.tshark} | ${t.ours} | ${t.both} | ${f1(t).toFixed(4)} | ${below} |`);
  });
  return lines.join('\n');
}

/** Files where some flag has F1 < 0.99, worst first, with the first differing frames. */
export function failures(files: FileAgreement[]): string[] {
  const bad: { score: number; text: string }[] = [];
  for (const f of files) {
    const parts: string[] = [];
    let worst = 1;
    f.flags.forEach((a, code) => {
      const score = f1(a);
      if (score >= 0.99) return;
      worst = Math.min(worst, score);
      parts.push(`${SEQ_FLAGS[code]} F1=${score.toFixed(3)} (tshark ${a.tshark}, ours ${a.ours}, both ${a.both}; ` +
        `only tshark: ${a.onlyTshark.join(' ') || '-'}; only ours: ${a.onlyOurs.join(' ') || '-'})`);
    });
    if (parts.length > 0) bad.push({ score: worst, text: `${f.path}: ${parts.join('; ')}` });
  }
  return bad.sort((a, b) => a.score - b.score).map((b) => b.text);
}
