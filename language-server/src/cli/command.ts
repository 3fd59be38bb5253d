/** One `tessera` subcommand. Later features add theirs to the list in `commands.ts`. */
export interface Command {
  name: string;
  /** One line for `tessera --help`. */
  summary: string;
  /** Full usage text for `tessera NAME --help`. */
  usage: string;
  /** Returns the process exit code. Writes human output by default and JSON with `--json`. */
  run(args: string[], io: Io): Promise<number>;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** A mistake in how the command was called: reported with the usage, exit code 2. */
export class UsageError extends Error {}

export interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string>;
  positionals: string[];
}

/**
 * Parses `--flag`, `--option value`, `--option=value` and positionals. Unknown names are errors,
 * so a typo never silently changes what a command does.
 */
export function parseArgs(args: string[], spec: { flags?: string[]; options?: string[] }): ParsedArgs {
  const flags = new Set<string>();
  const options = new Map<string, string>();
  const positionals: string[] = [];
  const known = (name: string, list?: string[]): boolean => list?.includes(name) ?? false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (known(name, spec.flags)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (known(name, spec.options)) {
      const value = eq !== -1 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { flags, options, positionals };
}
