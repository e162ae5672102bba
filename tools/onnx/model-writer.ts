import { closeSync, openSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { byteLength, type Dim, type GraphBuilder, type LazyTensor, type ValueInfo } from './graph-builder.js';
import { onnxType } from '../../runtimes/onnx/graph/schema.js';

/** Model-level fields written around the graph. */
export interface ModelOptions {
  /** ONNX opset of the default domain; 17 gives LayerNormalization. */
  opset: number;
  /** IR version; 8 is the one that goes with opset 17. */
  irVersion: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Free-form key/values stored in `ModelProto.metadata_props`. */
  metadata?: Record<string, string>;
}

// Wire tags (field << 3 | wire type 2 = length-delimited) of the fields written by hand.
const TAG_MODEL_GRAPH = (7 << 3) | 2;
const TAG_GRAPH_INITIALIZER = (5 << 3) | 2;
const TAG_TENSOR_RAW_DATA = (9 << 3) | 2;

/**
 * Serializes a model as a sequence of chunks. Everything but the initializer
 * payloads is encoded with protobufjs; the initializers are appended to the
 * graph message by hand (protobuf concatenates repeated fields), with their
 * lengths computed up front, so each weight tensor is produced, handed to
 * `sink` and dropped before the next one exists.
 */
export function serializeModel(graph: GraphBuilder, options: ModelOptions, sink: (chunk: Uint8Array) => void): void {
  // raw_data must be little-endian; our typed arrays are host-endian.
  if (endianness() !== 'LE') throw new Error('the ONNX writer needs a little-endian host');
  const head = onnxType('ModelProto').encode({
    irVersion: options.irVersion,
    producerName: options.producerName ?? 'clipflow-tools',
    producerVersion: options.producerVersion ?? '0.1.0',
    docString: options.docString,
    opsetImport: [{ domain: '', version: options.opset }],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  }).finish();
  const body = onnxType('GraphProto').encode({
    name: graph.name,
    node: graph.nodes,
    input: graph.inputs.map(valueInfo),
    output: graph.outputs.map(valueInfo),
  }).finish();
  const tensors = graph.initializers.map((t) => {
    const header = onnxType('TensorProto').encode({ name: t.name, dims: t.dims, dataType: t.dataType }).finish();
    const raw = byteLength(t.dims, t.dataType);
    const tensorLength = header.length + 1 + varintLength(raw) + raw;
    return { t, header, raw, tensorLength };
  });
  const graphLength = body.length + tensors.reduce((n, x) => n + 1 + varintLength(x.tensorLength) + x.tensorLength, 0);

  sink(head);
  sink(Uint8Array.of(TAG_MODEL_GRAPH, ...varint(graphLength)));
  sink(body);
  for (const { t, header, raw, tensorLength } of tensors) {
    sink(Uint8Array.of(TAG_GRAPH_INITIALIZER, ...varint(tensorLength)));
    sink(header);
    sink(Uint8Array.of(TAG_TENSOR_RAW_DATA, ...varint(raw)));
    sink(checkedBytes(t, raw));
  }
}

/** Serializes a model into one buffer (small models, tests). */
export function modelToBuffer(graph: GraphBuilder, options: ModelOptions): Buffer {
  const chunks: Uint8Array[] = [];
  serializeModel(graph, options, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}

/** Writes a model to `path`, streaming initializers one at a time. */
export function writeModel(path: string, graph: GraphBuilder, options: ModelOptions): void {
  const fd = openSync(path, 'w');
  try {
    serializeModel(graph, options, (chunk) => {
      for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
    });
  } finally {
    closeSync(fd);
  }
}

function checkedBytes(t: LazyTensor, expected: number): Uint8Array {
  const bytes = t.bytes();
  // A wrong length would silently corrupt every byte after it in the file.
  if (bytes.length !== expected) {
    throw new Error(`initializer ${t.name}: produced ${bytes.length} bytes, dims [${t.dims}] need ${expected}`);
  }
  return bytes;
}

function valueInfo(v: ValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.dataType, shape: { dim: v.dims.map(dimension) } } },
  };
}

function dimension(d: Dim): Record<string, unknown> {
  return typeof d === 'number' ? { dimValue: d } : { dimParam: d };
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); len++; }
  return len;
}

function varint(n: number): number[] {
  // Math, not bit ops: lengths can pass 2^31 for the biggest tensors' containers.
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}
