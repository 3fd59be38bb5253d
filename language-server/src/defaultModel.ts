// The embedded default model, shipped beside the bundles (dist/ → ../models/tessera-tiny): the model
// completions use and the tokenizer the lens uses when no other is set.
import { join, resolve } from 'node:path';

const dir = join(__dirname, '..', 'models', 'tessera-tiny');

export const DEFAULT_MODEL = { name: 'tessera-tiny', dir, tokenizer: join(dir, 'tokenizer.json') };

/** Whether `dir` is the embedded model's folder (it runs as shipped: one thread, not optimized). */
export const isEmbedded = (dir: string): boolean => resolve(dir) === resolve(DEFAULT_MODEL.dir);

/** The default model's tokenizer, as a tokenizer registry names it. */
export const DEFAULT_TOKENIZER = { name: DEFAULT_MODEL.name, path: DEFAULT_MODEL.tokenizer };
