// The optional inputs a decoder export may take, beside input_ids, the mask and the cache: the session
// reads a layout from them and the decoders feed them; the optimizer adds the last two to exports that
// lack them. Named once here for both sides.

export const POSITION_IDS = 'position_ids';
/** [batch, tokens]: the position each token pools into (models/recipe/merge.py: merged identifiers). */
export const TOKEN_GROUP = 'token_group';
/** int64 [1]: how many last positions get logits, 0 all (optimize/logitsToKeep.ts). */
export const LOGITS_TO_KEEP = 'logits_to_keep';
/** [batch, 1, new, total], added to the attention scores: draft trees verify in one pass (optimize/attentionBias.ts). */
export const ATTENTION_BIAS = 'attention_bias';
