// Characters that change what code means without showing it: invisible ones, bidirectional
// controls (Trojan Source), and letters that look like ASCII letters.

export type SuspectKind = 'invisible' | 'bidi' | 'confusable';

export interface Suspect {
  kind: SuspectKind;
  name: string;
  /** For confusables: the ASCII letter it imitates. */
  looksLike?: string;
}

const INVISIBLE: Record<number, string> = {
  0x00ad: 'SOFT HYPHEN',
  0x034f: 'COMBINING GRAPHEME JOINER',
  0x061c: 'ARABIC LETTER MARK',
  0x115f: 'HANGUL CHOSEONG FILLER',
  0x1160: 'HANGUL JUNGSEONG FILLER',
  0x17b4: 'KHMER VOWEL INHERENT AQ',
  0x17b5: 'KHMER VOWEL INHERENT AA',
  0x180e: 'MONGOLIAN VOWEL SEPARATOR',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x2060: 'WORD JOINER',
  0x2061: 'FUNCTION APPLICATION',
  0x2062: 'INVISIBLE TIMES',
  0x2063: 'INVISIBLE SEPARATOR',
  0x2064: 'INVISIBLE PLUS',
  0x3164: 'HANGUL FILLER',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE (BOM)',
  0xffa0: 'HALFWIDTH HANGUL FILLER',
};

const BIDI: Record<number, string> = {
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
};

/** Cyrillic and Greek letters drawn like Latin ones. */
const CONFUSABLE: Record<number, [string, string]> = {
  0x0430: ['a', 'CYRILLIC SMALL LETTER A'],
  0x0435: ['e', 'CYRILLIC SMALL LETTER IE'],
  0x043e: ['o', 'CYRILLIC SMALL LETTER O'],
  0x0440: ['p', 'CYRILLIC SMALL LETTER ER'],
  0x0441: ['c', 'CYRILLIC SMALL LETTER ES'],
  0x0443: ['y', 'CYRILLIC SMALL LETTER U'],
  0x0445: ['x', 'CYRILLIC SMALL LETTER HA'],
  0x0456: ['i', 'CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I'],
  0x0458: ['j', 'CYRILLIC SMALL LETTER JE'],
  0x0455: ['s', 'CYRILLIC SMALL LETTER DZE'],
  0x0410: ['A', 'CYRILLIC CAPITAL LETTER A'],
  0x0412: ['B', 'CYRILLIC CAPITAL LETTER VE'],
  0x0415: ['E', 'CYRILLIC CAPITAL LETTER IE'],
  0x041a: ['K', 'CYRILLIC CAPITAL LETTER KA'],
  0x041c: ['M', 'CYRILLIC CAPITAL LETTER EM'],
  0x041d: ['H', 'CYRILLIC CAPITAL LETTER EN'],
  0x041e: ['O', 'CYRILLIC CAPITAL LETTER O'],
  0x0420: ['P', 'CYRILLIC CAPITAL LETTER ER'],
  0x0421: ['C', 'CYRILLIC CAPITAL LETTER ES'],
  0x0422: ['T', 'CYRILLIC CAPITAL LETTER TE'],
  0x0425: ['X', 'CYRILLIC CAPITAL LETTER HA'],
  0x03bf: ['o', 'GREEK SMALL LETTER OMICRON'],
  0x03b1: ['a', 'GREEK SMALL LETTER ALPHA'],
  0x03bd: ['v', 'GREEK SMALL LETTER NU'],
  0x0391: ['A', 'GREEK CAPITAL LETTER ALPHA'],
  0x0392: ['B', 'GREEK CAPITAL LETTER BETA'],
  0x0395: ['E', 'GREEK CAPITAL LETTER EPSILON'],
  0x0397: ['H', 'GREEK CAPITAL LETTER ETA'],
  0x0399: ['I', 'GREEK CAPITAL LETTER IOTA'],
  0x039a: ['K', 'GREEK CAPITAL LETTER KAPPA'],
  0x039c: ['M', 'GREEK CAPITAL LETTER MU'],
  0x039d: ['N', 'GREEK CAPITAL LETTER NU'],
  0x039f: ['O', 'GREEK CAPITAL LETTER OMICRON'],
  0x03a1: ['P', 'GREEK CAPITAL LETTER RHO'],
  0x03a4: ['T', 'GREEK CAPITAL LETTER TAU'],
  0x03a7: ['X', 'GREEK CAPITAL LETTER CHI'],
  0x03a5: ['Y', 'GREEK CAPITAL LETTER UPSILON'],
  0x0396: ['Z', 'GREEK CAPITAL LETTER ZETA'],
};

/** One regex over all of them: a scan of a 5 MB file stays in the milliseconds. */
export const SUSPECT_PATTERN = new RegExp(
  `[${[...Object.keys(INVISIBLE), ...Object.keys(BIDI), ...Object.keys(CONFUSABLE)]
    .map((c) => `\\u{${Number(c).toString(16)}}`)
    .join('')}]`,
  'gu',
);

export function classify(code: number): Suspect | undefined {
  if (INVISIBLE[code]) return { kind: 'invisible', name: INVISIBLE[code] };
  if (BIDI[code]) return { kind: 'bidi', name: BIDI[code] };
  const c = CONFUSABLE[code];
  return c ? { kind: 'confusable', name: c[1], looksLike: c[0] } : undefined;
}

/** A confusable matters when it sits among Latin letters, as in an identifier. */
export function amongLatin(text: string, at: number): boolean {
  const isLatin = (i: number) => /[A-Za-z0-9_$]/.test(text[i] ?? '');
  return isLatin(at - 1) || isLatin(at + 1);
}

export function codePointLabel(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
