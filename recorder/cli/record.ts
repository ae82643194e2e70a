/** `tcplens record`: option parsing and validation (usage errors, exit 2) and the tcpdump-like summary. */
import type { Command } from 'commander';
import { isIP } from 'node:net';
import { UsageError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import { action, EXIT_OK, EXIT_RUNTIME } from '../../common/cli-run.js';
import { STDOUT } from '../sink.js';
import { readFileSync } from 'node:fs';
import { expressionFromFile } from '../expression.js';
import { describeFileError } from '../file-errors.js';
import { RECORD } from '../../native/index.js';
import { record, type Direction } from '../record.js';
import { summaryText } from '../stats.js';

const DEFAULT_SNAPLEN = 262144;
/** What the kernel program's config holds (bpf/snapshot.h SNAPSHOT_MAX_*, held equal by test/recorder/layout.test.ts). */
const { maxPorts: MAX_PORTS, maxHosts4: MAX_HOSTS4, maxHosts6: MAX_HOSTS6 } = RECORD;
const PAGE = 4096;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveNumber(flag: string, text: string | undefined, { integer = true, allowZero = false } = {}): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0 || (!allowZero && n === 0)) {
    throw new UsageError(`${flag} ${text}: expected a ${integer ? 'whole' : ''} number${allowZero ? '' : ' above 0'}`.replace('a  number', 'a number'));
  }
  return n;
}

/** --ring-mb: MiB, a power of two of at least one page (fractions allowed: 0.0625 is 64 KiB). */
export function ringBytes(text: string): number {
  const mb = positiveNumber('--ring-mb', text, { integer: false })!;
  const bytes = Math.round(mb * 1024 * 1024);
  if (bytes < PAGE || (bytes & (bytes - 1)) !== 0 || bytes > 1 << 30) {
    throw new UsageError(`--ring-mb ${text}: the ring must be a power of two between 4 KiB (0.00390625) and 1024 MiB`);
  }
  return bytes;
}

interface RawRecordOptions {
  interface: string;
  write: string;
  snaplen?: string;
  payload?: string;
  fileSize?: string;
  rotateSeconds?: string;
  files?: string;
  count?: string;
  duration?: string;
  port: string[];
  host: string[];
  direction: string;
  ringMb: string;
  stats?: string;
  filterFile?: string;
}

