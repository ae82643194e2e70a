/**
 * What SIGUSR1 prints. The handler itself is installed by recorder/cli/guard.ts, first thing in
 * `tcplens record` (so the signal never starts Node's debugger); the recorder sets its live counters here.
 */
type Reporter = () => string;
let reporter: Reporter = () => 'recording has not started: 0 packets captured\n';

export function setSignalReporter(fn: Reporter | null): void {
  reporter = fn ?? (() => 'recording has ended\n');
}

export function signalReport(): string {
  return reporter();
}
