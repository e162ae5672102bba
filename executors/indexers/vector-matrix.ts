import type { StoredDoc } from './index-backend.js';

/** Everything of a stored document except its vector. */
interface RowMeta {
  id: string;
  text?: string;
  uri?: string;
  mimeType?: string;
  tags: Record<string, unknown>;
}

/** A row and its cosine distance to a query. */
export interface RowHit {
  row: number;
  distance: number;
}

/**
 * Stored vectors as one contiguous Float32Array of L2-normalised rows, so a
 * query is one pass of dot products. The norms are kept to give back the
 * embedding as it was indexed. Grows by doubling; deletes move the last row into
 * the hole, so rows stay dense and a scan never skips tombstones.
 */
export class VectorMatrix {
  private data: Float32Array;
  private norms: Float32Array;
  private readonly metas: RowMeta[] = [];
  private readonly rowOf = new Map<string, number>();

  constructor(readonly dim: number, capacity = 1024) {
    this.data = new Float32Array(capacity * dim);
    this.norms = new Float32Array(capacity);
  }

  get size(): number {
    return this.metas.length;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Stores a document, replacing the one with the same id. */
  put(doc: StoredDoc & { embedding: Float32Array }): void {
    const v = doc.embedding;
    if (v.length !== this.dim) throw new RangeError(`expected a ${this.dim}-d vector for ${doc.id}, got ${v.length}`);
    let row = this.rowOf.get(doc.id);
    if (row === undefined) {
      row = this.metas.length;
      this.ensureCapacity(row + 1);
      this.rowOf.set(doc.id, row);
      this.metas.push(metaOf(doc));
    } else {
      this.metas[row] = metaOf(doc);
    }
    let sq = 0;
    for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
    const norm = Math.sqrt(sq);
    this.norms[row] = norm;
    const base = row * this.dim;
    // A zero vector stays zero: cosine 0 (distance 1) to everything, like docarray.
    const scale = norm > 0 ? 1 / norm : 0;
    for (let i = 0; i < v.length; i++) this.data[base + i] = v[i]! * scale;
  }

  /** Removes a document; false when the id is not stored. */
  remove(id: string): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.metas.length - 1;
    if (row !== last) {
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.norms[row] = this.norms[last]!;
      const moved = this.metas[last]!;
      this.metas[row] = moved;
      this.rowOf.set(moved.id, row);
    }
    this.metas.pop();
    this.rowOf.delete(id);
    return true;
  }

  /** The stored document of a row; the embedding (as indexed) only when asked for. */
  doc(row: number, withEmbedding: boolean): StoredDoc {
    const m = this.metas[row]!;
    const out: StoredDoc = { ...m, tags: { ...m.tags } };
    if (withEmbedding) {
      const norm = this.norms[row]!;
      const base = row * this.dim;
      const e = new Float32Array(this.dim);
      for (let i = 0; i < this.dim; i++) e[i] = this.data[base + i]! * norm;
      out.embedding = e;
    }
    return out;
  }

  /** Tags of a row, for filtering without copying. */
  tagsOf(row: number): Record<string, unknown> {
    return this.metas[row]!.tags;
  }

  idOf(row: number): string {
    return this.metas[row]!.id;
  }

  /**
   * The `limit` rows nearest to `query` by cosine, exactly (every row is scored),
   * ascending by distance; ties go to the smaller id so results are deterministic.
   */
  search(query: Float32Array, limit: number, accept?: (row: number) => boolean): RowHit[] {
    if (query.length !== this.dim) throw new RangeError(`expected a ${this.dim}-d query, got ${query.length}`);
    let sq = 0;
    for (let i = 0; i < query.length; i++) sq += query[i]! * query[i]!;
    const q = new Float64Array(query.length);
    const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let i = 0; i < q.length; i++) q[i] = query[i]! * scale;
    const heap = new TopK(Math.min(limit, this.size), (a, b) => this.idOf(a) < this.idOf(b));
    const { data, dim } = this;
    for (let row = 0, base = 0; row < this.metas.length; row++, base += dim) {
      if (accept && !accept(row)) continue;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += data[base + i]! * q[i]!;
      heap.offer(row, dot);
    }
    return heap.drain().map(({ row, score }) => ({ row, distance: 1 - score }));
  }

  private ensureCapacity(rows: number): void {
    if (rows <= this.norms.length) return;
    let capacity = Math.max(1, this.norms.length);
    while (capacity < rows) capacity *= 2;
    const data = new Float32Array(capacity * this.dim);
    data.set(this.data.subarray(0, this.metas.length * this.dim));
    const norms = new Float32Array(capacity);
    norms.set(this.norms.subarray(0, this.metas.length));
    this.data = data;
    this.norms = norms;
  }
}

function metaOf(doc: StoredDoc): RowMeta {
  const m: RowMeta = { id: doc.id, tags: { ...doc.tags } };
  if (doc.text !== undefined) m.text = doc.text;
  if (doc.uri !== undefined) m.uri = doc.uri;
  if (doc.mimeType !== undefined) m.mimeType = doc.mimeType;
  return m;
}

/**
 * Keeps the k highest scores seen, as a binary min-heap (the root is the one to
 * evict). `before(a, b)` breaks exact ties: true when row a should rank first.
 */
class TopK {
  private readonly rows: number[] = [];
  private readonly scores: number[] = [];

  constructor(private readonly k: number, private readonly before: (a: number, b: number) => boolean) {}

  /** True when (ra, sa) ranks below (rb, sb), i.e. belongs nearer the heap's root. */
  private worse(ra: number, sa: number, rb: number, sb: number): boolean {
    return sa < sb || (sa === sb && this.before(rb, ra));
  }

  offer(row: number, score: number): void {
    if (this.k === 0) return;
    const { rows, scores } = this;
    if (rows.length < this.k) {
      rows.push(row);
      scores.push(score);
      let i = rows.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(rows[i]!, scores[i]!, rows[p]!, scores[p]!)) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    if (!this.worse(rows[0]!, scores[0]!, row, score)) return;
    rows[0] = row;
    scores[0] = score;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < rows.length && this.worse(rows[l]!, scores[l]!, rows[m]!, scores[m]!)) m = l;
      if (r < rows.length && this.worse(rows[r]!, scores[r]!, rows[m]!, scores[m]!)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  /** Every kept entry, best first. */
  drain(): Array<{ row: number; score: number }> {
    const out = this.rows.map((row, i) => ({ row, score: this.scores[i]! }));
    return out.sort((a, b) => (this.worse(a.row, a.score, b.row, b.score) ? 1 : this.worse(b.row, b.score, a.row, a.score) ? -1 : 0));
  }

  private swap(i: number, j: number): void {
    [this.rows[i], this.rows[j]] = [this.rows[j]!, this.rows[i]!];
    [this.scores[i], this.scores[j]] = [this.scores[j]!, this.scores[i]!];
  }
}
