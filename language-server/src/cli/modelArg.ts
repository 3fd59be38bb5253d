import { resolve } from 'node:path';
import { hubCacheDir } from '../hub/cacheLayout';
import { resolveModelArg } from '../hub/installed';

/** `--model`: a folder, or the id of a model in the Hugging Face cache (`org/name[@revision]`); '' for the embedded one. */
export function modelDir(value: string | undefined): string {
  return value ? resolve(resolveModelArg(value, hubCacheDir())) : '';
}
