// Normalizers rewrite text before it is split. Code is almost always unchanged by them; when it is
// changed, an alignment maps offsets in the normalized text back to the original.
import { type NormalizerSpec, TokenizerError } from './spec';

export interface Normalized {
  text: string;
  /** Original offset of normalized offset i (as a start), or null when the text did not change. */
  toOriginalStart: ((i: number) => number) | null;
  /** Original offset of normalized offset i (as an end). */
  toOriginalEnd: ((i: number) => number) | null;
}

export interface Normalizer {
  /** Whether the normalizer composes text to NFC (so decode(encode(t)) is NFC(t)). */
  readonly nfc: boolean;
  /** `atStart`: the text begins a segment (Prepend applies only there). */
  normalize(text: string, atStart: boolean): Normalized;
  /** Code units the normalizer prepends at a segment start (SentencePiece's ▁). */
  readonly prepend: string;
}

/** Supported: NFC, Prepend, and Replace of a string by one of the same length (▁ for space). */
export function buildNormalizer(spec: NormalizerSpec | null): Normalizer | null {
  if (!spec) return null;
  const steps = flatten(spec);
  let nfc = false;
  let prepend = '';
  const replaces: Array<[string, string]> = [];
  for (const step of steps) {
    switch (step.type) {
      case 'NFC':
        if (replaces.length > 0 || prepend) throw new TokenizerError('NFC after Replace/Prepend is not supported');
        nfc = true;
        break;
      case 'Prepend':
        prepend = step.prepend + prepend;
        break;
      case 'Replace': {
        if (!('String' in step.pattern)) throw new TokenizerError('Replace normalizers with a regex are not supported');
        const from = step.pattern.String;
        if (from.length !== step.content.length) throw new TokenizerError('Replace normalizers that change length are not supported');
        replaces.push([from, step.content]);
        break;
      }
      default:
        throw new TokenizerError(`normalizer ${JSON.stringify((step as { type: unknown }).type)} is not supported`);
    }
  }
  return {
    prepend,
    nfc,
    normalize(text, atStart) {
      let out = text;
      let map: Alignment | null = null;
      if (nfc) {
        map = nfcAlign(text);
        if (map) out = map.text;
      }
      for (const [from, to] of replaces) out = out.split(from).join(to);
      const pre = atStart && prepend && out.length > 0 ? prepend : '';
      if (!map && !pre) return { text: out, toOriginalStart: null, toOriginalEnd: null };
      const shift = pre.length;
      const m = map;
      const clamp = (i: number): number => Math.max(0, i - shift);
      // The prepended marker belongs to the first character, as Hugging Face aligns it.
      const firstEnd = text.length === 0 ? 0 : text.codePointAt(0)! > 0xffff ? 2 : 1;
      return {
        text: pre + out,
        toOriginalStart: (i) => (m ? m.start(clamp(i)) : clamp(i)),
        toOriginalEnd: (i) => (i > 0 && i <= shift ? firstEnd : m ? m.end(clamp(i)) : clamp(i)),
      };
    },
  };
}

function flatten(spec: NormalizerSpec): NormalizerSpec[] {
  return spec.type === 'Sequence' ? spec.normalizers.flatMap(flatten) : [spec];
}

interface Alignment {
  text: string;
  start(i: number): number;
  end(i: number): number;
}

/**
 * NFC with offsets. ASCII characters never compose with what precedes them, so NFC can be applied
 * chunk by chunk, each chunk starting at an ASCII character; a chunk NFC changes maps as a whole.
 * Returns null when the text is already NFC (the usual case for code).
 */
function nfcAlign(text: string): Alignment | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII text (control characters included) is already NFC
  if (/^[\x00-\x7f]*$/.test(text) || text.normalize('NFC') === text) return null;
  const origStart: number[] = [];
  const origEnd: number[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) >= 0x80) j++;
    const chunk = text.slice(i, j);
    const norm = chunk.normalize('NFC');
    if (norm === chunk) {
      for (let k = 0; k < chunk.length; k++) {
        origStart.push(i + k);
        origEnd.push(i + k + 1);
      }
    } else {
      for (let k = 0; k < norm.length; k++) {
        origStart.push(i);
        origEnd.push(j);
      }
    }
    out += norm;
    i = j;
  }
  return {
    text: out,
    start: (k) => (k >= origStart.length ? text.length : origStart[k]!),
    end: (k) => (k <= 0 ? 0 : origEnd[k - 1]!),
  };
}
