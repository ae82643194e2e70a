#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * The entry only wires commands: each command lives in its own module with a `register` function.
 * Modules are imported only for the command being run (all of them for help or an unknown command):
 * `record` then never loads DuckDB, the decoders or the report code, which cost start-up time and tie
 * the recorder to modules it does not use. To add a command: one line in COMMANDS.
 *
 * The first line caps V8's young generation at 2 MiB per semi-space (V8 grows it to 16 MiB): the per-packet
 * pass makes short-lived objects only, so a larger young generation buys no speed and costs resident
 * memory: 3-12 MiB less peak RSS on the 1M-packet bench capture (conns 66.6 -> 62.9, analyze 142 -> 130),
 * time unchanged (bench/NOTES.md, sixth pass). `env -S` passes the option on Linux, macOS and BSD; npm's
 * Windows shims read it too. Tests and the bench run the same options (test/support/paths.ts, cliArgs).
 */
// First: for `record`, SIGUSR1 must never start Node's debugger and a debugger flag is refused (guard.ts).
import '../recorder/cli/guard.js';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { tableSettings } from '../analyzer/cli/output.js';
import { exitQuietlyOnBrokenPipe } from '../common/cli-run.js';

exitQuietlyOnBrokenPipe();

type Register = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<Register>> = {
  info: async () => (await import('../analyzer/cli/info.js')).registerInfo,
  query: async () => (await import('../analyzer/cli/query.js')).registerQuery,
  seq: async () => (await import('../analyzer/cli/seq.js')).registerSeq,
  conns: async () => (await import('../analyzer/cli/conns.js')).registerConns,
  analyze: async () => (await import('../analyzer/cli/analyze.js')).registerAnalyze,
  export: async () => (await import('../analyzer/cli/export.js')).registerExport,
  scans: async () => (await import('../analyzer/cli/scans.js')).registerScans,
  report: async () => (await import('../analyzer/cli/report.js')).registerReport,
  record: async () => (await import('../recorder/cli/record.js')).registerRecord,
  replay: async () => (await import('../recorder/cli/replay.js')).registerReplay,
};

/** dist/bin/tcplens.js -> the package's package.json, two levels up. */
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('tcplens')
  .description('Record TCP headers with eBPF; analyze pcap/pcapng captures with DuckDB.')
  .version(pkg.version, '-V, --version', 'print the tcplens version')
  .option('--wide', 'tables show every column and cell in full instead of fitting the terminal')
  .hook('preAction', (root) => {
    tableSettings.wide = Boolean(root.opts()['wide']);
  })
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own errors (unknown option, missing argument) are usage errors: exit 2, not 1.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

const name = process.argv[2];
const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!] : Object.values(COMMANDS);
for (const register of await Promise.all(wanted.map((load) => load()))) register(program);

await program.parseAsync(process.argv);
