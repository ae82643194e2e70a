import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root, found from this compiled file (dist/test/support/paths.js). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built CLI entry; tests run the real command line. */
export const cliPath = path.join(repoRoot, 'dist/bin/tcplens.js');
export const fixturesDir = path.join(repoRoot, 'fixtures');
/** The shared corpus lives beside the clone (../shared/corpus); TCPLENS_CORPUS overrides. */
export const corpusDir = process.env['TCPLENS_CORPUS'] ?? path.resolve(repoRoot, '../shared/corpus');
