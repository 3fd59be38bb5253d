// Open documents, kept in sync from LSP notifications. Unlike vscode-languageserver's
// TextDocuments, it hands every change to listeners as an offset edit, so that tokens and syntax
// trees can follow incrementally.
import { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  DidChangeTextDocumentParams,
  DidCloseTextDocumentParams,
  DidOpenTextDocumentParams,
} from 'vscode-languageserver';

export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface DocumentListener {
  opened(doc: TextDocument): void;
  /** `edits` apply in order, each to the text left by the previous one. */
  changed(doc: TextDocument, edits: Edit[]): void;
  closed(uri: string): void;
}

export class DocumentStore {
  private readonly docs = new Map<string, TextDocument>();
  private readonly listeners: DocumentListener[] = [];

  listen(listener: DocumentListener): void {
    this.listeners.push(listener);
  }

  get(uri: string): TextDocument | undefined {
    return this.docs.get(uri);
  }

  get size(): number {
    return this.docs.size;
  }

  open({ textDocument: t }: DidOpenTextDocumentParams): void {
    const doc = TextDocument.create(t.uri, t.languageId, t.version, t.text);
    this.docs.set(t.uri, doc);
    for (const l of this.listeners) l.opened(doc);
  }

  change({ textDocument, contentChanges }: DidChangeTextDocumentParams): void {
    let doc = this.docs.get(textDocument.uri);
    if (!doc) return;
    const edits: Edit[] = [];
    for (const change of contentChanges) {
      if ('range' in change) {
        edits.push({ start: doc.offsetAt(change.range.start), end: doc.offsetAt(change.range.end), text: change.text });
      } else {
        edits.push({ start: 0, end: doc.getText().length, text: change.text });
      }
      doc = TextDocument.update(doc, [change], textDocument.version);
    }
    this.docs.set(textDocument.uri, doc);
    for (const l of this.listeners) l.changed(doc, edits);
  }

  close({ textDocument }: DidCloseTextDocumentParams): void {
    this.docs.delete(textDocument.uri);
    for (const l of this.listeners) l.closed(textDocument.uri);
  }
}
