import { VERSION } from '../version';
import { type Command, type Io, UsageError } from './command';

export function helpText(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `tessera ${VERSION} — local code completion you can see into

Usage:
  tessera <command> [options]     human output; add --json for machines
  tessera <command> --help        usage of one command
  tessera --version | --help

Commands:
${list}

The language server itself is \`tessera-lsp --stdio\`.
`;
}

/** Runs the CLI on `args` (without node and script) and returns the exit code. */
export async function runCli(args: string[], commands: Command[], io: Io): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(helpText(commands));
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    io.err(`tessera: unknown command '${first}'. Run 'tessera --help' for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`tessera ${command.name}: ${err.message}\nUsage: ${command.usage}\n`);
      return 2;
    }
    io.err(`tessera ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
