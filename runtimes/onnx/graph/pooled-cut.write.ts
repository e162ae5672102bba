import { DataType, onnxType } from './schema.js';
import { GRAPH_INITIALIZER, GRAPH_NODE, GRAPH_OUTPUT, GRAPH_VALUE_INFO, MODEL_GRAPH, NODE_INPUT, type GraphNode, type ModelGraph } from './onnx-graph.js';
import type { PooledCut } from './pooled-cut.plan.js';
import { bufferSource, lengthDelimited, nested, rawFields, stringField, valueOf, type Piece, type RawField } from './proto-fields.js';

/** Names of the tensors the cut adds. */
const INDEX_NAME = 'clipflow_pooled_token_index';
const ROWS_SHAPE_NAME = 'clipflow_pooled_rows_shape';
const SCALAR_0 = 'clipflow_pooled_scalar_0';
const SCALAR_1 = 'clipflow_pooled_scalar_1';

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

/**
 * The cut model, as pieces of new bytes and stretches of the original (see
 * proto-fields.ts): the region moved to just before the pick, with a selection
 * of the pooled token that keeps its axis (so the pick and everything after it
 * run as they were) before it reads each entry; the dropped outputs, the nodes
 * copying them out and the region's stale shape hints removed.
 */
export function applyPooledCut(g: ModelGraph, cut: PooledCut): Piece[] {
  const Node = onnxType('NodeProto');
  const ValueInfo = onnxType('ValueInfoProto');
  const rename = new Map([...cut.entries.keys()].map((name) => [name, `${name}/pooled_token`]));
  const { select } = cut;
  const node = (opType: string, input: string[], output: string, attribute: object[] = []) =>
    lengthDelimited(GRAPH_NODE, Node.encode({ name: `${output}/node`, opType, input, output: [output], attribute }).finish());
  const INT = 2;
  const INTS = 7;
  /** Selects the pooled token of `input` (token axis `axis`) into `output`, keeping the axis. */
  let select1: (input: string, axis: number, output: string) => Piece[];
  /** Nodes the selections and the pick need, written before the region. */
  const prelude: Piece[] = [];
  const pickRename = new Map<string, string>();
  const initializers: Array<{ name: string; dims: number[]; values: bigint[] }> = [];
  if ('rows' in select) {
    // The positions as [N, 1, 1] pick one token a row, keeping the axis ([N, T, w] -> [N, 1, w]).
    const rows3 = `${select.rows}/pooled_rows`;
    prelude.push(node('Reshape', [select.rows, ROWS_SHAPE_NAME], rows3));
    initializers.push({ name: ROWS_SHAPE_NAME, dims: [3], values: [0n, -1n, 1n] });
    select1 = (input, axis, output) => {
      const gather = (x: string, out: string) => node('GatherND', [x, rows3], out, [{ name: 'batch_dims', type: INT, i: 1 }]);
      if (axis === 1) return [gather(input, output)];
      // Sequence-first [T, N, w]: batch first for GatherND, then back.
      const swap = [{ name: 'perm', type: INTS, ints: [1, 0, 2] }];
      return [node('Transpose', [input], `${output}/nlw`, swap), gather(`${output}/nlw`, `${output}/n1w`), node('Transpose', [`${output}/n1w`], output, swap)];
    };
    // After the cut the pick reads one token a row: a GatherND takes token 0, a flattened Gather row n for row n.
    const fixed = `${select.pickIndices}/pooled`;
    pickRename.set(select.pickIndices, fixed);
    if (select.flattened) {
      const rows = `${select.rows}/pooled_count`;
      prelude.push(node('Shape', [select.rows], `${rows}/shape`), node('Gather', [`${rows}/shape`, SCALAR_0], rows), node('Range', [SCALAR_0, rows, SCALAR_1], fixed));
      initializers.push({ name: SCALAR_0, dims: [], values: [0n] }, { name: SCALAR_1, dims: [], values: [1n] });
    } else {
      prelude.push(node('Sub', [select.rows, select.rows], fixed));
    }
  } else {
    initializers.push({ name: INDEX_NAME, dims: [1], values: [BigInt(select.index)] });
    select1 = (input, axis, output) => [node('Gather', [input, INDEX_NAME], output, [{ name: 'axis', type: INT, i: axis }])];
  }
  const regionAt = new Map(cut.region.map((n) => [n.field, n]));
  const firstPicker = cut.pickers.reduce((a, b) => (a.index < b.index ? a : b));
  const removed = new Set(cut.droppedNodes.map((n) => n.field));
  const produced = new Set(cut.region.flatMap((n) => n.outputs));
  const dropped = new Set(cut.droppedOutputs);
  const inserted = new Set<string>();
  const nameOf = (f: RawField) => (ValueInfo.decode(valueOf(g.source, f)) as unknown as { name: string }).name;
  const asIs = (f: RawField): Piece => ({ start: f.start, end: f.end });

  const graph: Piece[] = [];
  for (const f of g.graphFields) {
    if (removed.has(f)) continue;
    if (regionAt.has(f)) continue;
    if (f === firstPicker.field) {
      // The region runs just before the first node reading its states: past every entry's producer and the positions'.
      graph.push(...prelude);
      for (const reader of cut.region) {
        for (const input of reader.inputs) {
          if (!rename.has(input) || inserted.has(input)) continue;
          inserted.add(input);
          graph.push(...select1(input, cut.entries.get(input)!, rename.get(input)!));
        }
        graph.push(reader.inputs.some((i) => rename.has(i)) ? renameInputs(reader, rename) : asIs(reader.field));
      }
    }
    if (f === cut.pick.field && pickRename.size) {
      graph.push(renameInputs(cut.pick, pickRename));
    } else if (f.field === GRAPH_OUTPUT && dropped.has(nameOf(f))) {
      continue;
    } else if (f.field === GRAPH_VALUE_INFO && produced.has(nameOf(f))) {
      continue;
    } else {
      graph.push(asIs(f));
    }
  }
  for (const { name, dims, values } of initializers) {
    const raw = Buffer.alloc(8 * values.length);
    values.forEach((v, i) => raw.writeBigInt64LE(v, 8 * i));
    graph.push(lengthDelimited(GRAPH_INITIALIZER, onnxType('TensorProto').encode({ name, dims, dataType: DataType.INT64, rawData: raw }).finish()));
  }
  return g.modelFields.flatMap((f) => (f.field === MODEL_GRAPH ? nested(MODEL_GRAPH, graph) : [asIs(f)]));
}
