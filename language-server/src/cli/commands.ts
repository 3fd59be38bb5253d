import { benchCommand } from './bench';
import type { Command } from './command';
import { completeCommand } from './complete';
import { fimCheckCommand } from './fimCheck';
import { infoCommand } from './info';
import { modelsCommand } from './models';
import { optimizeCommand } from './optimize';
import { tokensCommand } from './tokens';

/** Every `tessera` subcommand, in the order `--help` lists them. */
export const commands: Command[] = [
  infoCommand,
  tokensCommand,
  completeCommand,
  fimCheckCommand,
  modelsCommand,
  optimizeCommand,
  benchCommand,
];
