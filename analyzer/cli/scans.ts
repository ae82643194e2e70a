/**
 * `tcplens scans CAPTURE...|DB.duckdb [--min-ports N] [--min-hosts N] [--window SECONDS]
 *  [--method threshold|trw] [--fail-on scan|anomaly] [--db FILE] [--per-file] [--format table|json|csv]`: port scans and sweeps (docs/scans.md).
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import { restrictToConnections } from './where.js';
import { findScans, parseThresholds, SCAN_COLUMNS, SCAN_TABLE_COLUMNS, DEFAULT_THRESHOLDS, DETECTION_METHODS, type DetectionMethod } from '../scans/index.js';
import { ANOMALY_COLUMNS, ISN_COLUMNS, findAnomalies } from '../anomalies/index.js';
import { EXIT_FINDING, EXIT_OK, action } from '../../common/cli-run.js';
import { parseFormat, renderRows, tableSettings, toJson, type Row } from './output.js';

type FailOn = 'scan' | 'anomaly';
type Show = 'scans' | 'anomalies' | 'isn';

const SHOW_TITLES: Record<Show, string> = {
  scans: 'Scans',
  anomalies: 'TCP anomalies',
  isn: 'ISN predictability per host',
};

/** `--show scans,anomalies,isn`: one or more sections, in the order given, each at most once. */
function parseShow(value: string): Show[] {
  const out: Show[] = [];
  for (const name of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name !== 'scans' && name !== 'anomalies' && name !== 'isn') throw new UsageError(`--show takes scans, anomalies, isn or a comma list of them, not '${name}'`);
    if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) throw new UsageError('--show needs at least one of scans, anomalies, isn');
  return out;
}

function parseMethod(value: string): DetectionMethod {
  if ((DETECTION_METHODS as readonly string[]).includes(value)) return value as DetectionMethod;
  throw new UsageError(`--method must be threshold or trw, not '${value}'`);
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
  withInputOptions(program.command('scans'), 'keep the loaded captures (and the scans table) in this DuckDB file')
    .description('port scans (vertical), sweeps (horizontal) and both (block): scanner, probe types, targets, ports, open ports')
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--min-ports <n>', `distinct ports on one host for a vertical scan (default ${DEFAULT_THRESHOLDS.minPorts})`)
    .option('--min-hosts <n>', `distinct hosts for a horizontal sweep (default ${DEFAULT_THRESHOLDS.minHosts})`)
    .option('--window <seconds>', `longest quiet gap inside one scan (default ${DEFAULT_THRESHOLDS.windowSeconds})`)
    .option('--method <method>', 'threshold (--min-ports/--min-hosts) or trw (Threshold Random Walk, Jung et al. 2004)', 'threshold')
    .option('--show <sections>', 'comma list of: scans; anomalies (invalid flags, blind resets, floods, windows, predictable ISNs); isn (every host\'s ISN grade)', 'scans')
    .option('--fail-on <findings>', 'exit 4 when a scan or an anomaly is found: scan, anomaly or scan,anomaly')
    .option('--where <sql>', 'only connections matching this SQL condition on the flows columns (alias f), with their packets and flags')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (inputs: string[], opts: { minPorts?: string; minHosts?: string; window?: string; method: string; show: string; failOn?: string; db?: string; perFile?: boolean; where?: string; format: string }) => {
      const format = parseFormat(opts.format);
      const thresholds = parseThresholds(opts);
      const failOn = parseFailOn(opts.failOn);
      const show = parseShow(opts.show);
      const method = parseMethod(opts.method);
      // Scans alone read flows and the packets of would-be probes; with anomalies, the packets analyze's
      // sections read (and the performance figures for --where): the load skips the rest (LoadOptions.tables).
      const scansOnly = show.every((x) => x === 'scans') && !failOn.has('anomaly');
      const lens = await openForCommand(inputs, scansOnly ? { ...opts, tables: 'probes' } : { ...opts, tables: 'report', figures: opts.where !== undefined });
      await restrictToConnections(lens, opts.where, opts.db !== undefined || lens.captures.length === 0).catch(async (err: unknown) => {
        await lens.close();
        throw err;
      });
      try {
        const scans = await findScans(lens.db, thresholds, method);
        const anomalies = show.some((s) => s !== 'scans') || failOn.has('anomaly') ? await findAnomalies(lens.db, thresholds) : [];
        const sections: { name: Show; rows: Row[]; columns: string[] }[] = [];
        for (const name of show) {
          if (name === 'scans') {
            const rows = scans as unknown as Row[];
            sections.push({ name, rows: format === 'table' ? rows.map(tableRow) : rows, columns: format === 'table' && !tableSettings.wide ? [...SCAN_TABLE_COLUMNS] : [...SCAN_COLUMNS] });
          } else if (name === 'anomalies') {
            sections.push({ name, rows: anomalies as unknown as Row[], columns: [...ANOMALY_COLUMNS] });
          } else {
            const r = await lens.db.query(`SELECT * FROM isn_hosts ORDER BY host, role`);
            sections.push({ name, rows: r.rows, columns: [...ISN_COLUMNS] });
          }
        }
        if (sections.length === 1) {
          process.stdout.write(renderRows(sections[0]!.rows, sections[0]!.columns, format));
        } else if (format === 'json') {
          // Several sections: one JSON object keyed by section, as `analyze --format json` prints its sections.
          process.stdout.write(`${toJson(Object.fromEntries(sections.map((x) => [x.name, x.rows])))}\n`);
        } else {
          process.stdout.write(sections.map((x) => (format === 'csv' ? `# ${x.name}\n` : `${SHOW_TITLES[x.name]}\n\n`) + renderRows(x.rows, x.columns, format)).join('\n'));
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
