// The prompt step of a completion: snippets of other open files, the prefix and suffix within the
// served model's budgets (a stable start, so typing reuses the cache), the FIM prompt in the model's
// template, identifiers to pool where the model merges subtokens, and how to complete from inside the
// cursor's word. The same for every engine: a server gets the text parts, the local model the ids.
import type { Tree } from 'web-tree-sitter';
import type { ServedModel } from '../engines/engine';
import { buildFimPrompt, type FimPrompt } from '../prompt/fim';
import { type HealingPlan, planHealing } from '../prompt/healing';
import type { CompletionSettings, HealingMode } from '../settings';
import type { MergedRun } from '../syntax/merging';
import { vocabIndexOf } from '../tokenizer/vocabIndex';
import { type CursorContext, PrefixAnchors } from './context';
import { pooledAway, promptMergeRuns } from './merging';
import type { DocumentSyntax } from './postProcess';
import { type Neighbour, type Snippet, SnippetPicker } from './snippets';
import type { TextWindow } from './window';

/**
 * With subtoken merging, the prefix may hold this many times the tokens its positions allow: merged
 * identifiers saved 18% of positions on held-out code (bench/merging), so 1.15 times the tokens rarely
 * take too many positions, and when they do, the plain prefix is taken instead.
 */
const MERGED_ROOM = 1.15;

export interface PromptInput {
  uri: string;
  path: string;
  window: TextWindow;
  syntax?: DocumentSyntax;
  neighbours?: () => readonly Neighbour[];
}

export interface BuiltPrompt {
  context: CursorContext;
  snippets: Snippet[];
  prompt: FimPrompt;
  mergeRuns?: MergedRun[];
  healing?: HealingPlan;
}

export class PromptStep {
  private readonly anchors = new PrefixAnchors();
  private readonly picker = new SnippetPicker();

  constructor(private readonly settings: () => CompletionSettings) {}

  forget(uri: string): void {
    this.anchors.forget(uri);
    this.picker.forget(uri);
  }

  /**
   * The prompt for `input`'s cursor, leaving room for `maxTokens`. `remember` false: the prefix's start
   * is read, not moved (a completion computed ahead must not shift the user's).
   */
  build(model: ServedModel, input: PromptInput, o: { maxTokens: number; remember: boolean; healing: HealingMode }): BuiltPrompt {
    const { window } = input;
    const snippets = this.snippets(model, input);
    const reserved = o.maxTokens + snippets.tokens;
    const tree = this.settings().subtokenMerging && model.merges && window.whole ? treeFor(input.syntax, window) : undefined;
    let context = this.context(model, input, reserved, o.remember, tree ? MERGED_ROOM : 1);
    let prompt = this.prompt(model, input.path, context, snippets.chosen);
    let mergeRuns = tree ? promptMergeRuns(model.tokenizer, tree.tree, window.text, context, prompt) : undefined;
    if (mergeRuns && prompt.prefixEnd - prompt.prefixStart - pooledAway(mergeRuns) > this.prefixBudget(model, reserved)) {
      // Too few identifiers to merge for the larger prefix: the prefix a plain prompt would have.
      context = this.context(model, input, reserved, o.remember, 1);
      prompt = this.prompt(model, input.path, context, snippets.chosen);
      mergeRuns = promptMergeRuns(model.tokenizer, tree!.tree, window.text, context, prompt);
    }
    if (tree?.owned) tree.tree.delete();
    const healing = planHealing(
      healingMode(o.healing, model.healingModes),
      model.tokenizer,
      vocabIndexOf(model.tokenizer),
      context.prefix,
      context.prefixIds,
      undefined,
      model.healsItself,
    );
    return {
      context,
      snippets: snippets.chosen,
      prompt,
      ...(mergeRuns?.length ? { mergeRuns } : {}),
      ...(healing ? { healing } : {}),
    };
  }

  /** Snippets of the other open documents of this one's language, within their token budget. */
  private snippets(model: ServedModel, input: PromptInput): { chosen: Snippet[]; tokens: number } {
    const budget = this.settings().snippetTokens;
    const neighbours = budget && model.snippets ? (input.neighbours?.() ?? []) : [];
    if (!neighbours.length) return { chosen: [], tokens: 0 };
    const language = neighbours.find((n) => n.uri === input.uri)?.languageId;
    const others = neighbours.filter((n) => n.uri !== input.uri && (!language || n.languageId === language));
    const chosen: Snippet[] = [];
    let tokens = 0;
    for (const s of this.picker.pick(input.uri, input.window.text, input.window.offset, others)) {
      const n = model.tokenizer.countTokens(`${s.path}\n${s.text}\n`) + 1;
      if (tokens + n > budget) continue;
      chosen.push(s);
      tokens += n;
    }
    return { chosen, tokens };
  }

  /**
   * Room (after the prompt) for `reserved` tokens: the completion, exact prompting's cover, the snippets.
   * `scale` > 1 gives the prefix that many more tokens (merged identifiers take fewer positions).
   */
  private context(model: ServedModel, input: PromptInput, reserved: number, remember: boolean, scale: number): CursorContext {
    const suffixTokens = this.suffixBudget(model, reserved);
    const prefixTokens = Math.floor(this.prefixBudget(model, reserved) * scale);
    const { text, offset } = input.window;
    return this.anchors.context(input.uri, text, offset, model.tokenizer, { prefixTokens, suffixTokens }, remember);
  }

  private suffixBudget(model: ServedModel, reserved: number): number {
    return model.template || model.snippets ? Math.min(this.settings().suffixTokens, Math.floor(room(model, reserved) / 4)) : 0;
  }

  /** Positions the prefix may take. */
  private prefixBudget(model: ServedModel, reserved: number): number {
    return Math.max(16, Math.min(this.settings().prefixTokens, room(model, reserved) - this.suffixBudget(model, reserved)));
  }

  /** The prompt in the model family's FIM format (the prefix alone for a model without one). */
  private prompt(model: ServedModel, path: string, ctx: CursorContext, snippets: readonly Snippet[]): FimPrompt {
    if (model.template) {
      return buildFimPrompt(
        model.template,
        model.tokenizer,
        { path, snippets, prefix: ctx.prefix, prefixIds: ctx.prefixIds, suffix: ctx.suffix },
        model.order,
      );
    }
    return { ids: ctx.prefixIds, stopIds: new Set(), prefixStart: 0, prefixEnd: ctx.prefixIds.length };
  }
}

function room(model: ServedModel, reserved: number): number {
  return model.contextLimit - reserved - 24;
}

/** The document's tree for merging: the caller's copy, or one parsed now (owned: the caller deletes it). */
function treeFor(syntax: DocumentSyntax | undefined, window: TextWindow): { tree: Tree; owned: boolean } | undefined {
  if (!syntax) return undefined;
  if (syntax.tree) return { tree: syntax.tree, owned: false };
  const tree = syntax.parser.parse(window.text);
  return tree ? { tree, owned: true } : undefined;
}

/** The healing mode asked for, as the engine can do it: exact falls back to token healing, then to off. */
function healingMode(asked: HealingMode, offered: ServedModel['healingModes']): HealingMode {
  if (asked === 'off' || offered.includes(asked)) return asked;
  return offered.includes('heal') ? 'heal' : 'off';
}
