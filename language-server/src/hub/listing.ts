// What `Select Model` and `tessera models list` show: the models on this machine (the embedded one first)
// and the catalogue, each entry marked with what of it is installed. Reads the disk only.
import { DEFAULT_MODEL } from '../defaultModel';
import type { CatalogueEntry, ModelEntry } from '../lsp_ext';
import { CATALOGUE, memoryNeeded } from './catalogue';
import { asInstalled, installedModels } from './installed';

export function listModels(cache: string, folders: string[] = []): { installed: ModelEntry[]; catalogue: CatalogueEntry[] } {
  const embedded = asInstalled(DEFAULT_MODEL.dir, 'folder');
  const installed: ModelEntry[] = [
    ...(embedded ? [{ ...embedded, name: DEFAULT_MODEL.name, source: 'embedded' as const }] : []),
    ...installedModels(cache, folders),
  ];
  const catalogue = CATALOGUE.map((m) => ({
    ...m,
    precisions: m.precisions as Record<string, number>,
    memoryBytes: memoryNeeded(m.precisions[m.recommended] ?? 0, m.recommended),
    installed: installed.find((i) => i.repo === m.repo)?.precisions ?? [],
  }));
  return { installed, catalogue };
}
