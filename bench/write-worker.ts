/**
 * Child process of bench/write.ts.
 *   node dist/bench/write-worker.js convert IN OUT   convertToPcapng end to end (what `tcplens` does to copy a capture)
 *   node dist/bench/write-worker.js writer IN OUT    the recorder's hot path alone: every packet of IN is first
 *                                                    loaded into one buffer (untimed), then written with
 *                                                    PcapngFileWriter.writePacket (timed, including close)
 * Prints one JSON line: packets written and the seconds measured inside the process.
 */
import { readCapture } from '../analyzer/readers/index.js';
import { convertToPcapng } from '../test/support/pcapng/convert.js';
import { PcapngFileWriter } from '../test/support/pcapng/writer.js';

const [mode, input, output] = process.argv.slice(2);
if ((mode !== 'convert' && mode !== 'writer') || !input || !output) {
  process.stderr.write('usage: write-worker.js convert|writer IN OUT\n');
  process.exit(2);
}

if (mode === 'convert') {
  const start = process.hrtime.bigint();
  const result = await convertToPcapng(input, output);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${JSON.stringify({ packets: result.packets, seconds })}\n`);
} else {
  // Load, as the recorder receives them: the captured bytes of many packets back to back in one buffer
  // (the ring's batch), timestamps in a BigUint64Array. Each packet is a view made at write time.
  const parts: Buffer[] = [];
  const offsets: number[] = [0];
  const wireLens: number[] = [];
  const flags: number[] = [];
  const tsList: bigint[] = [];
  let linktype = 1;
  let snaplen = 0;
  let total = 0;
  const read = await readCapture(input, (p) => {
    parts.push(Buffer.from(p.data));
    total += p.capLen;
    offsets.push(total);
    wireLens.push(p.wireLen);
    flags.push((p.frame & 1) + 1); // a direction on every packet, as the recorder sets
    tsList.push(BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec));
  });
  if (read.interfaces[0]) ({ linktype, snaplen } = read.interfaces[0]);
  const bytes = Buffer.concat(parts, total);
  parts.length = 0;
  const ts = BigUint64Array.from(tsList);
  tsList.length = 0;
  const count = wireLens.length;
  const start = process.hrtime.bigint();
  const w = await PcapngFileWriter.open(output);
  w.writeSection({ userappl: 'tcplens bench' }, [{ linktype, snaplen, name: 'bench0' }]);
  for (let i = 0; i < count; i++) {
    const data = bytes.subarray(offsets[i]!, offsets[i + 1]!);
    if (!w.writePacket(0, ts[i]!, wireLens[i]!, data, flags[i]!)) await w.flush();
  }
  await w.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${JSON.stringify({ packets: count, seconds, bytes: w.bytesWritten })}\n`);
}
