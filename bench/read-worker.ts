/**
 * Child process of bench/read.ts: reads one capture with readCapture and decodes every frame with
 * FrameDecoder, exactly as the analyzer's loader does before DuckDB, then prints one JSON line with the
 * counts (so the parent can check the work was done) and the time measured inside the process.
 * `--read-only` skips decoding, to tell the reader's share from the decoder's.
 *   node dist/bench/read-worker.js CAPTURE [--read-only]
 */
import { readCapture } from '../analyzer/readers/index.js';
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../analyzer/decode/index.js';

const [file, mode] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: read-worker.js CAPTURE [--read-only]\n');
  process.exit(2);
}
const decode = mode !== '--read-only';
const decoder = new FrameDecoder();
const out = newDecodedPacket();
let tcp = 0;
let other = 0;
let bytes = 0;
const start = process.hrtime.bigint();
const result = await readCapture(file, decode
  ? (p) => {
    if (decoder.decode(p.linktype, p.data, p.wireLen, out) === DecodeStatus.Tcp) tcp++;
    else other++;
  }
  : (p) => {
    bytes += p.capLen;
  });
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(`${JSON.stringify({ packets: result.packets, tcp, other, bytes, partial: result.partial, error: result.error?.message ?? null, seconds })}\n`);
process.exitCode = result.error ? 1 : 0;
