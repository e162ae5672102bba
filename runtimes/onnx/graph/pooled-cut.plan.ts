import type { PooledCutReport } from '../../runtime.js';
import type { GraphNode, ModelGraph } from './onnx-graph.js';

/**
 * Cutting a graph's last layers to its pooled token.
 *
 * A CLIP tower reads one token of its last hidden states (the class token of a
 * ViT) and runs every token through the last block's attention projection, its
 * MLP and norms regardless. Those ops treat each token on its own, so selecting
 * the token before them instead of after them gives the same embedding for a
 * fraction of their work (about 6% of a ViT-B/32 tower). The rewrite is generic:
 * from the op that picks the pooled token (a Gather of one constant token, or
 * one token a row: the text tower's EOT), it walks up through token-wise ops
 * whose every result feeds only that pick, and selects the token at the
 * region's inputs instead. What the walk cannot show token-wise stays as it
 * was, and the loader (pooled-cut.open.ts) still checks the cut graph against
 * the original before serving it.
 */

/**
 * Which token a pick takes: one constant index, or a tensor of one position a
 * row ([N] or [N, 1]). A per-row pick is a GatherND with batch_dims 1 reading
 * the positions (`pickIndices`, turned to 0 by the cut), or, as torch.onnx
 * exports `x[arange(N), argmax(ids)]`, a Gather of the flattened states at
 * argmax + row offsets (`pickIndices`, turned to arange(N)).
 */
export type TokenSelect = { index: number } | { rows: string; pickIndices: string; flattened: boolean };

/** A planned cut. */
export interface PooledCut {
  /** The node that picks the pooled token. */
  pick: GraphNode;
  /** The nodes reading the states it picks from (the pick, and for a flattened pick its Flatten and Shapes): the region runs before the first. */
  pickers: GraphNode[];
  /** Token axis, and the token it picks. */
  axis: number;
  select: TokenSelect;
  /** Nodes that will run on the one token. */
  region: GraphNode[];
  /** Tensors entering the region, each with its token axis: the token is selected there. */
  entries: Map<string, number>;
  /** Nodes that only copied a region state out as a graph output: removed with it. */
  droppedNodes: GraphNode[];
  /** Graph outputs holding per-token states of the region, dropped by the cut. */
  droppedOutputs: string[];
}

const UNARY = new Set(['Identity', 'Cast', 'Sigmoid', 'Tanh', 'Relu', 'Erf', 'Sqrt', 'Reciprocal', 'Neg', 'Exp', 'Abs', 'Softplus', 'LeakyRelu', 'HardSigmoid', 'Gelu']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin']);
/** ORT's fused token-wise ops, found in graphs exported through its optimizer. */
const MS_TOKENWISE = new Set(['FastGelu', 'BiasGelu', 'QuickGelu', 'Gelu', 'SkipLayerNormalization']);

/**
 * The token axis of each input of `n` when its outputs are read at token axis
 * `axis`, or undefined when `n` mixes tokens (or cannot be shown not to).
 * Constant inputs must not vary along any axis but the last (biases, norms'
 * scales, scalars); dynamic ones get the same selection.
 */
function inputAxes(n: GraphNode, axis: number, g: ModelGraph): Map<string, number> | undefined {
  const dynamic = new Map<string, number>();
  const constantOk = (name: string) => {
    const c = g.constants.get(name);
    return !!c && c.dims.slice(0, -1).every((d) => d === 1);
  };
  const elementwise = (inputs: string[]) => {
    for (const name of inputs) {
      if (!name) continue;
      if (g.constants.has(name)) {
        if (!constantOk(name)) return undefined;
      } else dynamic.set(name, axis);
    }
    return dynamic;
  };
  if (n.domain === 'com.microsoft') return MS_TOKENWISE.has(n.op) ? elementwise(n.inputs) : undefined;
  if (n.domain !== '') return undefined;
  if (UNARY.has(n.op) || BINARY.has(n.op)) return elementwise(n.inputs);
  switch (n.op) {
    case 'MatMul': {
      // x @ W with a constant 2-D W works on each row of x alone.
      const [x, w] = n.inputs;
      if (!x || !w || g.constants.has(x) || g.constants.get(w)?.dims.length !== 2) return undefined;
      return dynamic.set(x, axis);
    }
    case 'LayerNormalization': {
      // Normalises the axes from `axis` on: the token axis must come before them.
      const from = n.ints.get('axis')?.[0] ?? -1;
      if (from >= 0 && from <= axis) return undefined;
      return elementwise(n.inputs);
    }
    case 'Transpose': {
      const perm = n.ints.get('perm');
      if (!perm || axis >= perm.length) return undefined;
      return dynamic.set(n.inputs[0]!, perm[axis]!);
    }
    default: {
      if (!REDUCE.has(n.op)) return undefined;
      // Reduces over named axes other than the token's (opset 18 moved them to an input).
      const axes = n.ints.get('axes') ?? (n.inputs[1] ? g.constants.get(n.inputs[1])?.ints : undefined);
      if (!axes?.length || axes.some((a) => a >= 0 && a <= axis)) return undefined;
      return dynamic.set(n.inputs[0]!, axis);
    }
  }
}

/** The nodes reading each tensor. */
type Readers = Map<string, GraphNode[]>;

/** Plans the cut below one pick of the pooled token, or undefined when nothing would move. */
function planFrom(pick: GraphNode, states: string, pickers: GraphNode[], axis: number, select: TokenSelect, g: ModelGraph, consumers: Readers, dropStates: boolean): PooledCut | undefined {
  const graphOutputs = new Set(g.outputs);
  const unreadOutput = (o: string) => graphOutputs.has(o) && !consumers.get(o)?.length;
  const region = new Set<GraphNode>();
  const picking = new Set(pickers);
  // Nodes that only copy a tensor out as a graph output (an Identity naming it last_hidden_state).
  const stateCopies = new Set(dropStates ? g.nodes.filter((n) => !picking.has(n) && n.outputs.every(unreadOutput)) : []);
  // The token axis each tensor is read at, by the pick or the region; NaN when readers disagree.
  const readAt = new Map<string, number>([[states, axis]]);
  const inside = (n: GraphNode) => picking.has(n) || region.has(n) || stateCopies.has(n);
  const first = Math.min(...pickers.map((n) => n.index));

  // Backwards in topological order: every reader of a node is settled before the node.
  for (let i = first - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.op === 'Constant' || stateCopies.has(n)) continue;
    let outAxis: number | undefined;
    let used = false;
    let ok = true;
    for (const out of n.outputs) {
      const readers = consumers.get(out) ?? [];
      if (graphOutputs.has(out) && !dropStates) ok = false;
      if (readers.length === 0) continue;
      used = true;
      const at = readAt.get(out);
      if (!readers.every(inside) || at === undefined || Number.isNaN(at) || (outAxis !== undefined && outAxis !== at)) ok = false;
      outAxis = at;
    }
    if (!ok || !used || outAxis === undefined) continue;
    const axes = inputAxes(n, outAxis, g);
    if (!axes) continue;
    region.add(n);
    for (const [name, a] of axes) readAt.set(name, readAt.has(name) && readAt.get(name) !== a ? NaN : a);
  }
  if (![...region].some((n) => n.op === 'MatMul')) return undefined;

  const produced = new Set([...region].flatMap((n) => n.outputs));
  // A copy of a region state goes with its output; one of an untouched tensor stays; one of both would change.
  const dropped: GraphNode[] = [];
  for (const n of stateCopies) {
    const fromRegion = n.inputs.filter((name) => produced.has(name)).length;
    if (fromRegion === 0) continue;
    if (fromRegion !== n.inputs.filter((name) => name && !g.constants.has(name)).length) return undefined;
    dropped.push(n);
  }
  const entries = new Map<string, number>();
  for (const n of region) {
    for (const name of n.inputs) {
      if (!name || produced.has(name) || g.constants.has(name)) continue;
      const a = readAt.get(name)!;
      // A tensor read at two token axes cannot be cut once; per-row picks select on axis 1 ([N, T, w]) or 0 ([T, N, w]).
      if (Number.isNaN(a) || ('rows' in select && a > 1)) return undefined;
      entries.set(name, a);
    }
  }
  const droppedOutputs = g.outputs.filter((o) => produced.has(o) || dropped.some((n) => n.outputs.includes(o)));
  const ordered = [...region].sort((a, b) => a.index - b.index);
  return { pick, pickers, axis, select, region: ordered, entries, droppedNodes: dropped, droppedOutputs };
}

