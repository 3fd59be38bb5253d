// How the command line reads a source file: bounded in size, decoded as UTF-8 the way VS Code opens it
// (invalid bytes become U+FFFD), and saying so when a file is not valid UTF-8.
import { readFileSync, statSync } from 'node:fs';
import type { Io } from './command';

const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** The text of `file` (`-`: standard input); a warning on stderr when bytes were not valid UTF-8. */
export function readSourceFile(file: string, io: Io): string {
  let bytes: Buffer;
  if (file === '-') bytes = readFileSync(0);
  else {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new Error(`${file}: no such file`);
    }
    if (size > MAX_FILE_BYTES) throw new Error(`${file}: ${(size / 1e6).toFixed(0)} MB is more than this command reads (256 MB)`);
    try {
      bytes = readFileSync(file);
    } catch {
      throw new Error(`${file}: cannot read it`);
    }
  }
  const text = bytes.toString('utf8');
  // Valid UTF-8 encodes back to the same bytes; the first byte that does not is the first invalid one.
  const again = Buffer.from(text, 'utf8');
  if (again.equals(bytes)) return text;
  let at = 0;
  while (bytes[at] === again[at]) at++;
  io.err(`${file}: not valid UTF-8 (first at byte ${at}); invalid bytes are read as U+FFFD, as the editor shows them\n`);
  return text;
}
