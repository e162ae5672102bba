/**
 * Several texts end to end in one row of a text tower (see
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

/** First-fit decreasing of `order` (longest first) into `count` rows of `tokens`; undefined when they do not fit. */
function firstFit(lengths: ArrayLike<number>, order: number[], count: number, tokens: number): number[][] | undefined {
  const rows: number[][] = Array.from({ length: count }, () => []);
  const used = new Array<number>(count).fill(0);
  for (const i of order) {
    const row = used.findIndex((u) => u + lengths[i]! <= tokens);
    if (row < 0) return undefined;
    rows[row]!.push(i);
    used[row] += lengths[i]!;
  }
  return rows;
}

/**
 * Packs texts of the given token counts into rows. A fixed-length graph takes
 * rows of its length, as few as fit. Otherwise the row length is chosen with the
 * row count to minimise the padded slots (rows x length), weighted for the
 * attention a longer row costs; no row is longer than `maxTokens`.
 */
export function planPackedRows(lengths: ArrayLike<number>, maxTokens: number, fixedLength?: number): PackedLayout {
  const n = lengths.length;
  if (n === 0) return { rows: [], tokens: fixedLength ?? 0 };
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const longest = lengths[order[0]!]!;
  const limit = fixedLength ?? maxTokens;
  if (longest > limit) throw new RangeError(`a text of ${longest} tokens does not fit a row of ${limit}`);
  let total = 0;
  for (let i = 0; i < n; i++) total += lengths[i]!;
  const fewest = Math.ceil(total / limit);
  if (fixedLength !== undefined) {
    for (let count = fewest; ; count++) {
      const rows = firstFit(lengths, order, count, fixedLength);
      if (rows) return { rows: rows.filter((r) => r.length), tokens: fixedLength };
    }
  }
  let best: (PackedLayout & { cost: number }) | undefined;
  // A few row counts past the fewest (more rows only help when the texts pack badly); n rows always fit.
  for (let count = fewest; count <= n && !(best && count > fewest + 4); count++) {
    for (let tokens = Math.max(longest, Math.ceil(total / count)); tokens <= maxTokens; tokens++) {
      const cost = count * tokens * (1 + tokens * ATTENTION_PER_TOKEN);
      if (best && cost >= best.cost) break;
      const rows = firstFit(lengths, order, count, tokens);
      if (rows) {
        best = { rows, tokens, cost };
        break;
      }
    }
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
 * says. Each token sees the tokens of its own text up to itself; a row's unused
 * tail sees only itself, so it stays finite and no text reads it. `pick[i]` is
 * the flat position (row * tokens + offset) of text i's last token, its EOT.
 */
export function packedFeeds(texts: ArrayLike<number>[], layout: PackedLayout): PackedFeeds {
  const { rows, tokens } = layout;
  const r = rows.length;
  const ids = new Int32Array(r * tokens);
  const positions = new Int32Array(r * tokens);
  const bias = new Float32Array(r * tokens * tokens).fill(-Infinity);
  const pick = new Int32Array(texts.length);
  rows.forEach((members, row) => {
    const base = row * tokens;
    let offset = 0;
    for (const i of members) {
      const text = texts[i]!;
      ids.set(Array.from(text), base + offset);
      for (let j = 0; j < text.length; j++) {
        positions[base + offset + j] = j;
        const line = (base + offset + j) * tokens;
        bias.fill(0, line + offset, line + offset + j + 1);
      }
      pick[i] = base + offset + text.length - 1;
      offset += text.length;
    }
    for (let j = offset; j < tokens; j++) bias[(base + j) * tokens + j] = 0;
  });
  return {
    ids: { data: ids, dims: [r, tokens] },
    mask: { data: new Int32Array(r * tokens).fill(1), dims: [r, tokens] },
    positions: { data: positions, dims: [r, tokens] },
    bias: { data: bias, dims: [r, 1, tokens, tokens] },
    pick: { data: pick, dims: [texts.length] },
  };
}
