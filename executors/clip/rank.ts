import type { Document } from '../../core/document/document.js';

/** CLIP's logit scale: exp(4.60517) = 100, as clip-server applies it. */
export const LOGIT_SCALE = 100;

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const denom = Math.sqrt(na) * Math.sqrt(nb);
  return denom === 0 ? 0 : dot / denom;
}

/**
 * clip-server's `/rank` scoring for one query whose matches are encoded:
 * `clip_score_cosine` = cosine(query, match); `clip_score` = softmax over the
 * query's matches of 100 x cosine; matches re-sorted by clip_score, descending.
 * Match embeddings are dropped afterwards (the caller only needs the scores).
 */
export function rankMatches(query: Document): void {
  const q = query.embedding;
  if (!q || query.matches.length === 0) return;
  const cosines = query.matches.map((m) => cosine(q, m.embedding!));
  const logits = cosines.map((c) => LOGIT_SCALE * c);
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  query.matches.forEach((m, i) => {
    m.scores.clip_score = { value: exps[i]! / sum, opName: 'softmax' };
    m.scores.clip_score_cosine = { value: cosines[i]!, opName: 'cosine' };
    delete m.embedding;
  });
  query.matches.sort((a, b) => b.scores.clip_score!.value! - a.scores.clip_score!.value!);
}
