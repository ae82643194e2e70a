/**
 * Writing speed of the pcapng writer, on the capture bench/read.ts uses:
 *   - tcplens convert: convertToPcapng, pcap in, pcapng out (two read passes + write), as a child process;
 *     the reference is `editcap -F pcapng IN OUT`, Wireshark's own conversion of the same file;
 *   - PcapngFileWriter.writePacket alone (the recorder's hot path): packets preloaded in memory, the
 *     in-process time of writing them all and closing the file.
 * Each output is checked by `capinfos -c -M` (packet count) once, then deleted.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ensureCapture } from './make-capture.js';
import { repeat, summarize, timeChild, type ChildRun } from './timing.js';
import type { BenchContext, BenchModule, BenchRow } from './types.js';

function countPackets(file: string): number {
  const out = execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return Number(/Number of packets:\s+(\d+)/.exec(out)?.[1]);
}

export const benchmark: BenchModule = {
  name: 'write',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const { path: input } = await ensureCapture({ packets: ctx.packets, outDir: ctx.outDir, log: ctx.log });
    const what = `write ${ctx.packets.toLocaleString('en-US')} packets as pcapng`;
    const rel = path.relative(ctx.repoRoot, input);
    const output = path.join(ctx.outDir, 'write-bench.pcapng');
    const worker = path.join(ctx.buildRoot, 'bench/write-worker.js');
    const relWorker = path.relative(ctx.repoRoot, worker);
    const rows: BenchRow[] = [];
    const measure = async (tool: string, once: () => Promise<ChildRun>, inProcess: boolean): Promise<void> => {
      ctx.log(`${ctx.runs} runs: ${tool}`);
      try {
        const inside: number[] = [];
        const { summary, last } = await repeat(ctx.runs, async () => {
          const r = await once();
          if (inProcess) inside.push((JSON.parse(r.stdout) as { seconds: number }).seconds);
          return r;
        });
        void last;
        const counted = countPackets(output);
        if (counted !== ctx.packets) throw new Error(`the output has ${counted} packets, not ${ctx.packets}`);
        const s = inProcess ? summarize(inside) : summary;
        rows.push({
          benchmark: what, tool, runs: ctx.runs, medianSeconds: s.median, minSeconds: s.min, maxSeconds: s.max,
          ratePerSecond: ctx.packets / s.median, ratio: '',
          notes: inProcess ? 'time inside the process: writing from memory and closing, no reading' : 'child process, spawn to exit',
        });
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ');
        rows.push({ benchmark: what, tool, runs: 0, medianSeconds: NaN, minSeconds: NaN, maxSeconds: NaN, ratePerSecond: null, ratio: '', notes: `FAILED: ${message}` });
      } finally {
        rmSync(output, { force: true });
      }
    };
    await measure(`tcplens convert: node ${relWorker} convert ${rel} OUT.pcapng`, () => timeChild(process.execPath, [worker, 'convert', input, output]), false);
    await measure(`editcap -F pcapng ${rel} OUT.pcapng`, () => timeChild('editcap', ['-F', 'pcapng', input, output]), false);
    await measure(`PcapngFileWriter.writePacket: node ${relWorker} writer ${rel} OUT.pcapng`, () => timeChild(process.execPath, [worker, 'writer', input, output]), true);
    const reference = rows.find((r) => r.tool.startsWith('editcap') && r.ratePerSecond !== null);
    for (const r of rows) {
      if (reference && r !== reference && r.ratePerSecond !== null) r.ratio = `${(r.ratePerSecond / reference.ratePerSecond!).toFixed(2)}x editcap`;
    }
    return rows;
  },
};
