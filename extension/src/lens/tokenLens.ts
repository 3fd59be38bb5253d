import * as vscode from 'vscode';
import { tokenAtRequest, tokensRequest, type TokensResult } from '../../../language-server/src/lsp_ext';
import type { ServerSupervisor } from '../supervisor';

// Alternating, subtle fills that read on light and dark themes; a partial-character token
// (part of an emoji, say) gets a dashed outline.
const evenStyle: vscode.DecorationRenderOptions = {
  light: { backgroundColor: 'rgba(0, 102, 204, 0.10)', border: '1px solid rgba(0, 102, 204, 0.28)' },
  dark: { backgroundColor: 'rgba(97, 175, 239, 0.14)', border: '1px solid rgba(97, 175, 239, 0.30)' },
  borderRadius: '3px',
};
const oddStyle: vscode.DecorationRenderOptions = {
  light: { backgroundColor: 'rgba(204, 102, 0, 0.10)', border: '1px solid rgba(204, 102, 0, 0.28)' },
  dark: { backgroundColor: 'rgba(229, 192, 123, 0.14)', border: '1px solid rgba(229, 192, 123, 0.30)' },
  borderRadius: '3px',
};
const partialStyle: vscode.DecorationRenderOptions = {
  borderStyle: 'dashed',
  borderWidth: '1px',
  borderColor: new vscode.ThemeColor('editorWarning.foreground'),
};
const glyph = (contentText: string): vscode.DecorationRenderOptions => ({
  // Zero net width: the glyph is drawn over the whitespace it stands for.
  before: { contentText, margin: '0 -1ch 0 0', width: '1ch', color: new vscode.ThemeColor('editorWhitespace.foreground') },
});

/** What the lens draws in one editor; returned to tests through the extension API. */
export interface LensSnapshot {
  uri: string;
  tokenizer: string;
  tokens: number;
  note?: string;
}

/**
 * Token boundaries drawn inline, in the visible ranges only, following scrolling and edits.
 * The server tokenizes; the lens only asks for the visible ranges and paints the answer.
 */
export class TokenLens implements vscode.Disposable {
  private enabled = false;
  private readonly even = vscode.window.createTextEditorDecorationType(evenStyle);
  private readonly odd = vscode.window.createTextEditorDecorationType(oddStyle);
  private readonly partial = vscode.window.createTextEditorDecorationType(partialStyle);
  private readonly glyphs = {
    space: vscode.window.createTextEditorDecorationType(glyph('·')),
    tab: vscode.window.createTextEditorDecorationType(glyph('→')),
    newline: vscode.window.createTextEditorDecorationType({
      after: { contentText: '↵', color: new vscode.ThemeColor('editorWhitespace.foreground') },
    }),
  };
  private readonly subscriptions: vscode.Disposable[] = [];
  private hover: vscode.Disposable | undefined;
  private timers = new Map<vscode.TextEditor, NodeJS.Timeout>();
  private readonly snapshots = new Map<string, LensSnapshot>();
  private readonly noted = new Set<string>();
  private readonly changed = new vscode.EventEmitter<LensSnapshot>();
  readonly onDidDraw = this.changed.event;

