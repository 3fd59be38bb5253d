// Token healing's constraint (prompt/healing.ts plans it): until the generated tokens cover the bytes
// backed off from the prompt, only tokens that agree with the bytes still to cover may come.
import type { TokenTable } from '../tokenizer/tokenTable';
import type { LogitsProcessor } from './processors';

/** `allowed[j]`: the tokens that may come once j of the `length` healed bytes are covered. */
export function healingConstraint(length: number, allowed: readonly Int32Array[], table: TokenTable): LogitsProcessor {
  return (logits, { generated }) => {
    let covered = 0;
    for (const id of generated) covered += table.tokenBytes(id).length;
    if (covered >= length) return;
    const ok = allowed[covered] ?? new Int32Array(0);
    const kept = Float32Array.from(ok, (id) => logits[id]!);
    logits.fill(-Infinity);
    ok.forEach((id, k) => {
      logits[id] = kept[k]!;
    });
  };
}
