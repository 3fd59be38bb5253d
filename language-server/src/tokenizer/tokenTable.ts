// What generating text needs of a vocabulary: each token's bytes and which tokens are control tokens.
// The inference worker gets it packed into three arrays, built once from the server's tokenizer, so the
// tokenizer.json is parsed once per process.

export interface TokenTable {
  readonly vocabSize: number;
  tokenBytes(id: number): Uint8Array;
  isControl(id: number): boolean;
}

/** A token table as plain arrays, for a worker thread's messages. */
export interface PackedTokenTable {
  /** Every token's bytes, one after another. */
  bytes: Uint8Array;
  /** Token i's bytes are bytes[offsets[i], offsets[i + 1]). */
  offsets: Uint32Array;
  /** 1 for a control token. */
  control: Uint8Array;
}

export function packTokenTable(table: TokenTable): PackedTokenTable {
  const n = table.vocabSize;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + table.tokenBytes(i).length;
  const bytes = new Uint8Array(offsets[n]!);
  const control = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    bytes.set(table.tokenBytes(i), offsets[i]!);
    control[i] = table.isControl(i) ? 1 : 0;
  }
  return { bytes, offsets, control };
}

export function unpackTokenTable(packed: PackedTokenTable): TokenTable {
  const { bytes, offsets, control } = packed;
  return {
    vocabSize: control.length,
    tokenBytes: (id) => bytes.subarray(offsets[id]!, offsets[id + 1]!),
    isControl: (id) => control[id] === 1,
  };
}
