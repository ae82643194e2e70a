/**
 * `tcplens analyze CAPTURE...|DB.duckdb [--db FILE] [--top N] [--format ...]`: loads the captures and
 * prints one report made of sections (captures, connections by state, top talkers, sequence-analysis
 * flag totals, ...). Each section is a small function from the open database to rows, listed in
 * REPORT_SECTIONS: adding a section (scans, anomalies) is one entry there.
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { SCAN_REPORT_SECTIONS } from './scans-report.js';
import { performanceSection } from './perf-report.js';
import { captureErrorsStatus, openForCommand, withInputOptions } from './inputs.js';
import { restrictToConnections } from './where.js';
import type { Lens } from '../index.js';
import { action } from '../../common/cli-run.js';
import { fitText, parseFormat, renderRows, tableSettings, toJson, type OutputFormat, type Row } from './output.js';

export interface ReportOptions {
  top: number;
}

export interface ReportSection {
  /** Key in the JSON report. */
  name: string;
  title: string;
  build(lens: Lens, opts: ReportOptions): Promise<{ columns: string[]; rows: Row[] }>;
  /** The columns a terminal table shows, when fewer than `columns` (JSON and CSV keep every column). */
  tableColumns?: readonly string[];
}

/** Zeek's conn_state meanings, for the reader of the report. */
const STATE_MEANING: Record<string, string> = {
  S0: 'attempt, no reply',
  S1: 'established, not closed',
  SF: 'normal establishment and close',
  REJ: 'attempt rejected',
  S2: 'established, client closed, no reply',
  S3: 'established, server closed, no reply',
  RSTO: 'established, client aborted (RST)',
  RSTR: 'server sent a RST',
  RSTOS0: 'client SYN then RST, no SYN-ACK',
  RSTRH: 'server SYN-ACK then RST, no SYN seen',
  SH: 'client SYN then FIN, no SYN-ACK',
  SHR: 'server SYN-ACK then FIN, no SYN seen',
  OTH: 'no SYN seen, midstream traffic',
};

const capturesSection: ReportSection = {
  name: 'captures',
  title: 'Captures',
  async build(lens) {
    const r = await lens.query(
      `SELECT capture_id, path, format, packets, tcp_packets, flows, flags, first_ts, last_ts,
              round((epoch_ns(last_ts) - epoch_ns(first_ts)) / 1e9, 6) AS duration_s, partial
       FROM captures ORDER BY capture_id`,
    );
    return { columns: r.columns, rows: r.rows };
  },
};

const statesSection: ReportSection = {
  name: 'states',
  title: 'Connections by state (Zeek conn_state)',
  async build(lens) {
    const r = await lens.query(
      `SELECT state, count(*) AS connections, sum(packets) AS packets, sum(bytes) AS bytes
       FROM flows GROUP BY state ORDER BY connections DESC, state`,
    );
    const rows = r.rows.map((row) => ({ ...row, meaning: STATE_MEANING[row['state'] as string] ?? '' }));
    return { columns: [...r.columns, 'meaning'], rows };
  },
};

const talkersSection: ReportSection = {
  name: 'top_talkers',
  title: 'Top talkers (by bytes on the wire)',
  async build(lens, opts) {
    const r = await lens.query(
      `WITH ends AS (
         SELECT client AS host, client_bytes AS sent, server_bytes AS received, 1 AS as_client, 0 AS as_server FROM flows
         UNION ALL
         SELECT server, server_bytes, client_bytes, 0, 1 FROM flows)
       SELECT host, sum(sent + received) AS bytes, sum(sent) AS sent, sum(received) AS received,
              sum(as_client) AS client_connections, sum(as_server) AS server_connections
       FROM ends GROUP BY host ORDER BY bytes DESC, host LIMIT ${opts.top}`,
    );
    return { columns: r.columns, rows: r.rows };
  },
};

const flagsSection: ReportSection = {
  name: 'flags',
  title: "Sequence analysis (Wireshark's tcp.analysis flags)",
  async build(lens) {
    const r = await lens.query(
      `SELECT a.flag::VARCHAR AS flag, count(*) AS frames, count(DISTINCT p.flow_id) AS connections
       FROM tcp_analysis a LEFT JOIN packet_rows p USING (capture_id, frame)
       GROUP BY a.flag ORDER BY frames DESC, flag`,
    );
    return { columns: r.columns, rows: r.rows };
  },
};

/**
 * The report, in order: what was loaded, how connections ended, who talked, TCP analysis, how the busiest
 * connections performed, then scans and anomalies.
 */
export const REPORT_SECTIONS: ReportSection[] = [
  capturesSection, statesSection, talkersSection, flagsSection, performanceSection, ...SCAN_REPORT_SECTIONS,
];

export function renderReport(sections: { section: ReportSection; columns: string[]; rows: Row[] }[], format: OutputFormat): string {
  if (format === 'json') {
    const doc: Record<string, Row[]> = {};
    for (const s of sections) doc[s.section.name] = s.rows;
    return `${toJson(doc)}\n`;
  }
  const parts = sections.map(({ section, columns, rows }) =>
    format === 'csv'
      ? `# ${section.name}\n${renderRows(rows, columns, 'csv')}`
      : `${fitText(section.title)}\n\n${renderRows(rows, section.tableColumns && !tableSettings.wide ? [...section.tableColumns] : columns, 'table')}`,
  );
  return parts.join('\n');
}

export function registerAnalyze(program: Command): void {
  withInputOptions(program.command('analyze'))
    .description('load captures into DuckDB and report: captures, connections by state, top talkers, sequence flags, scans, anomalies, ISNs')
    .addHelpText('after', `\nSections, in order (JSON keys in brackets):\n${REPORT_SECTIONS.map((s) => `  ${s.title} [${s.name}]`).join('\n')}\n`)
    .argument('<input...>', 'captures (pcap/pcapng) or one DB.duckdb')
    .option('--where <sql>', 'only connections matching this SQL condition on the flows columns (alias f), with their packets and flags')
    .option('--top <n>', 'rows in the top talkers and connection performance sections', '10')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (inputs: string[], opts: { db?: string; perFile?: boolean; where?: string; top: string; format: string }) => {
      const format = parseFormat(opts.format);
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer, not '${opts.top}'`);
      // Into memory, only the packet rows the sections read (LoadOptions.tables 'report'), and the
      // performance figures, which the performance section shows. A --db keeps every table whole.
      const lens = await openForCommand(inputs, { ...opts, tables: 'report', figures: true });
      await restrictToConnections(lens, opts.where, opts.db !== undefined || lens.captures.length === 0).catch(async (err: unknown) => {
        await lens.close();
        throw err;
      });
      try {
        const built = [];
        for (const section of REPORT_SECTIONS) built.push({ section, ...(await section.build(lens, { top })) });
        process.stdout.write(renderReport(built, format));
        return captureErrorsStatus(lens);
      } finally {
        await lens.close();
      }
    }));
}
