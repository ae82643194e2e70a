/**
 * What the mutation fuzz starts from: small corpus captures (/work/shared/corpus, see INDEX.tsv) and the
 * project's fixtures, in a fixed order so (seed, case) names the same input on every machine with the
 * same corpus.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { corpusEntries } from '../support/corpus.js';
import { fixturesDir } from '../support/paths.js';
import type { Input } from './mutate.js';

function fixtureFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...fixtureFiles(full));
    else if (/\.(pcap|pcapng)$/.test(name)) out.push(full);
  }
  return out;
}

/** Corpus captures up to `maxBytes` (all of them with Infinity) plus every fixture capture. */
export function fuzzInputs(maxBytes: number): Input[] {
  const inputs: Input[] = [];
  for (const e of corpusEntries()) {
    const size = statSync(e.absPath).size;
    if (size > 0 && size <= maxBytes) inputs.push({ name: `corpus/${e.path}`, bytes: readFileSync(e.absPath) });
  }
  for (const file of fixtureFiles(fixturesDir)) {
    if (statSync(file).size <= maxBytes) inputs.push({ name: `fixtures/${path.relative(fixturesDir, file)}`, bytes: readFileSync(file) });
  }
  return inputs;
}