  constructor(private readonly server: ServerSupervisor) {
    this.subscriptions.push(
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.schedule(e.textEditor, 60)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => {
        for (const e of editors) this.schedule(e, 0);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        for (const editor of vscode.window.visibleTextEditors) if (editor.document === e.document) this.schedule(editor, 80);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('tessera.lens')) this.refreshAll();
      }),
      // The server answers with the new tokenizer once it has loaded it: redraw then.
      server.onDidChangeTokenizer(() => this.refreshAll()),
      server.onDidChange((s) => {
        if (s.phase === 'running') this.refreshAll();
      }),
    );
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  snapshot(uri: string): LensSnapshot | undefined {
    return this.snapshots.get(uri);
  }

  toggle(): boolean {
    this.enabled = !this.enabled;
    if (this.enabled) {
      this.hover = vscode.languages.registerHoverProvider(
        { scheme: '*' },
        { provideHover: (doc, pos, token) => this.provideHover(doc, pos, token) },
      );
      this.refreshAll();
    } else {
      this.hover?.dispose();
      this.hover = undefined;
      for (const editor of vscode.window.visibleTextEditors) this.clear(editor);
      this.snapshots.clear();
    }
    return this.enabled;
  }

  /** Redraws every visible editor now. */
  refreshAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.schedule(editor, 0);
  }

  private schedule(editor: vscode.TextEditor, delayMs: number): void {
    if (!this.enabled) return;
    clearTimeout(this.timers.get(editor));
    this.timers.set(
      editor,
      setTimeout(() => void this.draw(editor), delayMs),
    );
  }

  private async draw(editor: vscode.TextEditor): Promise<void> {
    this.timers.delete(editor);
    const doc = editor.document;
    const version = doc.version;
    const ranges = editor.visibleRanges.map((r): [number, number] => [
      doc.offsetAt(r.start),
      doc.offsetAt(doc.lineAt(r.end.line).range.end),
    ]);
    let result: TokensResult | null;
    try {
      result = await this.server.sendRequest(tokensRequest, { uri: doc.uri.toString(), ranges });
    } catch {
      return; // the server is restarting; its return triggers a redraw
    }
    if (!this.enabled || doc.version !== version || !result || result.version !== version) {
      if (result === null) this.clear(editor);
      return;
    }
    const even: vscode.Range[] = [];
    const odd: vscode.Range[] = [];
    const partial: vscode.Range[] = [];
    for (let i = 0; i < result.ids.length; i++) {
      const range = new vscode.Range(doc.positionAt(result.starts[i]!), doc.positionAt(result.ends[i]!));
      // By the token's index in the file: neighbours always differ, and scrolling changes nothing.
      (result.indices[i]! % 2 === 0 ? even : odd).push(range);
      if (result.flags[i]) partial.push(range);
    }
    editor.setDecorations(this.even, even);
    editor.setDecorations(this.odd, odd);
    editor.setDecorations(this.partial, partial);
    this.drawGlyphs(editor, result);
    const snapshot: LensSnapshot = {
      uri: doc.uri.toString(),
      tokenizer: result.tokenizer,
      tokens: result.ids.length,
      ...(result.note ? { note: result.note } : {}),
    };
    this.snapshots.set(snapshot.uri, snapshot);
    if (result.note && !this.noted.has(snapshot.uri)) {
      this.noted.add(snapshot.uri);
      void vscode.window.showInformationMessage(`Tessera token lens: ${result.note}.`);
    }
    this.changed.fire(snapshot);
  }

  private drawGlyphs(editor: vscode.TextEditor, result: TokensResult): void {
    const show = vscode.workspace.getConfiguration('tessera').get<boolean>('lens.whitespaceGlyphs', false);
    const spaces: vscode.Range[] = [];
    const tabs: vscode.Range[] = [];
    const newlines: vscode.Range[] = [];
    if (show && result.ids.length > 0) {
      const doc = editor.document;
      const from = result.starts[0]!;
      const text = doc.getText(new vscode.Range(doc.positionAt(from), doc.positionAt(result.ends[result.ends.length - 1]!)));
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c !== ' ' && c !== '\t' && c !== '\n') continue;
        const at = doc.positionAt(from + i);
        if (c === '\n') newlines.push(new vscode.Range(at, at));
        else (c === ' ' ? spaces : tabs).push(new vscode.Range(at, at.translate(0, 1)));
      }
    }
    editor.setDecorations(this.glyphs.space, spaces);
    editor.setDecorations(this.glyphs.tab, tabs);
    editor.setDecorations(this.glyphs.newline, newlines);
  }

  private clear(editor: vscode.TextEditor): void {
    for (const type of [this.even, this.odd, this.partial, ...Object.values(this.glyphs)]) editor.setDecorations(type, []);
  }

  private async provideHover(
    doc: vscode.TextDocument,
    pos: vscode.Position,
    cancel: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    try {
      const result = await this.server.sendRequest(tokenAtRequest, { uri: doc.uri.toString(), offset: doc.offsetAt(pos) });
      if (!result || cancel.isCancellationRequested) return undefined;
      return new vscode.Hover(
        new vscode.MarkdownString(result.markdown),
        new vscode.Range(doc.positionAt(result.start), doc.positionAt(result.end)),
      );
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.hover?.dispose();
    for (const d of [...this.subscriptions, this.even, this.odd, this.partial, ...Object.values(this.glyphs), this.changed]) d.dispose();
  }
}
