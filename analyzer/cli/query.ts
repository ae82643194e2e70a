/**
 * `tcplens query CAPTURE...|DB.duckdb "SQL" [--db FILE] [--format table|json|csv]`: loads the captures
 * (or opens a kept database read-only) and prints the result of one SQL statement. Tables: captures,
 * interfaces, packets, flows, tcp_analysis (docs/analyzer.md).
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import { action } from '../../common/cli-run.js';
import { parseFormat, renderRows } from './output.js';

export function registerQuery(program: Command): void {
  withInputOptions(program.command('query'))
    .description('run SQL over captures (loaded into DuckDB) or over a database kept with --db')
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb, then the SQL statement last')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (args: string[], opts: { db?: string; perFile?: boolean; format: string }) => {
      const format = parseFormat(opts.format);
      if (args.length < 2) throw new UsageError('query needs at least one CAPTURE or DB.duckdb and then the SQL');
      const sql = args[args.length - 1]!;
      const lens = await openForCommand(args.slice(0, -1), opts);
      try {
        const result = await lens.query(sql);
        process.stdout.write(renderRows(result.rows, result.columns, format));
        return captureErrorsStatus(lens);
      } finally {
        await lens.close();
      }
    }));
}
