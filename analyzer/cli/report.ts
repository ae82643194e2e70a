/**
 * `tcplens report CAPTURE...|DB.duckdb -o REPORT.html [--db FILE] [--min-ports N] [--min-hosts N] [--window S]`:
 * one self-contained HTML page (docs/report.md). Prints the file written, its size and what it holds.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { action } from '../../common/cli-run.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import { DEFAULT_THRESHOLDS, parseThresholds } from '../scans/index.js';
import { writeReport } from '../report/index.js';
import { parseFormat, renderRows } from './output.js';

export function registerReport(program: Command): void {
  withInputOptions(program.command('report'))
    .description('one offline HTML page: overview, connections, time-sequence (Stevens) graphs, I/O graphs, scans timeline, anomalies, ISNs')
    .argument('<input...>', 'captures (pcap/pcapng, - for stdin) or one DB.duckdb')
    .option('-o, --output <file>', 'the HTML file to write')
    .option('--title <text>', 'page title (default: the capture names)')
    .option('--min-ports <n>', `scan detection: distinct ports on one host (default ${DEFAULT_THRESHOLDS.minPorts})`)
    .option('--min-hosts <n>', `scan detection: distinct hosts (default ${DEFAULT_THRESHOLDS.minHosts})`)
    .option('--window <seconds>', `scan detection: longest quiet gap (default ${DEFAULT_THRESHOLDS.windowSeconds})`)
    .option('--format <format>', 'table, json or csv (the summary printed on stdout)', 'table')
    .action(action(async (inputs: string[], opts: { output?: string; title?: string; minPorts?: string; minHosts?: string; window?: string; db?: string; perFile?: boolean; format: string }) => {
      const format = parseFormat(opts.format);
      if (!opts.output) throw new UsageError('report needs -o REPORT.html');
      const thresholds = parseThresholds(opts);
      const lens = await openForCommand(inputs, opts);
      try {
        const title = opts.title ?? `tcplens report: ${inputs.map((i) => (i === '-' ? '<stdin>' : path.basename(i))).join(', ')}`;
        const result = await writeReport(lens.db, opts.output, { title, thresholds });
        process.stdout.write(renderRows([{ file: result.file, bytes: result.bytes, connections: result.connections, series_rows: result.seriesRows }],
          ['file', 'bytes', 'connections', 'series_rows'], format));
        return captureErrorsStatus(lens);
      } finally {
        await lens.close();
      }
    }));
}
