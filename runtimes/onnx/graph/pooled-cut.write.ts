import { AttributeType, DataType, onnxType } from './schema.js';
import { GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_NODE, GRAPH_OUTPUT, GRAPH_VALUE_INFO, MODEL_GRAPH, NODE_INPUT, type GraphNode, type ModelGraph } from './onnx-graph.js';
import { PACKED_INPUTS } from '../../packed-texts.js';
import type { PackedText } from './packed-text.plan.js';
import type { PooledCut, TokenSelect } from './pooled-cut.plan.js';
import { bufferSource, lengthDelimited, nested, rawFields, stringField, valueOf, type Piece, type RawField } from './proto-fields.js';

/** Names of the tensors the cut adds. */
const INDEX_NAME = 'clipflow_pooled_token_index';
const ROWS_SHAPE_NAME = 'clipflow_pooled_rows_shape';
const SCALAR_0 = 'clipflow_pooled_scalar_0';
const SCALAR_1 = 'clipflow_pooled_scalar_1';
const COLUMN_SHAPE = 'clipflow_packed_column_shape';
const TOKEN_AXIS_SHAPE = 'clipflow_packed_token_axis_shape';
const PACKED_POSITIONS = 'clipflow_packed_position_embeddings';
const BIAS_ROWS_SHAPE = 'clipflow_packed_bias_rows_shape';
const INDEX_0 = 'clipflow_packed_index_0';
const INDEX_2_3 = 'clipflow_packed_index_2_3';
const MINUS_1 = 'clipflow_packed_minus_1';

/** The node's bytes with some inputs renamed; every other field is copied as it was. */
function renameInputs(node: GraphNode, rename: Map<string, string>): Uint8Array {
  const source = bufferSource(node.bytes);
  const fields = rawFields(source).map((f) => {
    const bytes = source.read(f.start, f.end);
    if (f.field !== NODE_INPUT) return bytes;
    const name = Buffer.from(valueOf(source, f)).toString('utf8');
    return rename.has(name) ? stringField(NODE_INPUT, rename.get(name)!) : bytes;
  });
  return lengthDelimited(GRAPH_NODE, Buffer.concat(fields));
}

/** An int attribute. */
const int = (name: string, i: number) => ({ name, type: AttributeType.INT, i });
/** Transpose's perm swapping the first two axes: sequence-first [T, N, w] <-> batch-first [N, T, w]. */
const swap = [{ name: 'perm', type: AttributeType.INTS, ints: [1, 0, 2] }];

/** An int64 initializer. */
function int64Initializer(name: string, dims: number[], values: readonly bigint[]): Uint8Array {
  const raw = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => raw.writeBigInt64LE(v, 8 * i));
  return lengthDelimited(GRAPH_INITIALIZER, onnxType('TensorProto').encode({ name, dims, dataType: DataType.INT64, rawData: raw }).finish());
}

/** A node with one output, named after it. */
function node(opType: string, input: string[], output: string, attribute: object[] = []): Uint8Array {
  const encoded = onnxType('NodeProto').encode({ name: `${output}/node`, opType, input, output: [output], attribute }).finish();
  return lengthDelimited(GRAPH_NODE, encoded);
}

/** How a cut selects its token: the nodes to write first, one selection per entry, the pick's new index input, the constants they read. */
interface Selection {
  prelude: Uint8Array[];
  select(input: string, axis: number, output: string): Uint8Array[];
  pickRename: Map<string, string>;
  initializers: Array<{ name: string; dims: number[]; values: bigint[] }>;
}

/** `pick` run on batch-first states; sequence-first ones ([T, N, w], token axis 0) are transposed around it. */
function batchFirst(pick: (input: string, output: string) => Uint8Array[]) {
  return (input: string, axis: number, output: string) => (axis === 1
    ? pick(input, output)
    : [node('Transpose', [input], `${output}/nlw`, swap), ...pick(`${output}/nlw`, `${output}/n1w`), node('Transpose', [`${output}/n1w`], output, swap)]);
}

/** Nodes making `output` = 0..n-1, n the length of `of`'s first axis; they read SCALAR_0 and SCALAR_1. */
function arange(of: string, output: string): Uint8Array[] {
  return [node('Shape', [of], `${output}/shape`), node('Gather', [`${output}/shape`, SCALAR_0], `${output}/count`), node('Range', [SCALAR_0, `${output}/count`, SCALAR_1], output)];
}
const SCALARS = [{ name: SCALAR_0, dims: [], values: [0n] }, { name: SCALAR_1, dims: [], values: [1n] }];