/**
 * Finds the cut for a graph: below the last pick of the pooled token whose
 * region holds matrix work. A pick is a Gather of one constant token (index 0
 * or -1, which stay valid on a one-token axis) or a GatherND with batch_dims 1
 * (one token a row, whose indices the cut turns to 0). With `dropStates`,
 * graph outputs produced only inside the region (per-token states such as
 * `last_hidden_state`) are dropped rather than blocking the cut.
 */
export function planPooledCut(g: ModelGraph, dropStates: boolean): PooledCut | undefined {
  const consumers: Readers = new Map();
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    for (const o of n.outputs) producer.set(o, n);
  }
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    const [data, indices] = n.inputs;
    if (n.domain !== '' || !data || !indices || g.constants.has(data)) continue;
    let cut: PooledCut | undefined;
    const plan = (states: string, pickers: GraphNode[], axis: number, select: TokenSelect) => planFrom(n, states, pickers, axis, select, g, consumers, dropStates);
    if (n.op === 'Gather' && !g.constants.has(indices)) {
      // torch.onnx's x[arange(N), argmax(ids)]: Gather(Flatten(x, axis 2), argmax + row offsets); x's Shapes only size the offsets.
      const flatten = producer.get(data);
      const positions = producer.get(indices)?.op === 'Add' ? producer.get(indices)!.inputs.find((x) => producer.get(x)?.op === 'ArgMax') : undefined;
      const states = flatten?.inputs[0];
      if (flatten?.op === 'Flatten' && flatten.ints.get('axis')?.[0] === 2 && (n.ints.get('axis')?.[0] ?? 0) === 0 && positions && states) {
        const shapes = (consumers.get(states) ?? []).filter((r) => r.op === 'Shape');
        cut = plan(states, [flatten, ...shapes, n], 1, { rows: positions, pickIndices: indices, flattened: true });
      }
    } else if (n.op === 'Gather') {
      const idx = g.constants.get(indices);
      const index = idx?.dims.length === 0 && idx.ints?.length === 1 ? idx.ints[0]! : undefined;
      const axis = n.ints.get('axis')?.[0] ?? 0;
      if ((index === 0 || index === -1) && axis >= 0) cut = plan(data, [n], axis, { index });
    } else if (n.op === 'GatherND' && n.ints.get('batch_dims')?.[0] === 1 && !g.constants.has(indices)) {
      cut = plan(data, [n], 1, { rows: indices, pickIndices: indices, flattened: false });
    }
    if (cut) return cut;
  }
  return undefined;
}

/** The load report of a cut that serves. */
export function appliedReport(cut: PooledCut): PooledCutReport {
  return { applied: true, matMuls: cut.region.filter((n) => n.op === 'MatMul').length, nodes: cut.region.length, droppedOutputs: cut.droppedOutputs };
}
