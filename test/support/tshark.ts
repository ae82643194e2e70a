import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CorpusEntry } from './corpus.js';

const run = promisify(execFile);

/**
 * The decoding preferences tcplens follows where tshark's defaults differ (docs/decoder.md): Teredo found
 * on any UDP port, as Zeek finds it (tshark's heuristic is off by default). In the shared corpus it
 * changes only zeek/tunnels/Teredo.pcap (33 TCP frames with the defaults, 55 with it).
 */
export const TSHARK_DECODING_PREFS = ['-o', 'teredo.heuristic_teredo:TRUE'];

/** Runs tshark (the oracle) and returns stdout; stderr is returned too so tests can assert "no warning". */
export async function tshark(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('tshark', [...TSHARK_DECODING_PREFS, ...args], { maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } });
  return { stdout, stderr };
}

/**
 * Runs tshark on a file that may end inside a block (a recorder killed mid-write). tshark still prints
 * every whole packet but exits 2 after "appears to have been cut short"; any other failure rejects.
 */
export async function tsharkOnCutFile(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  try {
    return { ...(await tshark(args)), exitCode: 0 };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code !== 2 || !/appears to have been cut short/.test(failed.stderr ?? '')) throw e;
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', exitCode: 2 };
  }
}

/** tshark -T fields output as rows of cells. */
export async function tsharkFields(file: string, fields: string[], filter?: string): Promise<string[][]> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t'];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  const { stdout } = await tshark(args);
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

/**
 * What tshark counts as TCP frames in a corpus capture (INDEX.tsv's tcp_packets, "tcp && !icmp && !icmpv6").
 * INDEX.tsv was counted with tshark's default preferences; where TSHARK_DECODING_PREFS changes what is
 * decoded (a capture with Teredo), tshark counts again with them.
 */
export async function expectedTcpPackets(e: CorpusEntry): Promise<number> {
  if (!e.columns['notable_layers']!.split(',').includes('teredo')) return e.tcpPackets;
  return (await tsharkFields(e.absPath, ['frame.number'], 'tcp && !icmp && !icmpv6')).length;
}
