import { readFileSync } from 'node:fs';
import path from 'node:path';
import { corpusDir } from './paths.js';

/** One row of ../shared/corpus/INDEX.tsv: what tshark 4.0.x counts in each capture. */
export interface CorpusEntry {
  path: string;
  absPath: string;
  format: string;
  linktype: string;
  packets: number;
  tcpPackets: number;
  tsharkStatus: string;
  /** Every column by its header name, as text. */
  columns: Record<string, string>;
}

let cached: CorpusEntry[] | undefined;

/** Reads INDEX.tsv; throws (never skips) when the corpus is missing, so a CI without it goes red. */
export function corpusEntries(): CorpusEntry[] {
  if (cached) return cached;
  const text = readFileSync(path.join(corpusDir, 'INDEX.tsv'), 'utf8');
  const [header, ...lines] = text.split('\n').filter((l) => l.length > 0);
  const names = header!.split('\t');
  cached = lines.map((line) => {
    const cells = line.split('\t');
    const columns: Record<string, string> = {};
    names.forEach((n, i) => (columns[n] = cells[i] ?? ''));
    return {
      path: columns['path']!,
      absPath: path.join(corpusDir, columns['path']!),
      format: columns['format']!,
      linktype: columns['linktype']!,
      packets: Number(columns['packets']),
      tcpPackets: Number(columns['tcp_packets']),
      tsharkStatus: columns['tshark_status']!,
      columns,
    };
  });
  return cached;
}

/** Captures that tshark reads and that hold TCP: the set conformance tests compare on. */
export function tcpCorpusEntries(): CorpusEntry[] {
  return corpusEntries().filter((e) => e.tcpPackets > 0);
}
