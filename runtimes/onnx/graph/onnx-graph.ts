import { AttributeType, DataType, onnxType } from './schema.js';
import { rawFields, valueOf, type ByteSource, type RawField } from './proto-fields.js';

// Field numbers of the official ONNX IR (proto/onnx.proto).
export const MODEL_GRAPH = 7;
export const GRAPH_NODE = 1;
export const GRAPH_INITIALIZER = 5;
export const GRAPH_INPUT = 11;
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
  /** The node's serialised NodeProto. */
  bytes: Uint8Array;
}

/** A constant (initializer or Constant node): its shape, and its values when small integers. */
export interface ConstTensor {
  dims: number[];
  /** Integer values, decoded only for tensors of at most 64 elements. */
  ints?: number[];
  /** Element type (a DataType code). */
  dataType?: number;
}

/** A model read for rewriting: where its fields lie, and the main graph decoded. */
export interface ModelGraph {
  source: ByteSource;
  modelFields: RawField[];
  graphFields: RawField[];
  nodes: GraphNode[];
  constants: Map<string, ConstTensor>;
  /** Where each initializer lies, by name. */
  initializers: Map<string, RawField>;
  /** Names of the graph's inputs and outputs, in order (inputs may include initializers in old IR versions). */
  inputs: string[];
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
  if (count > 64) return { dims, dataType: t.dataType };
  let ints: number[] | undefined;
  if (t.dataType === DataType.INT64) {
    if (t.int64Data?.length) ints = t.int64Data.map(num);
    else if (t.rawData) ints = Array.from({ length: count }, (_, i) => Number(Buffer.from(t.rawData!).readBigInt64LE(i * 8)));
  } else if (t.dataType === DataType.INT32) {
    if (t.int32Data?.length) ints = [...t.int32Data];
    else if (t.rawData) ints = Array.from({ length: count }, (_, i) => Buffer.from(t.rawData!).readInt32LE(i * 4));
  }
  return { dims, ints, dataType: t.dataType };
}

/** Tensor fields larger than this (the weights) are skipped when reading an initializer's shape. */
const SMALL_FIELD = 4096;

/** An initializer's name, shape and small values, without reading its weights. */
function readInitializer(source: ByteSource, f: RawField): DecodedTensor {
  const small = rawFields(source, f.valueStart!, f.end).filter((x) => x.end - x.start <= SMALL_FIELD);
  return onnxType('TensorProto').decode(Buffer.concat(small.map((x) => source.read(x.start, x.end)))) as unknown as DecodedTensor;
}

/**
 * Reads a serialised ModelProto's main graph: its nodes decoded, its constants'
 * shapes, its outputs. Weights stay where they are. Undefined when it has no graph.
 */
export function readModelGraph(source: ByteSource): ModelGraph | undefined {
  const modelFields = rawFields(source);
  const graphField = modelFields.find((f) => f.field === MODEL_GRAPH);
  if (!graphField) return undefined;
  const graphFields = rawFields(source, graphField.valueStart!, graphField.end);
  const nodes: GraphNode[] = [];
  const constants = new Map<string, ConstTensor>();
  const initializers = new Map<string, RawField>();
  const inputs: string[] = [];
  const outputs: string[] = [];
  const Node = onnxType('NodeProto');
  const ValueInfo = onnxType('ValueInfoProto');
  for (const field of graphFields) {
    if (field.field === GRAPH_NODE) {
      const bytes = valueOf(source, field);
      const n = Node.decode(bytes) as unknown as {
        input: string[]; output: string[]; opType: string; domain?: string;
        attribute: { name: string; type?: number; i?: Num; ints?: Num[]; t?: DecodedTensor }[];
      };
      const ints = new Map<string, number[]>();
      for (const a of n.attribute) {
        // Decoded messages carry defaults (i = 0) on every attribute: the type says which field is real.
        if (a.type === AttributeType.INTS) ints.set(a.name, (a.ints ?? []).map(num));
        else if (a.type === AttributeType.INT) ints.set(a.name, [num(a.i ?? 0)]);
      }
      const node: GraphNode = { index: nodes.length, op: n.opType, domain: n.domain ?? '', inputs: [...n.input], outputs: [...n.output], ints, field, bytes };
      nodes.push(node);
      const value = n.attribute.find((a) => a.name === 'value')?.t;
      if (node.op === 'Constant' && node.domain === '' && value) constants.set(node.outputs[0]!, constTensor(value));
    } else if (field.field === GRAPH_INITIALIZER) {
      const t = readInitializer(source, field);
      if (t.name) {
        constants.set(t.name, constTensor(t));
        initializers.set(t.name, field);
      }
    } else if (field.field === GRAPH_OUTPUT || field.field === GRAPH_INPUT) {
      const name = (ValueInfo.decode(valueOf(source, field)) as unknown as { name: string }).name;
      (field.field === GRAPH_OUTPUT ? outputs : inputs).push(name);
    }
  }
  return { source, modelFields, graphFields, nodes, constants, initializers, inputs, outputs };
}
