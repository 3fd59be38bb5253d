// How a fill compares with the text that was cut out.

/** The same text, trailing whitespace aside. */
export function exactMatch(generated: string, expected: string): boolean {
  return generated.trimEnd() === expected.trimEnd();
}

/** 1 - Levenshtein distance / the longer length (1 for two empty texts), trailing whitespace aside. */
export function editSimilarity(generated: string, expected: string): number {
  const a = generated.trimEnd();
  const b = expected.trimEnd();
  if (!a.length && !b.length) return 1;
  return 1 - levenshtein(a, b) / Math.max(a.length, b.length);
}

export function levenshtein(a: string, b: string): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
