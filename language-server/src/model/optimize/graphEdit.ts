// Small edits every graph rewrite makes: nodes, attributes and int64 constants built, the graph's inputs
// and outputs named, what a rewrite left unread dropped.
import { INT64, type OnnxModel, type OnnxNode, tensor } from './onnxModel';
import { decode, encode, type Field, intField, lenField, one, str } from './protobuf';

/** An INT attribute (AttributeProto: name, type 2 = INT, i). */
export const intAttribute = (name: string, value: number): Field[] => [lenField(1, name), intField(20, 2), intField(3, value)];

/** A node's INT attribute, where it sets it. */
export function intAttributeOf(node: OnnxNode, name: string): number | undefined {
  const a = node.attributes.find((x) => str(x, 1) === name);
  const v = a && one(a, 3)?.value;
  return typeof v === 'bigint' ? Number(v) : undefined;
}

/** A node of the default domain with one output, named for it. */
export function plainNode(opType: string, inputs: string[], output: string, attributes: Field[][] = []): OnnxNode {
  return { name: output, opType, domain: '', inputs, outputs: [output], attributes, rest: [] };
}

/** Sets a 1-D int64 initializer `name` and returns its name. */
export function int64Constant(model: OnnxModel, name: string, values: Array<number | bigint>): string {
  const b = Buffer.alloc(8 * values.length);
  for (const [i, v] of values.entries()) b.writeBigInt64LE(BigInt(v), 8 * i);
  model.initializers.set(name, tensor(name, [values.length], INT64, b));
  return name;
}

const valueNames = (model: OnnxModel, num: number) =>
  model.graphFields.filter((f) => f.num === num).map((f) => str(decode(f.value as Buffer), 1));
export const graphInputNames = (model: OnnxModel): string[] => valueNames(model, 11);
export const graphOutputNames = (model: OnnxModel): string[] => valueNames(model, 12);

/**
 * Adds a graph input (a ValueInfoProto) of element type `elemType` and shape `dims`: numbers are fixed
 * dimensions, strings named (dynamic) ones. Inputs come first in a GraphProto only by convention.
 */
export function addGraphInput(model: OnnxModel, name: string, elemType: number, dims: Array<number | string>): void {
  const shape = encode(dims.map((d) => lenField(1, encode([typeof d === 'number' ? intField(1, d) : lenField(2, d)]))));
  const tensorType = encode([intField(1, elemType), lenField(2, shape)]);
  model.graphFields.push(lenField(11, encode([lenField(1, name), lenField(2, encode([lenField(1, tensorType)]))])));
}

/** Drops nodes whose outputs nothing reads (what a rewrite left behind), and initializers no node reads. */
export function dropUnused(model: OnnxModel): void {
  const outputs = new Set(graphOutputNames(model));
  for (let changed = true; changed; ) {
    const read = new Set(model.nodes.flatMap((n) => n.inputs));
    const before = model.nodes.length;
    model.nodes = model.nodes.filter((n) => n.outputs.some((o) => o && (read.has(o) || outputs.has(o))));
    changed = model.nodes.length !== before;
  }
  const read = new Set(model.nodes.flatMap((n) => n.inputs));
  for (const name of [...model.initializers.keys()]) if (!read.has(name) && !outputs.has(name)) model.initializers.delete(name);
}
