// The tokenizer a server engine counts with. A server does not hand out its vocabulary, so Tessera
// uses the served model's tokenizer.json where the user names one (tessera.engine.tokenizer): budgets
// are then exact and the Token Lens shows the served model's tokens. Otherwise the prompt's budgets are
// counted with Tessera's own tokenizer, whose small vocabulary cuts code into more tokens than a large
// model's does, so an estimated budget errs towards a shorter prompt, never an overlong one.
import type { TokenizerRegistry } from '../tokenizer/registry';
import type { Tokenizer } from '../tokenizer/tokenizer';

export interface ServedTokens {
  tokenizer: Tokenizer;
  /** Where they come from, for Show Server Info. */
  from: string;
  exact: boolean;
}

export function servedTokens(spec: string, tokenizers: TokenizerRegistry): ServedTokens {
  if (spec) {
    const ref = tokenizers.resolve(spec, []);
    return { tokenizer: tokenizers.load(ref), from: `tessera.engine.tokenizer (${ref.path})`, exact: true };
  }
  // The registry's default: the embedded model's tokenizer.
  const ref = tokenizers.resolve('', []);
  return {
    tokenizer: tokenizers.load(ref),
    from: `estimated with ${ref.name}'s tokenizer (name the served model's tokenizer.json in tessera.engine.tokenizer for exact counts)`,
    exact: false,
  };
}
