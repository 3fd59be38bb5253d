// Pre-tokenizers split text into pieces that BPE encodes independently, one stage at a time,
// as Hugging Face's Sequence does: each stage splits every piece the previous stage produced.
import { compilePattern, GPT2_PATTERN } from './regex';
import { type PreTokenizerSpec, type SplitBehavior, TokenizerError } from './spec';

/** Splits `text` and appends [start, end) pairs of its pieces to `out`, offset by `base`. */
export type Stage = (text: string, base: number, out: number[]) => void;

export interface PreTokenizer {
  /** Appends the [start, end) pairs of every piece of `text` to `out`. */
  split(text: string, out: number[]): void;
}

export function buildPreTokenizer(spec: PreTokenizerSpec | null): PreTokenizer {
  const stages = flatten(spec)
    .map(buildStage)
    .filter((s): s is Stage => s !== null);
  if (stages.length === 0) return { split: (text, out) => void (text.length > 0 && out.push(0, text.length)) };
  if (stages.length === 1) return { split: (text, out) => stages[0]!(text, 0, out) };
  const [first, ...rest] = stages as [Stage, ...Stage[]];
  /** The later stages on text[a, b), appending absolute pairs to `out`. */
  const refineInto = (text: string, a: number, b: number, out: number[]): void => {
    let pieces = [a, b];
    for (let s = 0; s < rest.length; s++) {
      const next: number[] = s === rest.length - 1 ? out : [];
      for (let i = 0; i < pieces.length; i += 2) {
        const from = pieces[i]!;
        // Later stages see each piece alone: a lookahead at its end must see the end of input.
        rest[s]!(text.slice(from, pieces[i + 1]!), from, next);
      }
      pieces = next;
    }
  };
  // What the later stages make of a short first-stage piece depends on its text alone: cache it,
  // since code repeats its lines and words (DeepSeek-Coder's five stages cost 3x without this).
  // Long pieces (StarCoder's first stage splits only at digits) rarely repeat: not kept.
  let cache = new Map<string, Int32Array>();
  return {
    split(text, out) {
      const firsts: number[] = [];
      first(text, 0, firsts);
      for (let i = 0; i < firsts.length; i += 2) {
        const a = firsts[i]!;
        const b = firsts[i + 1]!;
        if (b - a > 256) {
          refineInto(text, a, b, out);
          continue;
        }
        const piece = text.slice(a, b);
        let bounds = cache.get(piece);
        if (!bounds) {
          const local: number[] = [];
          refineInto(piece, 0, piece.length, local);
          bounds = Int32Array.from(local);
          if (cache.size >= 1 << 16) cache = new Map();
          cache.set(piece, bounds);
        }
        for (let k = 0; k < bounds.length; k++) out.push(a + bounds[k]!);
      }
    },
  };
}

function flatten(spec: PreTokenizerSpec | null): PreTokenizerSpec[] {
  if (!spec) return [];
  return spec.type === 'Sequence' ? spec.pretokenizers.flatMap(flatten) : [spec];
}

function buildStage(spec: PreTokenizerSpec): Stage | null {
  switch (spec.type) {
    case 'Split':
      return splitStage(compilePattern(spec.pattern), spec.behavior, spec.invert);
    case 'Digits':
      return splitStage(/\p{N}/gu, spec.individual_digits ? 'Isolated' : 'Contiguous', false);
    case 'ByteLevel':
      if (spec.add_prefix_space) throw new TokenizerError('ByteLevel with add_prefix_space is not supported');
      return spec.use_regex ? splitStage(compilePattern({ Regex: GPT2_PATTERN }), 'Isolated', false) : null;
    default:
      throw new TokenizerError(`pre-tokenizer ${JSON.stringify((spec as { type: unknown }).type)} is not supported`);
  }
}

/** An empty match would repeat forever: step over one character (a whole surrogate pair). */
function skipEmptyMatch(re: RegExp, text: string, at: number): void {
  re.lastIndex = at + (text.codePointAt(at)! > 0xffff ? 2 : 1);
}

/** Hugging Face's Split: matches (or, inverted, the text between them) are the delimiters. */
export function splitStage(re: RegExp, behavior: SplitBehavior, invert: boolean): Stage {
  if (!['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'].includes(behavior)) {
    throw new TokenizerError(`Split behavior ${JSON.stringify(behavior)} is not supported`);
  }
  // The two behaviours real tokenizers use get a tight loop of their own: this runs per piece.
  if (behavior === 'Isolated' || (behavior === 'Removed' && !invert)) {
    const keepMatches = behavior === 'Isolated';
    return (text, base, out) => {
      re.lastIndex = 0;
      let prev = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const start = m.index;
        const end = start + m[0].length;
        if (end === start) {
          skipEmptyMatch(re, text, start);
          continue;
        }
        if (start > prev) out.push(base + prev, base + start);
        if (keepMatches) out.push(base + start, base + end);
        prev = end;
      }
      if (text.length > prev) out.push(base + prev, base + text.length);
    };
  }
  if (behavior === 'Removed' && invert) {
    // Keep only the matches (tiktoken-style patterns, which match everything anyway).
    return (text, base, out) => {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const len = m[0].length;
        if (len === 0) {
          skipEmptyMatch(re, text, m.index);
          continue;
        }
        out.push(base + m.index, base + m.index + len);
      }
    };
  }
  // The merging behaviours (no shipped tokenizer uses them; Hugging Face semantics on
  // "the-final--countdown" split at "-": MergedWithPrevious the- final- - countdown,
  // MergedWithNext the -final - -countdown, Contiguous the - final -- countdown).
  return (text, base, out) => {
    re.lastIndex = 0; // shared and stateful: every call starts at 0 and runs to the end
    let prev = 0;
    let pendStart = -1; // the piece being built, or -1
    let pendEnd = -1;
    let pendDelim = false; // whether its last part was a delimiter
    const emit = (start: number, end: number, delim: boolean): void => {
      if (start === end) return;
      const extend =
        pendStart !== -1 &&
        (behavior === 'MergedWithPrevious'
          ? delim && !pendDelim
          : behavior === 'MergedWithNext'
            ? pendDelim && !delim
            : delim && pendDelim);
      if (extend) pendEnd = end;
      else {
        if (pendStart !== -1) out.push(base + pendStart, base + pendEnd);
        pendStart = start;
        pendEnd = end;
      }
      pendDelim = delim;
    };
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      if (end === start) {
        skipEmptyMatch(re, text, start);
        continue;
      }
      emit(prev, start, invert);
      emit(start, end, !invert);
      prev = end;
    }
    emit(prev, text.length, invert);
    if (pendStart !== -1) out.push(base + pendStart, base + pendEnd);
  };
}
