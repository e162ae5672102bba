/**
 * Several texts in one row of a text tower, sharing their common prefixes (see
 * SessionOptions.packedTexts): where each text goes, and the feeds that tell
 * the graph. Runtime-neutral: executors use it to feed a packed session, and
 * the ONNX loader to check one.
 */
import type { HostTensor } from './runtime.js';

/** Names of the inputs a packed text graph takes besides its ids and mask. */
export const PACKED_INPUTS = { positions: 'clipflow_position_ids', bias: 'clipflow_attention_bias', pick: 'clipflow_pick' } as const;

/** Where packed texts go: the texts (by index) of each row, and the row length. */
export interface PackedLayout {
  rows: number[][];
  tokens: number;
}

/**
 * Price of a row's attention against its token-wise work, per token of row
 * length: a ViT-B/32 text layer spends 12 w^2 multiply-adds a token on its
 * matrices and about 2 T w on attention over a row of T, so T / 3072 at w = 512.
 * Taken larger, so that ties go to shorter rows.
 */
const ATTENTION_PER_TOKEN = 1 / 1024;

/** How many leading tokens `a` and `b` share. */
function sharedPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Text indices ordered by their tokens, so texts sharing a prefix sit next to each other. */
export function byTokens(texts: ArrayLike<number>[]): number[] {
  return texts.map((_, i) => i).sort((a, b) => {
    const [x, y] = [texts[a]!, texts[b]!];
    const k = sharedPrefix(x, y);
    if (k < x.length && k < y.length) return x[k]! - y[k]!;
    return x.length - y.length || a - b;
  });
}

/**
 * Packs texts (each its token ids, SOT to EOT) into rows. Texts in one row that
 * start alike share their common prefix's slots: in a causal tower a token's
 * states depend only on the tokens before it, so a shared prefix is the same
 * for each text that has it (every text has SOT; prompts such as "a photo of a
 * ..." have more). Rows take runs of texts in token order, as many as fit.
 * A fixed-length graph takes rows of its length. Otherwise the row length is
 * chosen to minimise the slots (rows x length), weighted for the attention a
 * longer row costs; no row is longer than `maxTokens`.
 */
export function planPackedRows(texts: ArrayLike<number>[], maxTokens: number, fixedLength?: number): PackedLayout {
  const n = texts.length;
  if (n === 0) return { rows: [], tokens: fixedLength ?? 0 };
  const order = byTokens(texts);
  // The slots each text adds after the one before it in that order.
  const adds = order.map((t, k) => texts[t]!.length - (k === 0 ? 0 : sharedPrefix(texts[order[k - 1]!]!, texts[t]!)));
  const longest = Math.max(...texts.map((t) => t.length));
  const limit = fixedLength ?? maxTokens;
  if (longest > limit) throw new RangeError(`a text of ${longest} tokens does not fit a row of ${limit}`);
  // Greedy runs in token order: the fewest rows of at most `tokens` slots.
  const fill = (tokens: number) => {
    const rows: number[][] = [];
    let used = tokens + 1;
    let widest = 0;
    order.forEach((t, k) => {
      if (used + adds[k]! > tokens) {
        rows.push([]);
        used = 0;
      }
      used += rows.at(-1)!.length ? adds[k]! : texts[t]!.length;
      rows.at(-1)!.push(t);
      widest = Math.max(widest, used);
    });
    return { rows, widest };
  };
  if (fixedLength !== undefined) return { rows: fill(fixedLength).rows, tokens: fixedLength };
  let best: (PackedLayout & { cost: number }) | undefined;
  for (let tokens = longest; tokens <= maxTokens; tokens++) {
    const { rows, widest } = fill(tokens);
    const cost = rows.length * widest * (1 + widest * ATTENTION_PER_TOKEN);
    if (!best || cost < best.cost) best = { rows, tokens: widest, cost };
  }
  return { rows: best!.rows, tokens: best!.tokens };
}

/** A packed run's feeds; `pick` gives the texts' embeddings in input order. */
export interface PackedFeeds {
  ids: HostTensor;
  /** All ones: the packed graph reads the bias, not the mask. */
  mask: HostTensor;
  positions: HostTensor;
  bias: HostTensor;
  pick: HostTensor;
}

/**
 * The feeds for `texts` (each its token ids, SOT to EOT) laid out as `layout`
 * says. A row holds the prefix tree of its texts, one slot per distinct prefix:
 * each slot sees itself and the slots of its own prefix, at its position in its
 * text. A row's unused tail sees only itself, so it stays finite and no text
 * reads it. `pick[i]` is the flat position (row * tokens + slot) where text i
 * pools, as CLIP does (`argmax(ids)`): at the first of its largest ids, its EOT,
 * which ends the text unless the text spells an EOT out inside it.
 */
export function packedFeeds(texts: ArrayLike<number>[], layout: PackedLayout): PackedFeeds {
  const { rows, tokens } = layout;
  const r = rows.length;
  const ids = new Int32Array(r * tokens);
  const positions = new Int32Array(r * tokens);
  const bias = new Float32Array(r * tokens * tokens).fill(-Infinity);
  const pick = new Int32Array(texts.length);
  const parent = new Int32Array(tokens);
  rows.forEach((members, row) => {
    const base = row * tokens;
    // Slot of (parent slot, token): ids are below 2^20.
    const slots = new Map<number, number>();
    let used = 0;
    for (const i of members) {
      const text = texts[i]!;
      let pooled = 0;
      for (let j = 1; j < text.length; j++) if (text[j]! > text[pooled]!) pooled = j;
      let at = -1;
      for (let j = 0; j < text.length; j++) {
        const key = (at + 1) * 1_048_576 + text[j]!;
        let slot = slots.get(key);
        if (slot === undefined) {
          if (used === tokens) throw new RangeError(`row ${row}'s texts need more than ${tokens} slots`);
          slot = used++;
          slots.set(key, slot);
          ids[base + slot] = text[j]!;
          positions[base + slot] = j;
          parent[slot] = at;
          for (let a = slot; a >= 0; a = parent[a]!) bias[(base + slot) * tokens + a] = 0;
        }
        at = slot;
        if (j === pooled) pick[i] = base + slot;
      }
    }
    for (let j = used; j < tokens; j++) bias[(base + j) * tokens + j] = 0;
  });
  return {
    ids: { data: ids, dims: [r, tokens] },
    mask: { data: new Int32Array(r * tokens).fill(1), dims: [r, tokens] },
    positions: { data: positions, dims: [r, tokens] },
    bias: { data: bias, dims: [r, 1, tokens, tokens] },
    pick: { data: pick, dims: [texts.length] },
  };
}
