import type { DocumentStats } from '../lsp_ext';

/** Size of `text` in UTF-8, counting each lone surrogate as U+FFFD (3 bytes), as encoders do. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Number of lines as VS Code counts them: line breaks are \r\n, \n or \r; an empty text has one line. */
export function lineCount(text: string): number {
  let lines = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) lines++;
    else if (c === 13) {
      lines++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  return lines;
}

export function documentStats(uri: string, version: number, text: string): DocumentStats {
  return { uri, version, lines: lineCount(text), utf16Length: text.length, utf8Bytes: utf8Length(text) };
}
