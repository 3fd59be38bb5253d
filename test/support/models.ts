// The model folders tests run on, and what torch wrote of each at export time (reference.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModelFolder, type Precision } from '../../language-server/src/model/folder';
import { DecoderSession } from '../../language-server/src/model/session';
import { repoRoot } from '../../scripts/lib/repoRoot';

/** torch's logits and greedy tokens for a prompt, written by the export recipe beside each model. */
export interface Reference {
  prompt: number[];
  probe_ids: number[];
  positions: Array<{ argmax: number; logsumexp: number; probe: number[] }>;
  greedy: number[];
}

export const defaultModel = join(repoRoot, 'models', 'tessera-tiny');
export const fixtures = join(repoRoot, 'test', 'fixtures', 'models');

export function readReference(dir: string): Reference {
  return JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
}

/** A model folder's decoder as one onnxruntime-node session. */
export async function openSession(dir: string, precision: Precision = 'fp32') {
  const folder = openModelFolder(dir, precision);
  return { folder, session: await DecoderSession.open(folder.onnxPath, folder.config) };
}
