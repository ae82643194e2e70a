/**
 * `tcplens scans CAPTURE...|DB.duckdb [--min-ports N] [--min-hosts N] [--window SECONDS]
 *  [--fail-on scan|anomaly] [--db FILE] [--format table|json|csv]`: port scans and sweeps (docs/scans.md).
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { captureErrorsStatus, openForCommand } from '../db/cli-support.js';
import { restrictToConnections } from './where.js';
import { findScans, parseThresholds, SCAN_COLUMNS, DEFAULT_THRESHOLDS } from '../scans/index.js';
import { ANOMALY_COLUMNS, ISN_COLUMNS, findAnomalies } from '../anomalies/index.js';
import { EXIT_FINDING, EXIT_OK, action } from '../../common/cli-run.js';
import { parseFormat, renderRows, type Row } from './output.js';

type FailOn = 'scan' | 'anomaly';
type Show = 'scans' | 'anomalies' | 'isn';

function parseShow(value: string): Show {
  if (value === 'scans' || value === 'anomalies' || value === 'isn') return value;
  throw new UsageError(`--show must be scans, anomalies or isn, not '${value}'`);
}

function parseFailOn(value: string | undefined): Set<FailOn> {
  const out = new Set<FailOn>();
  if (value === undefined) return out;
  for (const name of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name !== 'scan' && name !== 'anomaly') throw new UsageError(`--fail-on must be scan, anomaly or both (scan,anomaly), not '${name}'`);
    out.add(name);
  }
  return out;
}

/** The terminal table shows long lists shortened; JSON and CSV keep every value. */
function tableRow(row: Row): Row {
  const targets = row['target_list'] as string[];
  return { ...row, target_list: targets.length > 4 ? `${targets.slice(0, 3).join(' ')} ... (${targets.length})` : targets };
}

export function registerScans(program: Command): void {
  program
    .command('scans')
    .description('port scans (vertical), sweeps (horizontal) and both (block): scanner, probe types, targets, ports, open ports')
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--min-ports <n>', `distinct ports on one host for a vertical scan (default ${DEFAULT_THRESHOLDS.minPorts})`)
    .option('--min-hosts <n>', `distinct hosts for a horizontal sweep (default ${DEFAULT_THRESHOLDS.minHosts})`)
    .option('--window <seconds>', `longest quiet gap inside one scan (default ${DEFAULT_THRESHOLDS.windowSeconds})`)
    .option('--show <what>', 'scans; anomalies (invalid flags, blind resets, floods, windows, predictable ISNs); isn (every host\'s ISN grade)', 'scans')
    .option('--fail-on <findings>', 'exit 4 when a scan or an anomaly is found: scan, anomaly or scan,anomaly')
    .option('--db <file>', 'keep the loaded captures (and the scans table) in this DuckDB file')
    .option('--where <sql>', 'only connections matching this SQL condition on the flows columns (alias f), with their packets and flags')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (inputs: string[], opts: { minPorts?: string; minHosts?: string; window?: string; show: string; failOn?: string; db?: string; where?: string; format: string }) => {
      const format = parseFormat(opts.format);
      const thresholds = parseThresholds(opts);
      const failOn = parseFailOn(opts.failOn);
      const show = parseShow(opts.show);
      const lens = await openForCommand(inputs, opts.db);
      await restrictToConnections(lens, opts.where, opts.db !== undefined || lens.captures.length === 0).catch(async (err: unknown) => {
        await lens.close();
        throw err;
      });
      try {
        const scans = await findScans(lens.db, thresholds);
        const anomalies = show !== 'scans' || failOn.has('anomaly') ? await findAnomalies(lens.db, thresholds) : [];
        if (show === 'scans') {
          const rows = scans as unknown as Row[];
          process.stdout.write(renderRows(format === 'table' ? rows.map(tableRow) : rows, [...SCAN_COLUMNS], format));
        } else if (show === 'anomalies') {
          process.stdout.write(renderRows(anomalies as unknown as Row[], [...ANOMALY_COLUMNS], format));
        } else {
          const r = await lens.db.query(`SELECT * FROM isn_hosts ORDER BY host, role`);
          process.stdout.write(renderRows(r.rows, [...ISN_COLUMNS], format));
        }
        let status = captureErrorsStatus(lens);
        if (status === EXIT_OK && failOn.has('scan') && scans.length > 0) status = EXIT_FINDING;
        if (status === EXIT_OK && failOn.has('anomaly') && anomalies.length > 0) status = EXIT_FINDING;
        return status;
      } finally {
        await lens.close();
      }
    }));
}
