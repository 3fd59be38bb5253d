// Protocol Buffers' wire format, as much as reading and rewriting an ONNX file needs: a message is its
// fields in order, each kept as raw bytes (a view into the file, never a copy), so whatever this code
// does not understand is written back exactly as it was read.

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export interface Field {
  num: number;
  wire: number;
  /** LEN: the payload; VARINT: the value; I32/I64: the bytes. */
  value: Buffer | bigint;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (at >= buf.length) throw new Error('truncated varint');
    const b = buf[at++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [result, at];
    shift += 7n;
    if (shift > 70n) throw new Error('varint too long');
  }
}

/** The fields of one message, in order. */
export function decode(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === VARINT) {
      const [v, n] = readVarint(buf, at);
      fields.push({ num, wire, value: v });
      at = n;
    } else if (wire === LEN) {
      const [len, n] = readVarint(buf, at);
      const end = n + Number(len);
      if (end > buf.length) throw new Error(`field ${num} runs past the end of its message`);
      fields.push({ num, wire, value: buf.subarray(n, end) });
      at = end;
    } else if (wire === I64 || wire === I32) {
      const end = at + (wire === I64 ? 8 : 4);
      if (end > buf.length) throw new Error('truncated fixed field');
      fields.push({ num, wire, value: buf.subarray(at, end) });
      at = end;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

/** A varint's bytes. */
export function varint(v: bigint): Buffer {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return Buffer.from(out);
}

/** A message's bytes as a list of chunks (large payloads are not copied). */
export function encodeChunks(fields: Field[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (const f of fields) {
    chunks.push(varint(BigInt((f.num << 3) | f.wire)));
    if (f.wire === VARINT) chunks.push(varint(f.value as bigint));
    else if (f.wire === LEN) {
      chunks.push(varint(BigInt((f.value as Buffer).length)), f.value as Buffer);
    } else chunks.push(f.value as Buffer);
  }
  return chunks;
}

export const encode = (fields: Field[]): Buffer => Buffer.concat(encodeChunks(fields));

// Field builders and readers.
export const lenField = (num: number, value: Buffer | string): Field => ({
  num,
  wire: LEN,
  value: typeof value === 'string' ? Buffer.from(value) : value,
});
export const intField = (num: number, value: number | bigint): Field => ({ num, wire: VARINT, value: BigInt(value) });
export const floatField = (num: number, value: number): Field => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return { num, wire: I32, value: b };
};
export const all = (fields: Field[], num: number): Field[] => fields.filter((f) => f.num === num);
export const one = (fields: Field[], num: number): Field | undefined => fields.find((f) => f.num === num);
export const str = (fields: Field[], num: number): string =>
  ((one(fields, num)?.value as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8');
export const strs = (fields: Field[], num: number): string[] => all(fields, num).map((f) => (f.value as Buffer).toString('utf8'));
export const int = (fields: Field[], num: number): bigint => (one(fields, num)?.value as bigint | undefined) ?? 0n;

/** A repeated integer field, packed or not. */
export function ints(fields: Field[], num: number): bigint[] {
  const out: bigint[] = [];
  for (const f of all(fields, num)) {
    if (f.wire === VARINT) out.push(f.value as bigint);
    else {
      const b = f.value as Buffer;
      for (let at = 0; at < b.length; ) {
        const [v, n] = readVarint(b, at);
        out.push(BigInt.asIntN(64, v));
        at = n;
      }
    }
  }
  return out.map((v) => BigInt.asIntN(64, v));
}
