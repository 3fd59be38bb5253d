// The Token Lens on the server: the active tokenizer, every open document's tokens and syntax
// tree kept up to date edit by edit, and the requests and diagnostics built on them.
import { type Connection, type Diagnostic, DiagnosticSeverity } from 'vscode-languageserver';
import type { Tree } from 'web-tree-sitter';
import type { DocumentListener, DocumentStore, Edit } from '../documents/store';
import type { TextBuffer } from '../documents/textBuffer';
import type { Logger } from '../logger';
import {
  type CompareParams,
  type CompareResult,
  type CompareRow,
  type CountParams,
  type CountResult,
  type TokenAtParams,
  type TokenAtResult,
  type TokenizerStatus,
  tokenizerStatusNotification,
  type TokensParams,
  type TokensResult,
} from '../lsp_ext';
import { DEFAULT_SETTINGS, type TesseraSettings } from '../settings';
import { grammarFor } from '../syntax/languages';
import { type Leaf, SyntaxDocument, type SyntaxService } from '../syntax/parser';
import { TokenizedText } from '../tokenizer/incremental';
import type { TokenizerRegistry } from '../tokenizer/registry';
import type { Encoding, Tokenizer } from '../tokenizer/tokenizer';
import { findAnomalies } from './diagnostics';
import { tokenHover } from './hover';

/** Syntax trees and straddle diagnostics only for files up to this size. */
const SYNTAX_LIMIT = 1_000_000;
/** At most this much text of one range is tokenized for the lens (a minified line can be MBs). */
export const MAX_RANGE = 20_000;
const DIAGNOSTICS_DELAY_MS = 400;
/**
 * Straddle diagnostics walk every token and syntax leaf of the file (~100 ms at 1 MB): only for files
 * up to this size, so that typing in a big file never waits for them. Hover still shows straddles.
 */
const STRADDLE_DIAGNOSTICS_LIMIT = 256_000;

interface DocState {
  tokens?: TokenizedText;
  /** Why the document is not tokenized whole. */
  tooLarge?: string;
  syntax?: SyntaxDocument;
  timer?: NodeJS.Timeout;
}

export class LensService implements DocumentListener {
  private settings: TesseraSettings = DEFAULT_SETTINGS;
  private tokenizer: Tokenizer | undefined;
  private status: TokenizerStatus = { error: 'no tokenizer is set' };
  private readonly docs = new Map<string, DocState>();

  /** `registry` and `syntax` are the server's own, shared with completions: each loads a file once. */
  constructor(
    private readonly connection: Connection,
    private readonly store: DocumentStore,
    private readonly logger: Logger,
    private readonly registry: TokenizerRegistry,
    private readonly syntax: Promise<SyntaxService | undefined>,
  ) {
    store.listen(this);
  }

  tokenizerStatus(): TokenizerStatus {
    return this.status;
  }

  /** Applies settings; reloads the tokenizer and re-tokenizes open documents when it changed. */
  configure(settings: TesseraSettings): void {
    const before = this.settings;
    this.settings = settings;
    const tokenizerChanged =
      tokenizerSpec(before) !== tokenizerSpec(settings) ||
      before.tokenizerDirectories.join('\n') !== settings.tokenizerDirectories.join('\n') ||
      before.tokens.maxFileMB !== settings.tokens.maxFileMB ||
      this.tokenizer === undefined;
    if (tokenizerChanged) this.loadTokenizer();
    for (const uri of this.docs.keys()) this.scheduleDiagnostics(uri);
  }

  private loadTokenizer(): void {
    const started = Date.now();
    try {
      const ref = this.registry.resolve(tokenizerSpec(this.settings), this.settings.tokenizerDirectories);
      this.tokenizer = this.registry.load(ref);
      this.status = { name: ref.name, path: ref.path, vocabSize: this.tokenizer.vocabSize };
      this.logger.info(`tokenizer ${ref.name} (${ref.path}, ${this.tokenizer.vocabSize} tokens) loaded in ${Date.now() - started} ms`);
    } catch (err) {
      this.tokenizer = undefined;
      this.status = { error: err instanceof Error ? err.message : String(err) };
      if (tokenizerSpec(this.settings)) this.logger.warn(`tokenizer: ${this.status.error}`);
    }
    for (const [uri, state] of this.docs) {
      const doc = this.store.get(uri);
      if (doc) this.tokenize(doc, state);
    }
    void this.connection.sendNotification(tokenizerStatusNotification, this.status);
  }

  /**
   * A copy of the document's syntax tree, which follows every edit as it is made (the caller owns the
   * copy and deletes it; the document's own tree is replaced by the next edit).
   */
  syntaxTreeCopy(uri: string): Tree | undefined {
    return this.docs.get(uri)?.syntax?.tree.copy();
  }

