// Open documents, kept in sync from LSP notifications. Unlike vscode-languageserver's
// TextDocuments, it edits text in place (TextBuffer) and hands every change to listeners as an
// offset edit, so that tokens and syntax trees can follow incrementally.
import type { DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams } from 'vscode-languageserver';
import { TextBuffer } from './textBuffer';

export interface Edit {
  /** [start, end) in UTF-16 offsets of the text before the edit. */
  start: number;
  end: number;
  text: string;
  /** What [start, end) held (listeners that follow positions need the old text's shape). */
  replaced: string;
}

export interface DocumentListener {
  opened(doc: TextBuffer): void;
  /** One edit, just applied to `doc` (a change notification with several calls this for each). */
  changed(doc: TextBuffer, edit: Edit): void;
  closed(uri: string): void;
}

export class DocumentStore {
  private readonly docs = new Map<string, TextBuffer>();
  private readonly listeners: DocumentListener[] = [];

  listen(listener: DocumentListener): void {
    this.listeners.push(listener);
  }

  get(uri: string): TextBuffer | undefined {
    return this.docs.get(uri);
  }

  get size(): number {
    return this.docs.size;
  }

  /** Every open document. */
  all(): IterableIterator<TextBuffer> {
    return this.docs.values();
  }

  open({ textDocument: t }: DidOpenTextDocumentParams): void {
    const doc = new TextBuffer(t.uri, t.languageId, t.version, t.text);
    this.docs.set(t.uri, doc);
    for (const l of this.listeners) l.opened(doc);
  }

  change({ textDocument, contentChanges }: DidChangeTextDocumentParams): void {
    const doc = this.docs.get(textDocument.uri);
    if (!doc) return;
    doc.version = textDocument.version;
    for (const change of contentChanges) {
      const start = 'range' in change ? doc.offsetAt(change.range.start) : 0;
      const end = 'range' in change ? doc.offsetAt(change.range.end) : doc.length;
      const edit: Edit = { start, end, text: change.text, replaced: doc.slice(start, end) };
      doc.replace(edit.start, edit.end, edit.text);
      for (const l of this.listeners) l.changed(doc, edit);
    }
  }

  close({ textDocument }: DidCloseTextDocumentParams): void {
    this.docs.delete(textDocument.uri);
    for (const l of this.listeners) l.closed(textDocument.uri);
  }
}
