// The hover of one token: what it is, what bytes it holds, what it belongs to.
import type { Leaf } from '../syntax/parser';
import { mergedRuns } from '../syntax/merging';
import { groupTokensByLeaf, straddlingTokens } from '../syntax/subtokens';
import { type Encoding, ENDS_MID_CHAR, STARTS_MID_CHAR, type Tokenizer } from '../tokenizer/tokenizer';
import { escapeToken, hexBytes } from './tokenText';

/** Markdown for token `i` of `tokens`, with its syntax leaf's tokens when leaves are known. */
export function tokenHover(text: string, tokenizer: Tokenizer, tokens: Encoding, i: number, leaves: Leaf[] | undefined): string {
  const id = tokens.ids[i]!;
  const lines = [
    `**Token ${id}** ${escapeToken(tokenizer, id)} · ${tokenizer.name}`,
    '',
    `- bytes (UTF-8): \`${hexBytes(tokenizer.tokenBytes(id))}\``,
    `- vocabulary entry: \`${JSON.stringify(tokenizer.token(id) ?? '')}\``,
  ];
  const flags = tokens.flags[i]!;
  if (flags & (STARTS_MID_CHAR | ENDS_MID_CHAR)) {
    lines.push(`- holds only part of the character \`${text.slice(tokens.starts[i]!, tokens.ends[i]!)}\`: it decodes alone to �`);
  }
  if (leaves && leaves.length > 0) {
    const groups = groupTokensByLeaf(tokens, leaves);
    const leafIndex = leaves.findIndex(
      (l, k) =>
        groups[k]!.count > 0 && groups[k]!.first <= i && i <= groups[k]!.last && l.end > tokens.starts[i]! && l.start < tokens.ends[i]!,
    );
    if (leafIndex >= 0) {
      const leaf = leaves[leafIndex]!;
      const g = groups[leafIndex]!;
      const parts: string[] = [];
      for (let t = g.first; t <= g.last; t++) parts.push(escapeToken(tokenizer, tokens.ids[t]!));
      lines.push(
        `- ${leaf.kind} \`${text.slice(leaf.start, leaf.end).slice(0, 60)}\` = ${g.count} token${g.count === 1 ? '' : 's'}: ${parts.join(' ')}`,
      );
      if (leaf.kind === 'identifier' && mergedRuns(tokens, [leaf], text).length)
        lines.push(`- merged into 1 position: subtoken merging pools these ${g.count} tokens where the model reads them as context`);
    }
    const straddle = straddlingTokens({ starts: [tokens.starts[i]!], ends: [tokens.ends[i]!] }, leaves, text)[0];
    if (straddle) {
      lines.push(
        `- straddles ${straddle.leaves.length} syntax leaves: ${straddle.leaves.map((k) => `\`${text.slice(leaves[k]!.start, leaves[k]!.end).slice(0, 20)}\``).join(', ')}`,
      );
    }
  }
  return lines.join('\n');
}
