// An fp16 graph made fp32: x86 CPUs have no half-precision matrix kernels in onnxruntime, so an fp16
// file runs as fp32 with a Cast around every product (fp32 time for half the bytes). Widened, its
// products can be quantized like an fp32 file's and nothing is cast per token.
import { halfToFloat } from '../half';
import { FLOAT, FLOAT16, type OnnxModel, type OnnxNode, type OnnxTensor, tensor } from './onnxModel';
import { decode, encode, type Field, int, intField, LEN, lenField, one } from './protobuf';

function widenTensor(t: OnnxTensor): OnnxTensor {
  if (t.dataType !== FLOAT16) return t;
  const half = t.data();
  const out = new Float32Array(half.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(half.readUInt16LE(2 * i));
  return tensor(t.name, t.dims, FLOAT, Buffer.from(out.buffer));
}

/** A TypeProto's tensor element type fp16 → fp32 (sequence and optional types are left alone). */
function widenType(type: Buffer): Buffer {
  const fields = decode(type);
  return encode(
    fields.map((f) => {
      if (f.num !== 1 || f.wire !== LEN) return f; // tensor_type
      const tt = decode(f.value as Buffer).map((g) => (g.num === 1 && g.value === BigInt(FLOAT16) ? intField(1, FLOAT) : g));
      return lenField(1, encode(tt));
    }),
  );
}

/** A ValueInfoProto (a graph input, output or value_info) widened. */
function widenValueInfo(v: Buffer): Buffer {
  return encode(decode(v).map((f) => (f.num === 2 && f.wire === LEN ? lenField(2, widenType(f.value as Buffer)) : f)));
}

/** A TensorProto held in an attribute (a Constant's value), widened. */
function widenTensorProto(t: Buffer): Buffer {
  const fields = decode(t);
  if (int(fields, 2) !== BigInt(FLOAT16)) return t;
  const dims = fields.filter((f) => f.num === 1);
  const name = one(fields, 8);
  const raw = one(fields, 9)?.value as Buffer | undefined;
  const values = raw ? Array.from({ length: raw.length / 2 }, (_, i) => halfToFloat(raw.readUInt16LE(2 * i))) : [];
  return encode([...dims, intField(2, FLOAT), ...(name ? [name] : []), lenField(9, Buffer.from(new Float32Array(values).buffer))]);
}

function widenNode(n: OnnxNode): void {
  n.attributes = n.attributes.map((a) =>
    a.map((f): Field => {
      if (n.opType === 'Cast' && f.num === 3 && f.value === BigInt(FLOAT16)) return intField(3, FLOAT); // Cast(to=fp16)
      if (f.num === 5 && f.wire === LEN) return lenField(5, widenTensorProto(f.value as Buffer)); // a tensor attribute
      return f;
    }),
  );
}

/** Whether the graph computes in half precision (any fp16 initializer or graph input). */
export function isHalf(model: OnnxModel): boolean {
  return [...model.initializers.values()].some((t) => t.dataType === FLOAT16);
}

/** Every fp16 tensor, type and Cast of the top graph made fp32. */
export function widenToFloat(model: OnnxModel): void {
  for (const [name, t] of model.initializers) model.initializers.set(name, widenTensor(t));
  for (const n of model.nodes) widenNode(n);
  model.graphFields = model.graphFields.map((f) =>
    [11, 12, 13].includes(f.num) && f.wire === LEN ? lenField(f.num, widenValueInfo(f.value as Buffer)) : f,
  );
}
