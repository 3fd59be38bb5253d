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
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const at = firstInvalidByte(bytes);
    io.err(`${file}: not valid UTF-8 (first at byte ${at}); invalid bytes are read as U+FFFD, as the editor shows them\n`);
    return text;
  }
}

/** Offset of the first byte that does not begin a valid UTF-8 sequence (-1: none). */
export function firstInvalidByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return i;
    // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
    const [lo, hi] =
      b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    if (bytes[i + 1]! < lo || bytes[i + 1]! > hi) return i;
    for (let k = 2; k < n; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return -1;
}
