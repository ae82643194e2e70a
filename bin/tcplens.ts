#!/usr/bin/env node
/** The entry only wires commands: each command lives in its own module with a `register` function. */
import { Command } from 'commander';
import { registerInfo } from '../analyzer/cli/info.js';
import { registerQuery } from '../analyzer/cli/query.js';
import { registerSeq } from '../analyzer/cli/seq.js';
import { registerAnalyze } from '../analyzer/cli/analyze.js';
import { registerExport } from '../analyzer/cli/export.js';
import { registerScans } from '../analyzer/cli/scans.js';
import { registerRecord } from '../recorder/cli/record.js';
import { registerReplay } from '../recorder/cli/replay.js';

const program = new Command()
  .name('tcplens')
  .description('Record TCP headers with eBPF; analyze pcap/pcapng captures with DuckDB.')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own errors (unknown option, missing argument) are usage errors: exit 2, not 1.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerInfo(program);
registerQuery(program);
registerSeq(program);
registerAnalyze(program);
registerExport(program);
registerScans(program);
registerRecord(program);
registerReplay(program);

await program.parseAsync(process.argv);
