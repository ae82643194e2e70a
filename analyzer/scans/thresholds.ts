import { UsageError } from '../../common/errors.js';

/**
 * When a source's probes make a scan (docs/scans.md). Zeek's scan.zeek uses 15 ports or 25 hosts within
 * 5 minutes. Our probes are only connection attempts that carried no data (see probes.ts), which a busy
 * benign client almost never makes, so the host threshold can be lower than Zeek's and the window longer:
 * a slow scan (nmap -T1, one probe every 15 s; --scan-delay) stays one scan however long it takes,
 * as long as no gap between two of its probes exceeds the window.
 */
export interface ScanThresholds {
  /** Distinct ports probed on one host for a vertical scan. */
  minPorts: number;
  /** Distinct hosts probed (on any port) for a horizontal sweep. */
  minHosts: number;
  /** Longest quiet gap, in seconds, between two probes of one scan; a longer gap starts a new scan. */
  windowSeconds: number;
}

export const DEFAULT_THRESHOLDS: Readonly<ScanThresholds> = Object.freeze({
  minPorts: 15,
  minHosts: 16,
  windowSeconds: 3600,
});

function positiveInteger(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, not '${value}'`);
  return n;
}

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds, not '${value}'`);
  return n;
}

/** Thresholds from the command-line strings (undefined = default); bad values are usage errors. */
export function parseThresholds(opts: { minPorts?: string; minHosts?: string; window?: string }): ScanThresholds {
  return {
    minPorts: positiveInteger('--min-ports', opts.minPorts, DEFAULT_THRESHOLDS.minPorts),
    minHosts: positiveInteger('--min-hosts', opts.minHosts, DEFAULT_THRESHOLDS.minHosts),
    windowSeconds: positiveNumber('--window', opts.window, DEFAULT_THRESHOLDS.windowSeconds),
  };
}
