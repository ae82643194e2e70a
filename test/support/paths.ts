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
export const fixturesDir = path.join(repoRoot, 'fixtures');
/** The shared corpus lives beside the clone (../shared/corpus); TCPLENS_CORPUS overrides. */
export const corpusDir = process.env['TCPLENS_CORPUS'] ?? path.resolve(repoRoot, '../shared/corpus');
