/**
 * TCP sequence analysis with Wireshark's tcp.analysis flags (see docs/seq.md).
 * SequenceAnalyzer is the streaming engine; the loader (analyzer/db/loader.ts) runs it on every capture set.
 */
export { SEQ_FLAGS, seqFlagCode, seqFlagNames, type SeqFlag } from './flags.js';
export { isSequenceAnalyzable, SequenceAnalyzer, type SequenceAnalyzerOptions } from './analyzer.js';
export { FlagRows } from './rows.js';
export { SegmentValues } from './segment.js';
