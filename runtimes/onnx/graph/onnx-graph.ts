import { DataType, onnxType } from './schema.js';
import { rawFields, type RawField } from './proto-fields.js';

// Field numbers of the official ONNX IR (proto/onnx.proto).
export const MODEL_GRAPH = 7;
export const GRAPH_NODE = 1;
export const GRAPH_INITIALIZER = 5;
export const GRAPH_OUTPUT = 12;
export const GRAPH_VALUE_INFO = 13;
export const NODE_INPUT = 1;

/** One node of the main graph, decoded for reading (its bytes stay the source of truth). */
export interface GraphNode {
  /** Position among the graph's nodes (ONNX keeps them in topological order). */
  index: number;
  op: string;
  /** '' for the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Int and ints attributes; the only kinds a rewrite reads. */
  ints: Map<string, number[]>;
  field: RawField;
}

/** A constant (initializer or Constant node): its shape, and its values when small integers. */
export interface ConstTensor {
  dims: number[];
  /** Integer values, decoded only for tensors of at most 64 elements. */
  ints?: number[];
}

/** A model read for rewriting: its fields as bytes, and the main graph decoded. */
export interface ModelGraph {
  modelFields: RawField[];
  graphFields: RawField[];
  nodes: GraphNode[];
  constants: Map<string, ConstTensor>;
  /** Names of the graph's outputs, in order. */
  outputs: string[];
}

type Num = number | { toNumber(): number };
const num = (v: Num): number => (typeof v === 'number' ? v : v.toNumber());

interface DecodedTensor {
  dims?: Num[];
  dataType?: number;
  int32Data?: number[];
  int64Data?: Num[];
  rawData?: Uint8Array;
  name?: string;
}

function constTensor(t: DecodedTensor): ConstTensor {
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > 64) return { dims };
  let ints: number[] | undefined;
  if (t.dataType === DataType.INT64) {
    if (t.int64Data?.length) ints = t.int64Data.map(num);
    else if (t.rawData) ints = Array.from({ length: count }, (_, i) => Number(Buffer.from(t.rawData!).readBigInt64LE(i * 8)));
  } else if (t.dataType === DataType.INT32) {
    if (t.int32Data?.length) ints = [...t.int32Data];
    else if (t.rawData) ints = Array.from({ length: count }, (_, i) => Buffer.from(t.rawData!).readInt32LE(i * 4));
  }
  return { dims, ints };
}

/** Reads a serialised ModelProto; undefined when it has no graph. */
export function readModelGraph(model: Uint8Array): ModelGraph | undefined {
  const modelFields = rawFields(model);
  const graph = modelFields.find((f) => f.field === MODEL_GRAPH)?.value;
  if (!graph) return undefined;
  const graphFields = rawFields(graph);
  const nodes: GraphNode[] = [];
  const constants = new Map<string, ConstTensor>();
  const outputs: string[] = [];
  const Node = onnxType('NodeProto');
  const Tensor = onnxType('TensorProto');
  const ValueInfo = onnxType('ValueInfoProto');
  for (const field of graphFields) {
    if (field.field === GRAPH_NODE) {
      const n = Node.decode(field.value!) as unknown as {
        input: string[]; output: string[]; opType: string; domain?: string;
        attribute: { name: string; i?: Num; ints?: Num[]; t?: DecodedTensor }[];
      };
      const ints = new Map<string, number[]>();
      for (const a of n.attribute) {
        if (a.ints?.length) ints.set(a.name, a.ints.map(num));
        else if (a.i !== undefined && a.i !== null) ints.set(a.name, [num(a.i)]);
      }
      const node: GraphNode = { index: nodes.length, op: n.opType, domain: n.domain ?? '', inputs: [...n.input], outputs: [...n.output], ints, field };
      nodes.push(node);
      const value = n.attribute.find((a) => a.name === 'value')?.t;
      if (node.op === 'Constant' && node.domain === '' && value) constants.set(node.outputs[0]!, constTensor(value));
    } else if (field.field === GRAPH_INITIALIZER) {
      const t = Tensor.decode(field.value!) as unknown as DecodedTensor;
      if (t.name) constants.set(t.name, constTensor(t));
    } else if (field.field === GRAPH_OUTPUT) {
      outputs.push((ValueInfo.decode(field.value!) as unknown as { name: string }).name);
    }
  }
  return { modelFields, graphFields, nodes, constants, outputs };
}