function selection(select: TokenSelect, packed: boolean): Selection {
  if (packed && 'rows' in select) {
    // Entries [R, T, w] -> [R*T, w] -> the fed flat positions [K, w] -> [K, 1, w] (sequence-first ones transposed
    // around it); the pick then takes token 0 of each of the K rows: a GatherND index 0, a flattened Gather row k for row k.
    const fixed = `${PACKED_INPUTS.pick}/pooled`;
    return {
      prelude: select.flattened
        ? arange(PACKED_INPUTS.pick, fixed)
        : [node('Sub', [PACKED_INPUTS.pick, PACKED_INPUTS.pick], `${fixed}/flat`), node('Reshape', [`${fixed}/flat`, COLUMN_SHAPE], fixed)],
      select: batchFirst((input, output) => [
        node('Flatten', [input], `${output}/flat`, [int('axis', 2)]),
        node('Gather', [`${output}/flat`, PACKED_INPUTS.pick], `${output}/picked`, [int('axis', 0)]),
        node('Reshape', [`${output}/picked`, TOKEN_AXIS_SHAPE], output),
      ]),
      pickRename: new Map([[select.pickIndices, fixed]]),
      initializers: [
        { name: TOKEN_AXIS_SHAPE, dims: [3], values: [0n, 1n, -1n] },
        ...(select.flattened ? SCALARS : [{ name: COLUMN_SHAPE, dims: [2], values: [-1n, 1n] }]),
        // Scores by row for the bias (see applyPooledCut).
        { name: INDEX_0, dims: [1], values: [0n] },
        { name: INDEX_2_3, dims: [2], values: [2n, 3n] },
        { name: MINUS_1, dims: [1], values: [-1n] },
      ],
    };
  }
  if (!('rows' in select)) {
    return {
      prelude: [],
      select: (input, axis, output) => [node('Gather', [input, INDEX_NAME], output, [int('axis', axis)])],
      pickRename: new Map(),
      initializers: [{ name: INDEX_NAME, dims: [1], values: [BigInt(select.index)] }],
    };
  }
  // The positions as [N, 1, 1] pick one token a row, keeping the axis ([N, T, w] -> [N, 1, w]).
  const rows3 = `${select.rows}/pooled_rows`;
  // After the cut the pick reads one token a row: a GatherND takes token 0, a flattened Gather row n for row n.
  const fixed = `${select.pickIndices}/pooled`;
  return {
    prelude: [
      node('Reshape', [select.rows, ROWS_SHAPE_NAME], rows3),
      ...(select.flattened ? arange(select.rows, fixed) : [node('Sub', [select.rows, select.rows], fixed)]),
    ],
    select: batchFirst((input, output) => [node('GatherND', [input, rows3], output, [int('batch_dims', 1)])]),
    pickRename: new Map([[select.pickIndices, fixed]]),
    initializers: [{ name: ROWS_SHAPE_NAME, dims: [3], values: [0n, -1n, 1n] }, ...(select.flattened ? SCALARS : [])],
  };
}

/** A graph input of `elemType` with symbolic (string) or fixed dims. */
function graphInput(name: string, elemType: number, dims: Array<string | number>): Uint8Array {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  const encoded = onnxType('ValueInfoProto').encode({ name, type: { tensorType: { elemType, shape: { dim } } } }).finish();
  return lengthDelimited(GRAPH_INPUT, encoded);
}

/**
 * The cut model, as pieces of new bytes and stretches of the original (see
 * proto-fields.ts): the region moved to just before the first node reading its
 * states, after a selection of the pooled token that keeps its axis (so the
 * pick and everything after it run as they were) for each entry; the dropped
 * outputs, the nodes copying them out and the region's stale shape hints removed.
 * With `packed`, the selection reads the fed flat positions of each text's EOT,
 * and the positions and the attention mask are fed too (packed-text.plan.ts).
 */
