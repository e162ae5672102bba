import type { GraphNode, ModelGraph } from './onnx-graph.js';
import type { PooledCut } from './pooled-cut.plan.js';
import { DataType } from './schema.js';

/**
 * Packing several texts into one row of a text tower.
 *
 * Short captions padded to a common length spend most of a run on padding:
 * 32 captions of 5-12 tokens padded to 12 are a third padding. A causal text
 * tower can instead take several texts end to end in one row, if each token
 * sees only the earlier tokens of its own text and gets its position within
 * that text (and texts that start alike may share their prefix's slots:
 * runtimes/packed-texts.ts lays the rows out). Three tensors decide that, and
 * packing feeds them instead of letting the graph derive them from the row:
 * - the position embeddings added to the token embeddings become a Gather of
 *   the position table at fed positions (`clipflow_position_ids`, [R, T]);
 * - the additive mask before every softmax becomes a fed bias
 *   (`clipflow_attention_bias`, [R, 1, T, T]: 0 where a token may look, -inf
 *   elsewhere), the scores seen by row for the add, so [R, H, T, T] and
 *   torch's [R*H, T, T] both take it;
 * - the pooled pick takes fed flat positions (`clipflow_pick`, [K]: row * T +
 *   the text's EOT slot) rather than one token a row, in batch-first or
 *   sequence-first states.
 * The last block's pooled-token cut (pooled-cut.plan.ts) is where the pick is
 * moved, so a packed graph is always cut too. What the walk below cannot find
 * leaves the graph unpacked, and the loader checks a packed graph against the
 * full one on texts it packs before serving it.
 */
export interface PackedText {
  /** The graph input holding token ids. */
  ids: string;
  /** The position embeddings as the graph adds them to the token embeddings. */
  positions: string;
  /** The node adding them: it reads the fed positions' embeddings instead. */
  positionsAdd: GraphNode;
  /** The [C, w] position table. */
  table: string;
  /** Each Add of a mask to attention scores before a softmax, with the mask it adds (one shared, or one a layer). */
  masks: Map<GraphNode, string>;
  /** Float element type of the graph (the bias input's type). */
  floatType: number;
}

/** The tensors that carry data from `input` (through anything but a shape). */
function dependents(g: ModelGraph, input: string): Set<string> {
  const found = new Set([input]);
  for (const n of g.nodes) {
    if (n.op === 'Shape' || n.op === 'Size') continue;
    if (n.inputs.some((i) => found.has(i))) for (const o of n.outputs) found.add(o);
  }
  return found;
}

/** The [C, w] table that `positions` reads: itself, a Slice of its first rows, or a Gather of its rows at ids-free positions. */
function positionTable(g: ModelGraph, positions: string, producer: Map<string, GraphNode>, fromIds: Set<string>): string | undefined {
  const twoD = (name: string | undefined) => (name && g.constants.get(name)?.dims.length === 2 ? name : undefined);
  if (g.constants.has(positions)) return twoD(positions);
  const n = producer.get(positions);
  if (!n || n.domain !== '') return undefined;
  if (n.op === 'Slice') {
    const [data, starts, , axes, steps] = n.inputs;
    const from = starts ? g.constants.get(starts)?.ints : undefined;
    const on = axes ? g.constants.get(axes)?.ints : [0];
    const step = steps ? g.constants.get(steps)?.ints : [1];
    return from?.length === 1 && from[0] === 0 && on?.length === 1 && on[0] === 0 && step?.length === 1 && step[0] === 1 ? twoD(data) : undefined;
  }
  if (n.op === 'Gather' && (n.ints.get('axis')?.[0] ?? 0) === 0 && !fromIds.has(n.inputs[1]!)) return twoD(n.inputs[0]);
  return undefined;
}

/** Plans packing on a graph whose pooled-token cut is `cut`, or undefined when the graph is not a causal text tower we can show how to pack. */
export function planPackedText(g: ModelGraph, cut: PooledCut): PackedText | undefined {
  // The pick must be one token a row of batch-first states: the text tower's EOT.
  if (!('rows' in cut.select)) return undefined;
  const ids = g.inputs.includes('input_ids') ? 'input_ids' : g.inputs.find((i) => !g.constants.has(i));
  if (!ids) return undefined;
  const fromIds = dependents(g, ids);
  if (!fromIds.has(cut.select.rows)) return undefined;
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);

  // The first Add of the ids' embeddings and something not from the ids: the position embeddings.
  const positionsAdd = g.nodes.find((n) => n.op === 'Add' && n.domain === '' && n.inputs.filter((i) => fromIds.has(i)).length === 1);
  const positions = positionsAdd?.inputs.find((i) => !fromIds.has(i));
  const table = positions && positionTable(g, positions, producer, fromIds);
  if (!positionsAdd || !positions || !table) return undefined;

  // Every softmax over the states must read scores + a mask not from the ids; an unmasked one would let texts see each other.
  const softmaxes = g.nodes.filter((n) => n.op === 'Softmax' && fromIds.has(n.inputs[0]!));
  const masks = new Map<GraphNode, string>();
  for (const s of softmaxes) {
    const add = producer.get(s.inputs[0]!);
    const mask = add?.op === 'Add' && add.domain === '' ? add.inputs.find((i) => !fromIds.has(i)) : undefined;
    if (!add || !mask) return undefined;
    masks.set(add, mask);
  }
  if (masks.size === 0) return undefined;

  const floatType = g.constants.get(table)?.dataType === DataType.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT;
  return { ids, positions, positionsAdd, table, masks, floatType };
}
