// After a completion is shown, the one that would follow it is computed ahead (llama.vscode's
// speculative FIM): if the user accepts, the document is exactly the shown one with the completion in
// it, and the next completion is ready. A keystroke's own request supersedes an unfinished one.

export class CompletedAhead<R> {
  private readonly ahead = new Map<string, { text: string; offset: number; result: Promise<R | null> }>();

  /** The completion for `uri` once its text is `text` with the cursor at `offset`. */
  store(uri: string, text: string, offset: number, result: Promise<R | null>): void {
    this.ahead.set(uri, { text, offset, result });
  }

  /** The completion computed ahead, if the document is now the one it was computed for. */
  take(uri: string, text: string, offset: number): Promise<R | null> | undefined {
    const a = this.ahead.get(uri);
    if (!a) return undefined;
    this.ahead.delete(uri);
    return a.offset === offset && a.text === text ? a.result : undefined;
  }

  forget(uri: string): void {
    this.ahead.delete(uri);
  }

  clear(): void {
    this.ahead.clear();
  }
}