export function applyPooledCut(g: ModelGraph, cut: PooledCut, packed?: PackedText): Piece[] {
  const ValueInfo = onnxType('ValueInfoProto');
  const rename = new Map([...cut.entries.keys()].map((name) => [name, `${name}/pooled_token`]));
  const { prelude, select: selectAt, pickRename, initializers } = selection(cut.select, !!packed);
  const nodeAt = new Map(g.nodes.map((n) => [n.field, n]));
  // Nodes outside the region reading a tensor that packing feeds instead.
  const packedRenames = new Map<RawField, Map<string, string>>();
  if (packed) {
    packedRenames.set(packed.positionsAdd.field, new Map([[packed.positions, PACKED_POSITIONS]]));
  }
  const regionAt = new Set(cut.region.map((n) => n.field));
  const firstPicker = cut.pickers.reduce((a, b) => (a.index < b.index ? a : b));
  const removed = new Set(cut.droppedNodes.map((n) => n.field));
  // Packed, torch's argmax + row offsets would add the ids' rows to the texts' count: whatever reads them (the pick,
  // the Shape sizing its result) reads 0..K-1 instead, and the Add goes.
  const select = cut.select;
  if (packed && 'rows' in select && select.flattened) {
    const offsets = g.nodes.find((n) => n.outputs.includes(select.pickIndices));
    if (offsets) removed.add(offsets.field);
    for (const n of g.nodes) if (n !== cut.pick && n.inputs.includes(select.pickIndices)) packedRenames.set(n.field, pickRename);
  }
  // A constant mask read only where the bias replaces it goes too (ORT warns of unused initializers).
  for (const mask of new Set(packed?.masks.values())) {
    const field = g.initializers.get(mask);
    if (field && !g.nodes.some((n) => n.inputs.includes(mask) && !packed!.masks.has(n))) removed.add(field);
  }
  const produced = new Set(cut.region.flatMap((n) => n.outputs));
  const dropped = new Set(cut.droppedOutputs);
  const nameOf = (f: RawField) => (ValueInfo.decode(valueOf(g.source, f)) as unknown as { name: string }).name;
  const asIs = (f: RawField): Piece => ({ start: f.start, end: f.end });

  const graph: Piece[] = [];
  for (const f of g.graphFields) {
    if (removed.has(f) || regionAt.has(f)) continue;
    if (packed && f === packed.positionsAdd.field) {
      // [R, -1, T, T] from the bias' [R, 1, T, T]: attention scores by row, whether [R, H, T, T] or torch's [R*H, T, T].
      const shape = `${BIAS_ROWS_SHAPE}/bias`;
      graph.push(
        node('Gather', [packed.table, PACKED_INPUTS.positions], PACKED_POSITIONS, [int('axis', 0)]),
        node('Shape', [PACKED_INPUTS.bias], shape),
        node('Gather', [shape, INDEX_0], `${shape}/rows`, [int('axis', 0)]),
        node('Gather', [shape, INDEX_2_3], `${shape}/tokens`, [int('axis', 0)]),
        node('Concat', [`${shape}/rows`, MINUS_1, `${shape}/tokens`], BIAS_ROWS_SHAPE, [int('axis', 0)]),
      );
    }
    const maskAdd = packed && nodeAt.get(f);
    const mask = maskAdd && packed.masks.get(maskAdd);
    if (maskAdd && mask) {
      // scores + mask becomes scores + bias, the scores seen by row for the add and given back their shape.
      const scores = maskAdd.inputs.find((i) => i !== mask)!;
      const out = maskAdd.outputs[0]!;
      graph.push(
        node('Shape', [scores], `${out}/scores_shape`),
        node('Reshape', [scores, BIAS_ROWS_SHAPE], `${out}/by_row`),
        node('Add', [`${out}/by_row`, PACKED_INPUTS.bias], `${out}/biased`),
        node('Reshape', [`${out}/biased`, `${out}/scores_shape`], out),
      );
      continue;
    }
    if (f === firstPicker.field) {
      // Past every entry's producer and the positions': every region node is an ancestor of the states read here.
      graph.push(...prelude);
      for (const [entry, axis] of cut.entries) graph.push(...selectAt(entry, axis, rename.get(entry)!));
      for (const n of cut.region) graph.push(n.inputs.some((i) => rename.has(i)) ? renameInputs(n, rename) : asIs(n.field));
    }
    const nodeRename = f === cut.pick.field && pickRename.size ? pickRename : packedRenames.get(f);
    if (nodeRename) {
      graph.push(renameInputs(nodeAt.get(f)!, nodeRename));
    } else if (f.field === GRAPH_OUTPUT && dropped.has(nameOf(f))) {
      continue;
    } else if (f.field === GRAPH_VALUE_INFO && produced.has(nameOf(f))) {
      continue;
    } else {
      graph.push(asIs(f));
    }
  }
  for (const { name, dims, values } of initializers) graph.push(int64Initializer(name, dims, values));
  if (packed) {
    graph.push(
      graphInput(PACKED_INPUTS.positions, DataType.INT64, ['packed_rows', 'packed_tokens']),
      graphInput(PACKED_INPUTS.bias, packed.floatType, ['packed_rows', 1, 'packed_tokens', 'packed_tokens']),
      graphInput(PACKED_INPUTS.pick, DataType.INT64, ['packed_texts']),
    );
  }
  return g.modelFields.flatMap((f) => (f.field === MODEL_GRAPH ? nested(MODEL_GRAPH, graph) : [asIs(f)]));
}
