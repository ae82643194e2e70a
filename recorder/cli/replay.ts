/** `tcplens replay CAPTURE -i IFACE [--pps N | --topspeed] [--loop N]`. */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { action, EXIT_OK, EXIT_RUNTIME } from '../../common/cli-run.js';
import { replay } from '../replay.js';

interface RawReplayOptions {
  interface: string;
  pps?: string;
  topspeed?: boolean;
  loop: string;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description("Send a capture's Ethernet frames out of an interface (for tests; needs root or CAP_NET_RAW)")
    .argument('<capture>', 'pcap or pcapng file')
    .requiredOption('-i, --interface <iface>', 'interface to send on')
    .option('--pps <n>', 'frames per second (default: the capture\'s own timing)')
    .option('--topspeed', 'send as fast as the interface takes them')
    .option('--loop <n>', 'send the capture N times', '1')
    .action(action(async (capture: string, raw: RawReplayOptions) => {
      if (raw.pps !== undefined && raw.topspeed) throw new UsageError('--pps and --topspeed exclude each other');
      const pps = raw.pps === undefined ? 0 : Number(raw.pps);
      if (!Number.isFinite(pps) || pps <= 0 && raw.pps !== undefined) throw new UsageError(`--pps ${raw.pps}: expected a number above 0`);
      const loops = Number(raw.loop);
      if (!Number.isInteger(loops) || loops < 1) throw new UsageError(`--loop ${raw.loop}: expected a whole number above 0`);
      const r = await replay({ capture, iface: raw.interface, pps, topspeed: raw.topspeed === true, loops });
      for (const line of r.failures) process.stderr.write(`tcplens: ${line}\n`);
      process.stderr.write(`${r.sent} frames sent${r.failed ? `, ${r.failed} failed` : ''}${r.skipped ? `, ${r.skipped} skipped (not complete Ethernet frames)` : ''}\n`);
      return r.failed > 0 ? EXIT_RUNTIME : EXIT_OK;
    }));
}
