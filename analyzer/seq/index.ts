/**
 * TCP sequence analysis with Wireshark's tcp.analysis flags (see docs/seq.md).
 * SequenceAnalyzer is the streaming engine; analyzeCapture runs it over a capture file.
 */
export { SEQ_FLAGS, seqFlagCode, seqFlagNames, type SeqFlag } from './flags.js';
export { isSequenceAnalyzable, SequenceAnalyzer, type SequenceAnalyzerOptions } from './analyzer.js';
export { FlagRows } from './rows.js';
export { SegmentValues } from './segment.js';
export { analyzeCapture, type SeqCaptureResult } from './capture.js';
