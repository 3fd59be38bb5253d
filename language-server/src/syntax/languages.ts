/**
 * Which tree-sitter grammar parses a document. A grammar name is the stem of its wasm file:
 * 'c-sharp' is grammars/tree-sitter-c-sharp.wasm.
 */

/**
 * VS Code languageIds, plus the names other LSP clients send for the same languages (Neovim's
 * filetypes: 'cs', 'sh', ...), so the server works beyond VS Code.
 */
const BY_LANGUAGE_ID: ReadonlyMap<string, string> = new Map([
  ['typescript', 'typescript'],
  // TSX needs its own grammar: the typescript grammar reads `<T>x` as a type assertion, not JSX.
  ['typescriptreact', 'tsx'],
  // The javascript grammar parses JSX too.
  ['javascript', 'javascript'],
  ['javascriptreact', 'javascript'],
  ['python', 'python'],
  ['go', 'go'],
  ['rust', 'rust'],
  ['java', 'java'],
  ['csharp', 'c-sharp'],
  ['cs', 'c-sharp'],
  // No C grammar ships in @vscode/tree-sitter-wasm; C is close to a subset of C++, so the cpp grammar reads it well.
  ['cpp', 'cpp'],
  ['c', 'cpp'],
  ['css', 'css'],
  ['shellscript', 'bash'],
  ['sh', 'bash'],
  ['bash', 'bash'],
  ['ruby', 'ruby'],
  ['php', 'php'],
]);

const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['.ts', 'typescript'],
  ['.mts', 'typescript'],
  ['.cts', 'typescript'],
  ['.tsx', 'tsx'],
  ['.js', 'javascript'],
  ['.mjs', 'javascript'],
  ['.cjs', 'javascript'],
  ['.jsx', 'javascript'],
  ['.py', 'python'],
  ['.pyi', 'python'],
  ['.go', 'go'],
  ['.rs', 'rust'],
  ['.java', 'java'],
  ['.cs', 'c-sharp'],
  ['.c', 'cpp'],
  ['.h', 'cpp'],
  ['.cpp', 'cpp'],
  ['.cc', 'cpp'],
  ['.cxx', 'cpp'],
  ['.c++', 'cpp'],
  ['.hpp', 'cpp'],
  ['.hh', 'cpp'],
  ['.hxx', 'cpp'],
  ['.css', 'css'],
  ['.sh', 'bash'],
  ['.bash', 'bash'],
  ['.rb', 'ruby'],
  ['.php', 'php'],
]);

/** Every grammar `grammarFor` can return. */
export const GRAMMARS: readonly string[] = [...new Set([...BY_LANGUAGE_ID.values(), ...BY_EXTENSION.values()])].sort();

/** '.ts' from 'src/a.ts', 'C:\\x\\a.TS' or 'file:///x/a.ts'; '' when the name has no extension. */
function extensionOf(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/**
 * The grammar for a document, or undefined when none fits. A known languageId wins (the user may have
 * picked a language mode that differs from the extension); otherwise the file name's extension decides,
 * which covers clients that send an unknown or empty languageId.
 */
export function grammarFor(languageId: string, fileName?: string): string | undefined {
  const byId = BY_LANGUAGE_ID.get(languageId);
  if (byId !== undefined) return byId;
  return fileName === undefined ? undefined : BY_EXTENSION.get(extensionOf(fileName));
}
