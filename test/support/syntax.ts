// Tree-sitter for tests: the grammars the build copies to dist/wasm, loaded once per test file.
import { join } from 'node:path';
import { before } from 'node:test';
import { documentOf } from '../../language-server/src/completion/window';
import { SyntaxDocument, SyntaxService } from '../../language-server/src/syntax/parser';
import { repoRoot } from '../../scripts/lib/repoRoot';

export const wasmDir = join(repoRoot, 'dist', 'wasm');

/** The syntax service, created before the file's tests run; `parse` reads a string as a document. */
export function useSyntax() {
  const loaded: { service?: SyntaxService } = {};
  before(async () => {
    loaded.service = await SyntaxService.create(wasmDir);
  });
  return {
    service: () => loaded.service!,
    parse: (grammar: string, text: string): Promise<SyntaxDocument> => SyntaxDocument.create(loaded.service!, grammar, documentOf(text)),
  };
}
