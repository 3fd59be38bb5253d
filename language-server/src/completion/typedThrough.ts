// Typing through ghost text: when what the user types is what the shown completion said, the rest of it
// is still the completion, with no model run (llama.vscode keeps its suggestion the same way). Whole
// documents only: the text before the completion and after the cursor must be as they were.

interface Shown {
  /** The document's text when the completion was shown, and where it was inserted. */
  text: string;
  at: number;
  completion: string;
}

export class TypedThrough {
  private readonly shown = new Map<string, Shown>();

  remember(uri: string, text: string, at: number, completion: string): void {
    if (completion) this.shown.set(uri, { text, at, completion });
    else this.shown.delete(uri);
  }

  forget(uri: string): void {
    this.shown.delete(uri);
  }

  clear(): void {
    this.shown.clear();
  }

  /** The rest of the last completion, if `text` is the remembered document with a head of it typed at its place. */
  rest(uri: string, text: string, offset: number): string | undefined {
    const s = this.shown.get(uri);
    if (!s || offset <= s.at) return undefined;
    const typed = offset - s.at;
    if (typed >= s.completion.length || text.length !== s.text.length + typed) return undefined;
    if (text.slice(s.at, offset) !== s.completion.slice(0, typed)) return undefined;
    if (!text.startsWith(s.text.slice(0, s.at)) || !text.endsWith(s.text.slice(s.at))) return undefined;
    return s.completion.slice(typed);
  }
}
