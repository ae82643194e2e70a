import type { Command } from 'commander';
import { RuntimeError } from '../errors.js';
import { action } from './run.js';

// Placeholder until the readers land (issue 2); replaced by the real capinfos-like command.
export function registerInfo(program: Command): void {
  program
    .command('info')
    .argument('<capture...>')
    .action(action(async () => {
      throw new RuntimeError('info is not implemented yet');
    }));
}