export function registerRecord(program: Command): void {
  program
    .command('record')
    .description('Record TCP header snapshots with eBPF into pcapng (needs root or CAP_BPF + CAP_PERFMON + CAP_NET_RAW)')
    .requiredOption('-i, --interface <ifaces>', 'interface name(s), comma-separated, or "any"')
    .requiredOption('-w, --write <file>', 'output pcapng file (created 0600); - for standard output')
    .option('-s, --snaplen <bytes>', `most bytes kept per packet (0 = ${DEFAULT_SNAPLEN})`)
    .option('--payload <bytes>', 'TCP payload bytes to keep after the headers', '0')
    .option('-C, --file-size <MB>', 'start a new file once the current one holds MB x 1,000,000 bytes')
    .option('-G, --rotate-seconds <seconds>', 'start a new file every SECONDS')
    .option('-W, --files <n>', 'with -C: cycle through N files; with -G: stop after N files')
    .option('-c, --count <packets>', 'stop after this many packets')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--port <n>', 'keep only segments from or to this port (repeatable)', collect, [])
    .option('--host <addr>', 'keep only packets from or to this IPv4/IPv6 address (repeatable)', collect, [])
    .option('--direction <dir>', 'in, out or both', 'both')
    .option('--ring-mb <n>', 'BPF ring buffer size in MiB (a power of two)', '8')
    .option('--stats <seconds>', 'log capture counters on stderr every SECONDS')
    .option('-F, --filter-file <file>', 'read the filter expression from FILE (# starts a comment)')
    .argument('[expression...]', "pcap-filter(7) expression, as tcpdump's (e.g. 'tcp port 443 and not net 10.0.0.0/8')")
    .action(action(async (words: string[], raw: RawRecordOptions) => {
      let expression: string | undefined = words.length > 0 ? words.join(' ') : undefined;
      if (raw.filterFile !== undefined) {
        if (expression !== undefined) throw new UsageError(`-F ${raw.filterFile} and an expression on the command line (${expression}): give one`);
        let text: string;
        try {
          text = readFileSync(raw.filterFile, 'utf8');
        } catch (err) {
          throw new UsageError(`-F ${raw.filterFile}: cannot read: ${describeFileError((err as NodeJS.ErrnoException).code)}`);
        }
        expression = expressionFromFile(text);
      }
      const ifaceText = raw.interface.trim();
      const interfaces = ifaceText === 'any' ? 'any' as const : ifaceText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (interfaces !== 'any' && interfaces.length === 0) throw new UsageError('-i: give an interface name or "any"');
      if (interfaces !== 'any' && interfaces.includes('any')) throw new UsageError('-i any cannot be combined with other interfaces');
      const snap = positiveNumber('-s', raw.snaplen, { allowZero: true }) ?? 0;
      const payload = positiveNumber('--payload', raw.payload, { allowZero: true })!;
      // The kernel program copies at most RECORD.maxData bytes of a frame: a larger -s or --payload could
      // never be honoured (-s 0, the default, means as much as it can, as tcpdump's -s 0).
      if (snap > RECORD.maxData) throw new UsageError(`-s ${snap}: the kernel program keeps at most ${RECORD.maxData} bytes of a packet (-s 0 keeps that much)`);
      if (payload > RECORD.maxData) throw new UsageError(`--payload ${payload}: the kernel program keeps at most ${RECORD.maxData} bytes of a packet, headers included`);
      const ports = raw.port.map((p) => {
        const n = positiveNumber('--port', p)!;
        if (n > 65535) throw new UsageError(`--port ${p}: expected 1 to 65535`);
        return n;
      });
      if (ports.length > MAX_PORTS) throw new UsageError(`--port: ${ports.length} ports given; the kernel program holds at most ${MAX_PORTS} (write an expression instead: 'port 1 or port 2 or ...')`);
      if (!['in', 'out', 'both'].includes(raw.direction)) throw new UsageError(`--direction ${raw.direction}: expected in, out or both`);
      for (const h of raw.host) if (isIP(h) === 0) throw new UsageError(`--host ${h}: expected an IPv4 or IPv6 address`);
      const v4 = raw.host.filter((h) => isIP(h) === 4).length;
      const v6 = raw.host.length - v4;
      if (v4 > MAX_HOSTS4) throw new UsageError(`--host: ${v4} IPv4 addresses given; the kernel program holds at most ${MAX_HOSTS4} (write an expression instead: 'host A or host B or ...')`);
      if (v6 > MAX_HOSTS6) throw new UsageError(`--host: ${v6} IPv6 addresses given; the kernel program holds at most ${MAX_HOSTS6} (write an expression instead: 'host A or host B or ...')`);
      const fileSizeMb = positiveNumber('-C', raw.fileSize, { integer: false });
      const files = positiveNumber('-W', raw.files);
      const rotateSeconds = positiveNumber('-G', raw.rotateSeconds, { integer: false });
      if (files !== undefined && fileSizeMb === undefined && rotateSeconds === undefined) throw new UsageError('-W needs -C or -G');
      if (raw.write === STDOUT && (fileSizeMb !== undefined || rotateSeconds !== undefined)) throw new UsageError('-w - (standard output) cannot rotate: -C and -G need file names');
      const result = await record({
        interfaces,
        output: raw.write,
        snaplen: snap === 0 ? DEFAULT_SNAPLEN : snap,
        payload,
        fileSizeBytes: fileSizeMb === undefined ? undefined : Math.round(fileSizeMb * 1_000_000),
        rotateSeconds,
        files,
        count: positiveNumber('-c', raw.count),
        durationSeconds: positiveNumber('--duration', raw.duration, { integer: false }),
        ports,
        hosts: raw.host,
        direction: raw.direction as Direction,
        ringBytes: ringBytes(raw.ringMb),
        statsSeconds: positiveNumber('--stats', raw.stats, { integer: false }),
        ...(expression !== undefined ? { expression } : {}),
        // Tests and scripts wait for this line before sending traffic: the filter is attached by now.
        onReady: () => logger('record').info({ interfaces: ifaceText, output: raw.write }, 'recording'),
      });
      process.stderr.write(summaryText(result.captured, result.totals));
      if (result.failure !== null) {
        process.stderr.write(`tcplens: ${result.failure}\n`);
        process.exit(EXIT_RUNTIME);
      }
      // Every file is closed and the summary written (stderr writes are synchronous here, as is the
      // logger): exit now rather than let Node tear its heap down, ~1 ms of CPU spent on nothing.
      process.exit(EXIT_OK);
    }));
}
