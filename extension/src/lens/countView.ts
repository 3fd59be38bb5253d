import type { CountResult } from '../../../language-server/src/lsp_ext';

/** What the token count item shows, for a count (or its absence). Pure. */
export function renderCount(count: CountResult | null | undefined): { text: string; label: string; tooltip: string } {
  if (!count) return { text: '', label: '', tooltip: '' };
  if (count.unavailable) {
    return {
      text: '$(symbol-numeric) — tokens',
      label: 'Tessera: no token count',
      tooltip: `Tessera cannot count tokens here: ${count.unavailable}`,
    };
  }
  const what = count.selection ? 'selection' : 'file';
  const perToken = count.tokens > 0 ? (count.characters / count.tokens).toFixed(2) : '—';
  return {
    text: `$(symbol-numeric) ${count.tokens.toLocaleString('en-US')} tokens · ${perToken} ch/tok`,
    label: `Tessera: ${count.tokens.toLocaleString('en-US')} tokens, ${perToken} characters per token`,
    tooltip: `${count.tokens.toLocaleString('en-US')} ${count.tokenizer} tokens in the ${what}: ${count.characters.toLocaleString('en-US')} characters, ${perToken} characters per token.\nClick to compare tokenizers.`,
  };
}
