/**
 * `tcplens info CAPTURE... [--format table|json|csv]`: like capinfos, one result per file. A damaged file
 * still gets its result (partial: true, everything read before the damage) plus one line on stderr, and
 * the exit status is then 1.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { linktypeText } from './linktype-names.js';
import { gatherInfo, type CaptureInfo } from '../info.js';
import { EXIT_OK, EXIT_RUNTIME, action, reportError } from '../../common/cli-run.js';
import { parseFormat, renderRows, toJson, type OutputFormat, type Row } from './output.js';

const CSV_COLUMNS = ['path', 'format', 'packets', 'tcp_packets', 'linktypes', 'first_ts', 'last_ts', 'duration_s', 'drops', 'partial'];
/** The table adds what capinfos shows a person: file size and data rate, link types by name. */
const TABLE_COLUMNS = ['path', 'format', 'packets', 'tcp_packets', 'size', 'linktypes', 'first_ts', 'last_ts', 'duration_s', 'bit_rate', 'drops', 'partial'];

/** The JSON document: every CaptureInfo key except the error object (its message is in `warnings`). */
function jsonRow(info: CaptureInfo): Row {
  const { error: _error, ...rest } = info;
  return rest;
}

function csvRow(info: CaptureInfo): Row {
  const linktypes = [...new Set(info.interfaces.map((i) => i.linktype))].join(',');
  return { ...jsonRow(info), linktypes, duration_s: info.duration_s === null ? null : info.duration_s.toFixed(6) };
}

function fileSize(file: string): number | null {
  try {
    return file === '-' ? null : statSync(file).size;
  } catch {
    return null;
  }
}

/** capinfos' "data bit rate": bytes on the wire over the time span. */
function tableRow(info: CaptureInfo): Row {
  const linktypes = [...new Set(info.interfaces.map((i) => i.linktype))].map(linktypeText).join(', ');
  const bitRate = info.duration_s && info.duration_s > 0 ? (info.bytes_on_wire * 8) / info.duration_s : null;
  return { ...jsonRow(info), linktypes, size: fileSize(info.path), bit_rate: bitRate };
}

export function renderInfo(infos: CaptureInfo[], format: OutputFormat): string {
  if (format === 'json') return `${toJson(infos.map(jsonRow))}\n`;
  let text = format === 'csv' ? renderRows(infos.map(csvRow), CSV_COLUMNS, format) : renderRows(infos.map(tableRow), TABLE_COLUMNS, format);
  if (format === 'table') {
    // Warnings matter to a person reading the table; programs get them in the JSON. The damage itself
    // goes to stderr once (it already names the file), so it is not repeated here.
    for (const info of infos) {
      for (const w of info.warnings) if (w !== info.error?.message) text += `warning: ${info.path}: ${w}\n`;
    }
  }
  return text;
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('summarise captures like capinfos: format, link types, packet and TCP counts, time span, drops')
    .argument('<capture...>', 'pcap or pcapng files (gzip-compressed too)')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(action(async (captures: string[], opts: { format: string }) => {
      const format = parseFormat(opts.format);
      const infos: CaptureInfo[] = [];
      // One file at a time: reading is CPU-bound, and memory stays at one window whatever the count.
      for (const path of captures) infos.push(await gatherInfo(path));
      process.stdout.write(renderInfo(infos, format));
      let status = EXIT_OK;
      for (const info of infos) if (info.error) status = Math.max(status, reportError(info.error));
      return status === EXIT_OK ? EXIT_OK : EXIT_RUNTIME;
    }));
}
