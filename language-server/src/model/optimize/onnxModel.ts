// An ONNX model as the optimizer edits it: the top graph's nodes and initializers typed, everything else
// kept as the fields it was read as. Reads weights inline or from external data files; writes inline, or
// into one external data file when the model would pass protobuf's 2 GB.
import { closeSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { all, decode, encodeChunks, type Field, int, ints, intField, LEN, lenField, one, str, strs, varint } from './protobuf';

export const FLOAT = 1;
export const UINT8 = 2;
export const INT8 = 3;
export const INT64 = 7;
export const FLOAT16 = 10;

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Each attribute as its AttributeProto fields. */
  attributes: Field[][];
  /** doc_string and anything else, kept. */
  rest: Field[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** The tensor's bytes, little-endian, as raw_data holds them. */
  data(): Buffer;
}

export interface OnnxModel {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** The ModelProto's fields other than the graph; the GraphProto's other than nodes and initializers. */
  modelFields: Field[];
  graphFields: Field[];
}

function parseNode(fields: Field[]): OnnxNode {
  return {
    name: str(fields, 3),
    opType: str(fields, 4),
    domain: str(fields, 7),
    inputs: strs(fields, 1),
    outputs: strs(fields, 2),
    attributes: all(fields, 5).map((f) => decode(f.value as Buffer)),
    rest: fields.filter((f) => ![1, 2, 3, 4, 5, 7].includes(f.num)),
  };
}

function nodeFields(n: OnnxNode): Field[] {
  return [
    ...n.inputs.map((i) => lenField(1, i)),
    ...n.outputs.map((o) => lenField(2, o)),
    ...(n.name ? [lenField(3, n.name)] : []),
    lenField(4, n.opType),
    ...(n.domain ? [lenField(7, n.domain)] : []),
    ...n.attributes.map((a) => lenField(5, Buffer.concat(encodeChunks(a)))),
    ...n.rest,
  ];
}

/** The bytes of a float_data / int32_data / int64_data tensor, as raw_data would hold them. */
function typedData(fields: Field[], dataType: number, count: number): Buffer {
  if (dataType === FLOAT) {
    const packed = one(fields, 4);
    if (!packed) return Buffer.alloc(4 * count);
    if (packed.wire === LEN) return Buffer.from(packed.value as Buffer);
    return Buffer.concat(all(fields, 4).map((f) => f.value as Buffer));
  }
  if (dataType === INT64) {
    const out = Buffer.alloc(8 * count);
    for (const [i, v] of ints(fields, 7).entries()) out.writeBigInt64LE(v, 8 * i);
    return out;
  }
  // int32_data holds INT32, INT16, INT8, UINT16, UINT8, BOOL and FLOAT16 (as its bits).
  const size = dataType === FLOAT16 ? 2 : dataType === UINT8 || dataType === INT8 ? 1 : 4;
  const out = Buffer.alloc(size * count);
  for (const [i, v] of ints(fields, 5).entries()) {
    if (size === 1) out.writeUInt8(Number(BigInt.asUintN(8, v)), i);
    else if (size === 2) out.writeUInt16LE(Number(BigInt.asUintN(16, v)), 2 * i);
    else out.writeInt32LE(Number(v), 4 * i);
  }
  return out;
}

function parseTensor(fields: Field[], dir: string): OnnxTensor {
  const name = str(fields, 8);
  const dims = ints(fields, 1).map(Number);
  const dataType = Number(int(fields, 2));
  const count = dims.reduce((a, b) => a * b, 1);
  let cached: Buffer | undefined;
  return {
    name,
    dims,
    dataType,
    data() {
      if (cached) return cached;
      if (int(fields, 14) === 1n) {
        const entries = new Map(all(fields, 13).map((f) => [str(decode(f.value as Buffer), 1), str(decode(f.value as Buffer), 2)]));
        const location = entries.get('location') ?? '';
        if (!location || location.includes('..') || location.startsWith('/'))
          throw new Error(`${name}: external data at a path Tessera will not read (${location})`);
        const offset = Number(entries.get('offset') ?? 0);
        const length = Number(entries.get('length') ?? 0);
        const fd = openSync(join(dir, location), 'r');
        try {
          const buf = Buffer.alloc(length);
          if (readSync(fd, buf, 0, length, offset) !== length) throw new Error(`${name}: ${location} ends before its data`);
          cached = buf;
        } finally {
          closeSync(fd);
        }
        return cached;
      }
      const raw = one(fields, 9);
      cached = raw ? (raw.value as Buffer) : typedData(fields, dataType, count);
      return cached;
    },
  };
}

/** Reads an ONNX file; its external data is read when a tensor's data is asked for. */
export function readModel(path: string): OnnxModel {
  const modelFields = decode(readFileSync(path));
  const graph = one(modelFields, 7);
  if (!graph) throw new Error(`${basename(path)} has no graph: not an ONNX model`);
  const graphFields = decode(graph.value as Buffer);
  const dir = dirname(path);
  const initializers = new Map<string, OnnxTensor>();
  for (const f of all(graphFields, 5)) {
    const t = parseTensor(decode(f.value as Buffer), dir);
    initializers.set(t.name, t);
  }
  return {
    nodes: all(graphFields, 1).map((f) => parseNode(decode(f.value as Buffer))),
    initializers,
    modelFields: modelFields.filter((f) => f.num !== 7),
    graphFields: graphFields.filter((f) => f.num !== 1 && f.num !== 5),
  };
}

export function tensor(name: string, dims: number[], dataType: number, bytes: Buffer): OnnxTensor {
  return { name, dims, dataType, data: () => bytes };
}

/** Files past this go to external data: protobuf cannot hold a message over 2 GB. */
const INLINE_LIMIT = 1.9e9;

/**
 * Writes `model` to `path` (its external data to `path`_data when it is large), through temporary names
 * renamed at the end: a run stopped half-way leaves no half-written model behind.
 */
export function writeModel(model: OnnxModel, path: string, inlineLimit = INLINE_LIMIT): { bytes: number; external: boolean } {
  const tensors = [...model.initializers.values()];
  const total = tensors.reduce((s, t) => s + t.data().length, 0);
  const external = total > inlineLimit;
  const dataName = `${basename(path)}_data`;
  const tmpData = `${path}_data.partial`;
  const tmp = `${path}.partial`;
  let dataFd: number | undefined;
  let offset = 0;
  try {
    if (external) dataFd = openSync(tmpData, 'w');
    const init = tensors.map((t) => {
      const bytes = t.data();
      const head = [...t.dims.map((d) => intField(1, d)), intField(2, t.dataType), lenField(8, t.name)];
      if (!external || bytes.length < 1024) return lenField(5, Buffer.concat(encodeChunks([...head, lenField(9, bytes)])));
      const pad = (4096 - (offset % 4096)) % 4096;
      if (pad) writeSync(dataFd!, Buffer.alloc(pad));
      offset += pad;
      writeSync(dataFd!, bytes);
      const entry = (k: string, v: string) => lenField(13, Buffer.concat(encodeChunks([lenField(1, k), lenField(2, v)])));
      const fields = [
        ...head,
        entry('location', dataName),
        entry('offset', String(offset)),
        entry('length', String(bytes.length)),
        intField(14, 1),
      ];
      offset += bytes.length;
      return lenField(5, Buffer.concat(encodeChunks(fields)));
    });
    const graph = [...model.nodes.map((n) => lenField(1, Buffer.concat(encodeChunks(nodeFields(n))))), ...init, ...model.graphFields];
    const graphChunks = encodeChunks(graph);
    const graphBytes = graphChunks.reduce((s, c) => s + c.length, 0);
    const fd = openSync(tmp, 'w');
    let written = 0;
    try {
      // The graph is written in place of field 7, its chunks streamed: it may be near 2 GB.
      for (const f of model.modelFields.filter((x) => x.num < 7)) for (const c of encodeChunks([f])) written += writeSync(fd, c);
      for (const c of [varint(BigInt((7 << 3) | LEN)), varint(BigInt(graphBytes)), ...graphChunks]) written += writeSync(fd, c);
      for (const f of model.modelFields.filter((x) => x.num > 7)) for (const c of encodeChunks([f])) written += writeSync(fd, c);
    } finally {
      closeSync(fd);
    }
    if (dataFd !== undefined) {
      closeSync(dataFd);
      dataFd = undefined;
      renameSync(tmpData, `${path}_data`);
    }
    renameSync(tmp, path);
    return { bytes: written + offset, external };
  } catch (err) {
    if (dataFd !== undefined) closeSync(dataFd);
    rmSync(tmp, { force: true });
    rmSync(tmpData, { force: true });
    throw err;
  }
}
