import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The compiled tree this file belongs to (dist/, or a developer's private .build/NAME/). */
export const buildRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tcplens') return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/** Repository root: holds fixtures/, bpf/, native/ and node_modules/. */
export const repoRoot = findRepoRoot(buildRoot);
/** The built CLI entry of this same build; tests run the real command line. */
export const cliPath = path.join(buildRoot, 'bin/tcplens.js');
/**
 * What follows `node` to run the CLI as its bin runs: the Node options of its `#!/usr/bin/env -S node ...`
 * line, then the entry. `spawn(process.execPath, [...cliArgs, ...args])` is `tcplens ...args` with the
 * Node that runs the tests (the bin itself would take the first `node` on PATH).
 */
export const cliArgs: readonly string[] = [...shebangNodeOptions(cliPath), cliPath];

function shebangNodeOptions(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0]!;
  const words = first.replace(/^#!\S*env\s+(-S\s+)?/, '').trim().split(/\s+/);
  return words[0] === 'node' ? words.slice(1) : [];
}
export const fixturesDir = path.join(repoRoot, 'fixtures');
/** The shared corpus lives beside the clone (../shared/corpus); TCPLENS_CORPUS overrides. */
export const corpusDir = process.env['TCPLENS_CORPUS'] ?? path.resolve(repoRoot, '../shared/corpus');
