/**
 * analyzeCapture: the sequence analysis of one capture file, reader -> decoder -> SequenceAnalyzer, in one
 * streaming pass. Frames the decoder finds no TCP header in (or a TCP header cut before its window field,
 * which tshark cannot dissect either) are skipped.
 */
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../decode/index.js';
import { readCapture, type ReadResult } from '../readers/index.js';
import { SequenceAnalyzer, type SequenceAnalyzerOptions } from './analyzer.js';

export interface SeqCaptureResult {
  /** One row per raised flag, in frame order: frames[i] carries flag SEQ_FLAGS[codes[i]]. */
  frames: Uint32Array;
  codes: Uint8Array;
  /** Frames carrying each flag, by flag code. */
  counts: Uint32Array;
  /** TCP segments analyzed. */
  tcpPackets: number;
  /** Connections (tshark's tcp.stream count). */
  streams: number;
  /** The analyzer itself, for per-connection facts (handshake RTT). */
  analyzer: SequenceAnalyzer;
  /** What the reader reported: partial/error for damaged files (every packet before the damage was analyzed). */
  read: ReadResult;
}

export async function analyzeCapture(
  path: string,
  opts: SequenceAnalyzerOptions & { signal?: AbortSignal } = {},
): Promise<SeqCaptureResult> {
  const analyzer = new SequenceAnalyzer(opts);
  const decoder = new FrameDecoder();
  const decoded = newDecodedPacket();
  let tcpPackets = 0;
  const read = await readCapture(
    path,
    (pkt) => {
      if (decoder.decode(pkt.linktype, pkt.data, pkt.wireLen, decoded) !== DecodeStatus.Tcp) return;
      if (analyzer.push(pkt.frame, pkt.tsSec, pkt.tsNsec, decoded, pkt.data.length) >= 0) tcpPackets++;
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  const { frames, codes } = analyzer.rows.trimmed();
  return { frames, codes, counts: analyzer.counts, tcpPackets, streams: analyzer.streamCount, analyzer, read };
}
