#!/usr/bin/env node
/** The entry only wires commands: each command lives in its own module with a `register` function. */
import { Command } from 'commander';
import { registerInfo } from '../analyzer/cli/info.js';
import { registerQuery } from '../analyzer/cli/query.js';

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

await program.parseAsync(process.argv);
