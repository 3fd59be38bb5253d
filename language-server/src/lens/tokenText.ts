import type { Tokenizer } from '../tokenizer/tokenizer';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A token's text for display: quoted and escaped; partial characters shown as bytes. */
export function escapeToken(tokenizer: Tokenizer, id: number): string {
  const bytes = tokenizer.tokenBytes(id);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return `«${Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}»`;
  }
  return JSON.stringify(text).replace(
    /[\u0080-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}
