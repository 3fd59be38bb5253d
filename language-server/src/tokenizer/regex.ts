// Hugging Face tokenizers compile Split patterns with Oniguruma; V8's RegExp differs in ways that
// change token boundaries. Translate the constructs real tokenizer.json files use.
import { TokenizerError } from './spec';

/**
 * Oniguruma's \s is Unicode White_Space (it includes U+0085); JS's \s adds U+FEFF and drops U+0085.
 * `\p{White_Space}` is exactly Oniguruma's set.
 */
const WS = '\\p{White_Space}';

/** Translates an Oniguruma pattern to a JS pattern for the `u` flag. */
export function translatePattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new TokenizerError(`regex ends with a backslash: ${pattern}`);
      if (next === 's') out += inClass ? WS : `[${WS}]`;
      else if (next === 'S') {
        if (inClass) throw new TokenizerError(`\\S inside a character class is not supported: ${pattern}`);
        out += `[^${WS}]`;
      } else if (next === 'p' || next === 'P' || next === 'u' || next === 'x') {
        // Copy \p{..}, \uXXXX, \x.. escapes whole (they are the same in both engines).
        const m = /^\\[pPux](\{[^}]*\}|[0-9a-fA-F]{2,4})/.exec(pattern.slice(i));
        if (!m) throw new TokenizerError(`unsupported escape in ${pattern}`);
        out += m[0];
        i += m[0].length - 1;
        continue;
      } else out += c + next;
      i++;
      continue;
    }
    if (!inClass && pattern.startsWith('(?i:', i)) {
      // Node 20 has no inline flags: spell each letter out as [xX].
      const end = groupEnd(pattern, i);
      out += `(?:${caseless(translatePattern(pattern.slice(i + 4, end)))})`;
      i = end;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

function groupEnd(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new TokenizerError(`unbalanced group in ${pattern}`);
}

/** Makes the ASCII letters of an already translated pattern match either case. */
function caseless(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const m = /^\\[pPux](\{[^}]*\}|[0-9a-fA-F]{2,4})/.exec(pattern.slice(i));
      const esc = m ? m[0] : pattern.slice(i, i + 2);
      out += esc;
      i += esc.length - 1;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    const lower = c.toLowerCase();
    const upper = c.toUpperCase();
    if (/[a-zA-Z]/.test(c)) out += inClass ? lower + upper : `[${lower}${upper}]`;
    else out += c;
  }
  return out;
}

/** `text` as a pattern that matches it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A global, Unicode RegExp for a Split pattern (a String pattern matches literally). */
export function compilePattern(pattern: { Regex: string } | { String: string }): RegExp {
  const source = 'Regex' in pattern ? translatePattern(pattern.Regex) : escapeRegExp(pattern.String);
  try {
    return new RegExp(source, 'gu');
  } catch (err) {
    throw new TokenizerError(`cannot compile the pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

/** The pattern of the ByteLevel pre-tokenizer with use_regex (GPT-2's). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
