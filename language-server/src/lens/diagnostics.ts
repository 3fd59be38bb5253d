// Tokenization anomalies as diagnostics: what the model sees differs from what the file holds.
// Pure: text, tokens and syntax leaves in, findings (UTF-16 offsets) out.
import type { TesseraSettings } from '../settings';
import type { Leaf } from '../syntax/parser';
import { straddlingTokens } from '../syntax/subtokens';
import type { Encoding, Tokenizer } from '../tokenizer/tokenizer';
import { amongLatin, classify, codePointLabel, SUSPECT_PATTERN } from './characters';
import { escapeToken } from './tokenText';

export interface Finding {
  start: number;
  end: number;
  severity: 'information' | 'hint';
  code: 'normalization' | 'invalid-utf16' | 'invisible' | 'bidi' | 'confusable' | 'straddle';
  message: string;
}

/** At most this many findings of each kind per file: beyond it, one says how many more. */
export const MAX_PER_KIND = 200;

/**
 * `cost(start, end)`: tokens overlapping a range. `syntax`: the file's tokens and syntax leaves,
 * when the file is small enough to have them (straddles need both).
 */
export function findAnomalies(
  text: string,
  tokenizer: Tokenizer,
  cost: (start: number, end: number) => number,
  syntax: { tokens: Encoding; leaves: Leaf[] } | undefined,
  enabled: TesseraSettings['diagnostics'],
): Finding[] {
  const out: Finding[] = [];
  if (enabled.normalization) out.push(...normalizationFindings(text, tokenizer));
  if (enabled.invisible) out.push(...suspectFindings(text, cost));
  if (enabled.straddle && syntax) out.push(...straddleFindings(text, tokenizer, syntax.tokens, syntax.leaves));
  return out;
}

function normalizationFindings(text: string, tokenizer: Tokenizer): Finding[] {
  const out: Finding[] = [];
  // Lone surrogates are not Unicode: every encoder turns them into U+FFFD.
  for (const m of text.matchAll(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g)) {
    out.push({
      start: m.index,
      end: m.index + 1,
      severity: 'information',
      code: 'invalid-utf16',
      message: `Lone surrogate ${codePointLabel(m[0].charCodeAt(0))} is not a character: the model sees U+FFFD (�) here.`,
    });
  }
  if (tokenizer.normalizesNfc) {
    // NFC can only change runs of non-ASCII text together with the ASCII letter before them.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included
    for (const m of text.matchAll(/[\x00-\x7f]?[^\x00-\x7f]+/g)) {
      const run = m[0];
      const nfc = run.normalize('NFC');
      if (nfc === run) continue;
      out.push({
        start: m.index,
        end: m.index + run.length,
        severity: 'information',
        code: 'normalization',
        message: `${tokenizer.name} normalizes this text (NFC): the model sees "${nfc}" (${[...nfc].map((c) => codePointLabel(c.codePointAt(0)!)).join(' ')}), the file has ${[...run].map((c) => codePointLabel(c.codePointAt(0)!)).join(' ')}; decoding gives back the composed form.`,
      });
    }
  }
  return capped(out);
}

function suspectFindings(text: string, tokensOverlapping: (start: number, end: number) => number): Finding[] {
  const out: Finding[] = [];
  for (const m of text.matchAll(SUSPECT_PATTERN)) {
    const at = m.index;
    const code = m[0].codePointAt(0)!;
    if (code === 0xfeff && at === 0) continue; // a BOM at the start is an encoding mark
    const suspect = classify(code);
    if (!suspect) continue;
    if (suspect.kind === 'confusable' && !amongLatin(text, at)) continue;
    const cost = tokensOverlapping(at, at + m[0].length);
    const costText = `costs ${cost} token${cost === 1 ? '' : 's'}`;
    const label = `${codePointLabel(code)} ${suspect.name}`;
    const message =
      suspect.kind === 'invisible'
        ? `Invisible character ${label}: the editor shows nothing, the model reads it; ${costText}.`
        : suspect.kind === 'bidi'
          ? `Bidirectional control ${label}: code can display in a different order than it is read (Trojan Source); ${costText}.`
          : `"${m[0]}" is ${label}, not the Latin "${suspect.looksLike}" it looks like; ${costText}.`;
    out.push({ start: at, end: at + m[0].length, severity: 'information', code: suspect.kind, message });
  }
  return capped(out);
}

/**
 * Tokens whose non-blank text spans two syntax leaves, at least one of them a word (identifier,
 * keyword, string, number): a completion that starts inside such a token needs token healing.
 * Pure punctuation runs such as `);` are how every BPE splits code and are left alone.
 */
function straddleFindings(text: string, tokenizer: Tokenizer, tokens: Encoding, leaves: Leaf[]): Finding[] {
  const out: Finding[] = [];
  for (const s of straddlingTokens(tokens, leaves, text)) {
    const touched = s.leaves.map((i) => leaves[i]!);
    if (touched.every((l) => l.kind === 'punctuation' || l.kind === 'other' || l.kind === 'comment')) continue;
    const id = tokens.ids[s.token]!;
    const start = tokens.starts[s.token]!;
    const end = tokens.ends[s.token]!;
    const parts = touched.map((l) => `\`${text.slice(l.start, l.end).slice(0, 30)}\` (${l.kind})`).join(' and ');
    out.push({
      start,
      end,
      severity: 'hint',
      code: 'straddle',
      message: `Token ${escapeToken(tokenizer, id)} (id ${id}) spans ${parts}: a completion starting inside it needs token healing.`,
    });
  }
  return capped(out);
}

function capped(findings: Finding[]): Finding[] {
  if (findings.length <= MAX_PER_KIND) return findings;
  const kept = findings.slice(0, MAX_PER_KIND);
  const last = kept[kept.length - 1]!;
  kept.push({ ...last, message: `${findings.length - MAX_PER_KIND} more like this in the file are not listed.` });
  return kept;
}