  opened(doc: TextBuffer): void {
    const state: DocState = {};
    this.docs.set(doc.uri, state);
    this.tokenize(doc, state);
    const grammar = grammarFor(doc.languageId, doc.uri);
    if (grammar && doc.length <= SYNTAX_LIMIT) {
      void this.syntax.then(async (service) => {
        try {
          const parser = await service?.parser(grammar);
          // Parsed now, from the document's text as it is now; from here on it follows every edit.
          if (!parser || this.docs.get(doc.uri) !== state || doc.length > SYNTAX_LIMIT) return;
          state.syntax = SyntaxDocument.parse(parser, grammar, doc);
          this.scheduleDiagnostics(doc.uri);
        } catch (err) {
          this.logger.warn(`no syntax tree for ${doc.uri}: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    }
    this.scheduleDiagnostics(doc.uri);
  }

  changed(doc: TextBuffer, e: Edit): void {
    const state = this.docs.get(doc.uri);
    if (!state) return;
    if (state.tokens) state.tokens.followEdit(e.start, e.end, e.text.length);
    if (state.syntax) state.syntax.applyEdit(e);
    if (state.syntax && doc.length > SYNTAX_LIMIT) {
      state.syntax.dispose();
      state.syntax = undefined;
    }
    if (!state.tokens || state.tooLarge) this.tokenize(doc, state);
    this.scheduleDiagnostics(doc.uri);
  }

  closed(uri: string): void {
    const state = this.docs.get(uri);
    if (!state) return;
    clearTimeout(state.timer);
    state.syntax?.dispose();
    this.docs.delete(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  private tokenize(doc: TextBuffer, state: DocState): void {
    state.tokens = undefined;
    state.tooLarge = undefined;
    if (!this.tokenizer) return;
    const limit = this.settings.tokens.maxFileMB * 1_000_000;
    // Runs on every edit of a file over the limit: look at its length only.
    if (doc.length > limit) {
      state.tooLarge = `the file is ${(doc.length / 1e6).toFixed(1)} M characters, over the ${this.settings.tokens.maxFileMB} MB limit (tessera.tokens.maxFileMB)`;
      return;
    }
    const started = Date.now();
    state.tokens = new TokenizedText(this.tokenizer, doc); // reads the document's own text
    const ms = Date.now() - started;
    if (ms > 200) this.logger.info(`tokenized ${doc.uri} (${state.tokens.count} tokens) in ${ms} ms`);
  }

  tokens(params: TokensParams): TokensResult | null {
    const doc = this.store.get(params.uri);
    const state = this.docs.get(params.uri);
    if (!doc || !state || !this.tokenizer) return null;
    const run = { ids: [] as number[], starts: [] as number[], ends: [] as number[], flags: [] as number[], indices: [] as number[] };
    const notes = new Set<string>();
    const length = doc.length;
    for (const [a0, b0] of params.ranges.slice(0, 20)) {
      const a = Math.max(0, Math.min(a0, length));
      let b = Math.max(a, Math.min(b0, length));
      if (b - a > MAX_RANGE) {
        b = a + MAX_RANGE;
        notes.add(`showing the first ${MAX_RANGE.toLocaleString('en-US')} characters of each visible range`);
      }
      const enc = this.encodeRange(doc, state, a, b);
      if (state.tooLarge) notes.add(`approximate: ${state.tooLarge}`);
      // Ranges may overlap: skip tokens an earlier range already gave.
      const done = run.ends.length > 0 ? run.ends[run.ends.length - 1]! : -1;
      // Index in the file of the range's first token, so colours do not swap as the view scrolls.
      const first = state.tokens && enc.ids.length > 0 ? state.tokens.tokensBefore(enc.starts[0]!) : 0;
      for (let i = 0; i < enc.ids.length; i++) {
        if (enc.ends[i]! <= done) continue;
        run.indices.push(first + i);
        run.ids.push(enc.ids[i]!);
        run.starts.push(enc.starts[i]!);
        run.ends.push(enc.ends[i]!);
        run.flags.push(enc.flags[i]!);
      }
    }
    return { version: doc.version, tokenizer: this.tokenizer.name, ...run, ...(notes.size ? { note: [...notes].join('; ') } : {}) };
  }

  /** Tokens of [a, b): from the document's tokens, or for a file too large, of the lines alone. */
  private encodeRange(doc: TextBuffer, state: DocState, a: number, b: number): Encoding {
    if (state.tokens) return state.tokens.tokensIn(a, b);
    // Too large to tokenize whole: tokenize from the start of the first line, as if it began the
    // file. Boundaries are right in nearly all code; the note says they are approximate.
    const lineStart = doc.offsetAt({ line: doc.positionAt(a).line, character: 0 });
    const text = doc.slice(lineStart, b);
    const enc = this.tokenizer!.encode(text);
    for (let i = 0; i < enc.ids.length; i++) {
      enc.starts[i]! += lineStart;
      enc.ends[i]! += lineStart;
    }
    let first = 0;
    while (first < enc.ids.length && enc.ends[first]! <= a) first++;
    return { ids: enc.ids.slice(first), starts: enc.starts.slice(first), ends: enc.ends.slice(first), flags: enc.flags.slice(first) };
  }

  count(params: CountParams): CountResult | null {
    const doc = this.store.get(params.uri);
    const state = this.docs.get(params.uri);
    if (!doc || !state) return null;
    const ranges = (params.ranges ?? []).filter(([a, b]) => b > a);
    const selection = ranges.length > 0;
    const characters = selection ? ranges.reduce((n, [a, b]) => n + (b - a), 0) : doc.length;
    const base = { version: doc.version, tokenizer: this.tokenizer?.name ?? '', tokens: 0, characters, selection };
    if (!this.tokenizer) return { ...base, unavailable: this.status.error ?? 'no tokenizer' };
    if (!state.tokens) {
      if (selection && characters <= 5 * MAX_RANGE) {
        return { ...base, tokens: ranges.reduce((n, [a, b]) => n + this.encodeRange(doc, state, a, b).ids.length, 0) };
      }
      return { ...base, unavailable: state.tooLarge ?? 'not tokenized' };
    }
    const tokens = selection ? ranges.reduce((n, [a, b]) => n + state.tokens!.countIn(a, b), 0) : state.tokens.count;
    return { ...base, tokens };
  }

  tokenAt(params: TokenAtParams): TokenAtResult | null {
    const doc = this.store.get(params.uri);
    const state = this.docs.get(params.uri);
    if (!doc || !state || !this.tokenizer) return null;
    // The hovered line gives the tokens and leaves around the token (a whole subtoken group).
    const line = doc.positionAt(params.offset).line;
    const a = doc.offsetAt({ line, character: 0 });
    const b = Math.min(doc.offsetAt({ line: line + 1, character: 0 }), a + MAX_RANGE);
    const enc = this.encodeRange(doc, state, a, b);
    let i = 0;
    while (i < enc.ids.length && enc.ends[i]! <= params.offset) i++;
    if (i >= enc.ids.length || enc.starts[i]! > params.offset) return null;
    const leaves: Leaf[] | undefined = state.syntax?.leaves(a, b);
    const text = doc.getText();
    return { id: enc.ids[i]!, start: enc.starts[i]!, end: enc.ends[i]!, markdown: tokenHover(text, this.tokenizer, enc, i, leaves) };
  }

  /** Counts under every tokenizer; yields between them (a first load takes up to a second). */
  async compare(params: CompareParams): Promise<CompareResult> {
    const doc = this.store.get(params.uri);
    const text = doc ? (params.range ? doc.slice(params.range[0], params.range[1]) : doc.getText()) : '';
    const refs = this.settings.compareTokenizers.length
      ? this.settings.compareTokenizers.map((spec) => {
          try {
            return this.registry.resolve(spec, this.settings.tokenizerDirectories);
          } catch (err) {
            return { name: spec, path: '', error: err instanceof Error ? err.message : String(err) };
          }
        })
      : this.registry.available(this.settings.tokenizerDirectories);
    const characters = [...text].length;
    const rows: CompareRow[] = [];
    for (const ref of refs) {
      await new Promise((resolve) => setImmediate(resolve)); // let other requests through
      const active = ref.path === this.status.path;
      if ('error' in ref) {
        rows.push({ tokenizer: ref.name, active, error: ref.error as string });
        continue;
      }
      try {
        const tokens = this.registry.load(ref).countTokens(text);
        rows.push({ tokenizer: ref.name, active, tokens, charsPerToken: tokens ? text.length / tokens : 0 });
      } catch (err) {
        rows.push({ tokenizer: ref.name, active, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (this.status.path && !rows.some((r) => r.active) && this.tokenizer) {
      const tokens = this.tokenizer.countTokens(text);
      rows.unshift({ tokenizer: this.tokenizer.name, active: true, tokens, charsPerToken: tokens ? text.length / tokens : 0 });
    }
    return { characters, selection: params.range !== undefined, rows };
  }

  private scheduleDiagnostics(uri: string): void {
    const state = this.docs.get(uri);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(() => this.publishDiagnostics(uri), DIAGNOSTICS_DELAY_MS);
  }

  private publishDiagnostics(uri: string): void {
    const doc = this.store.get(uri);
    const state = this.docs.get(uri);
    if (!doc || !state) return;
    if (!this.tokenizer || !state.tokens) {
      void this.connection.sendDiagnostics({ uri, diagnostics: [] });
      return;
    }
    const tokens = state.tokens;
    const text = doc.getText();
    const syntax =
      state.syntax && text.length <= STRADDLE_DIAGNOSTICS_LIMIT
        ? { tokens: tokens.tokensIn(0, text.length), leaves: state.syntax.leaves() }
        : undefined;
    const findings = findAnomalies(text, this.tokenizer, (a, b) => tokens.countIn(a, b), syntax, this.settings.diagnostics);
    const diagnostics: Diagnostic[] = findings.map((f) => ({
      range: { start: doc.positionAt(f.start), end: doc.positionAt(f.end) },
      severity: f.severity === 'hint' ? DiagnosticSeverity.Hint : DiagnosticSeverity.Information,
      source: 'tessera',
      code: f.code,
      message: f.message,
    }));
    void this.connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
  }
}

/** The lens's tokenizer: tessera.tokenizer, else a server engine's model's (tessera.engine.tokenizer), else the default. */
function tokenizerSpec(s: TesseraSettings): string {
  return s.tokenizer || (s.engine.kind !== 'local' ? s.engine.tokenizer : '');
}
