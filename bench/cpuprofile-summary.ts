/**
 * Summarises a V8 CPU profile (`node --cpu-prof --cpu-prof-dir=DIR ...` writes DIR/*.cpuprofile) by self
 * time per function, the view bench/NOTES.md quotes:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof .build/NAME/bin/tcplens.js seq FILE --frames --format csv > /dev/null
 *   node .build/NAME/bench/cpuprofile-summary.js /tmp/prof/*.cpuprofile [--top 30]
 *
 * Each line: milliseconds, share of the profile, function, file:line (paths shortened to the part after
 * the repository or node_modules). `(idle)` is the main thread waiting (I/O, DuckDB work on its own
 * threads); `(garbage collector)` and `(program)` are V8 itself.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function selfTimes(profile: CpuProfile): { totalMs: number; rows: { name: string; ms: number }[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const frame = byId.get(id)!.callFrame;
    const where = frame.url.replace(/^.*\/(node_modules|\.build\/[^/]+)\//, '');
    const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + us);
  });
  const rows = [...self].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total / 1000, rows };
}

function main(argv: string[]): void {
  let top = 30;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  if (files.length === 0 || !Number.isInteger(top) || top <= 0) {
    process.stderr.write('usage: cpuprofile-summary FILE.cpuprofile... [--top N]\n');
    process.exitCode = 2;
    return;
  }
  for (const file of files) {
    const { totalMs, rows } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms sampled\n`);
    for (const r of rows.slice(0, top)) {
      process.stdout.write(`${r.ms.toFixed(0).padStart(7)} ms ${((100 * r.ms) / totalMs).toFixed(1).padStart(5)}%  ${r.name}\n`);
    }
  }
}

main(process.argv.slice(2));
