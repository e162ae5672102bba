import { AttributeType, DataType, elementBytes, type DataTypeCode } from '../../runtimes/onnx/graph/schema.js';

/** A tensor dimension: a fixed size, or a symbolic name (`batch_size`) for a dynamic axis. */
export type Dim = number | string;

/** An ONNX node attribute, tagged with its ONNX type because JS numbers can't tell int from float. */
export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string };

/** Attribute constructors: `{ axis: int(-1), perm: ints([0, 2, 1]) }`. */
export const int = (value: number): Attr => ({ type: 'int', value });
export const float = (value: number): Attr => ({ type: 'float', value });
export const ints = (value: number[]): Attr => ({ type: 'ints', value });
export const floats = (value: number[]): Attr => ({ type: 'floats', value });
export const str = (value: string): Attr => ({ type: 'string', value });

/**
 * A graph initializer whose bytes are produced only when the model is written,
 * so a 600 MB model never needs all its weights in memory at once.
 */
export interface LazyTensor {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Raw little-endian element bytes; must be exactly `byteLength(dims, dataType)` long. */
  bytes(): Uint8Array;
}

/** A graph input or output as declared in the model. */
export interface ValueInfo {
  name: string;
  dataType: DataTypeCode;
  dims: Dim[];
}

/** A node as plain data, shaped like `onnx.NodeProto` for protobufjs. */
export interface NodeSpec {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

/** Bytes a tensor of `dims` takes in raw_data. */
export function byteLength(dims: readonly number[], dataType: DataTypeCode): number {
  return dims.reduce((a, b) => a * b, 1) * elementBytes(dataType);
}

/**
 * Builds one ONNX graph: inputs and outputs with symbolic dims, lazily-produced
 * initializers, small constants and nodes. Names of intermediate values are
 * generated (`<op>_<n>`), so graph code reads as a chain of calls.
 */
export class GraphBuilder {
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: LazyTensor[] = [];
  readonly nodes: NodeSpec[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** Declares a graph input and returns its name. */
  input(name: string, dataType: DataTypeCode, dims: Dim[]): string {
    this.claim(name);
    this.inputs.push({ name, dataType, dims });
    return name;
  }

  /**
   * Declares a graph output fed by `value`. ONNX outputs are value names, so
   * the value is routed through an Identity node when its name differs.
   */
  output(name: string, value: string, dataType: DataTypeCode, dims: Dim[]): void {
    if (value !== name) this.node('Identity', [value], {}, [name]);
    this.outputs.push({ name, dataType, dims });
  }

  /** Adds an initializer whose bytes are made on demand; returns its name. */
  initializer(name: string, dataType: DataTypeCode, dims: number[], bytes: () => Uint8Array): string {
    this.claim(name);
    return this.pushInitializer(name, dataType, dims, bytes);
  }

  /** A small int64 constant (shapes, axes, indices); `dims` [] makes a scalar. */
  constInt64(values: number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.pushInitializer(this.fresh('const'), DataType.INT64, dims, () => new Uint8Array(data.buffer));
  }

  /** A small float constant in the graph's compute type; `encode` turns numbers into raw bytes. */
  constFloat(values: number[], dims: number[], dataType: DataTypeCode, encode: (v: number[]) => Uint8Array): string {
    const data = encode(values);
    return this.pushInitializer(this.fresh('const'), dataType, dims, () => data);
  }

  /**
   * Appends a node and returns its output names. `outputs` may name them
   * (needed for graph outputs) or give how many fresh ones to make.
   */
  node(opType: string, input: string[], attrs: Record<string, Attr> = {}, outputs: string[] | number = 1): string[] {
    const output = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
      : outputs.map((o) => (this.claim(o), o));
    const attribute = Object.entries(attrs).map(([name, a]) => encodeAttr(name, a));
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, opType, input, output, attribute });
    return output;
  }

  /** A single-output node; returns the output name. */
  op(opType: string, input: string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, input, attrs, 1)[0]!;
  }

  private pushInitializer(name: string, dataType: DataTypeCode, dims: number[], bytes: () => Uint8Array): string {
    this.initializers.push({ name, dataType, dims, bytes });
    return name;
  }

  /** A new unused value name, registered as taken. */
  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`; while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`duplicate value name in graph ${this.name}: ${name}`);
    this.names.add(name);
  }
}

function encodeAttr(name: string, a: Attr): Record<string, unknown> {
  switch (a.type) {
    case 'int': return { name, type: AttributeType.INT, i: a.value };
    case 'float': return { name, type: AttributeType.FLOAT, f: a.value };
    case 'ints': return { name, type: AttributeType.INTS, ints: a.value };
    case 'floats': return { name, type: AttributeType.FLOATS, floats: a.value };
    case 'string': return { name, type: AttributeType.STRING, s: Buffer.from(a.value, 'utf8') };
  }
}
