// The logits-processor chain of one request, built in one place from what the request asks for:
// never a control token, then the healing constraint, then temperature and nucleus sampling.
import type { TokenTable } from '../tokenizer/tokenTable';
import { healingConstraint } from './healing';
import { type LogitsProcessor, suppress, temperature, topP } from './processors';

export interface ChainOptions {
  /** Control tokens that must never be generated. */
  suppressIds: readonly number[];
  /** Token healing: the bytes to cover and the tokens allowed at each covered count (prompt/healing.ts). */
  healing?: { length: number; allowed: readonly Int32Array[]; table: TokenTable };
  /** 0: greedy (no sampling processors). */
  temperature: number;
  topP: number;
}

export function buildChain(o: ChainOptions): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [suppress(o.suppressIds)];
  if (o.healing?.length) chain.push(healingConstraint(o.healing.length, o.healing.allowed, o.healing.table));
  if (o.temperature > 0) chain.push(temperature(o.temperature), topP(o.topP));
  return chain;
}
