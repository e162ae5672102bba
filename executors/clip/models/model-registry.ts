/**
 * Name lookup over the model table: canonical names, clip-server's legacy
 * aliases, case-insensitive matching, "did you mean" suggestions, and a hook to
 * register extra entries (a bundled local model, a test model).
 */
import { BUILTIN_MODELS, type ModelEntry } from './model-table.js';
import { UnknownModelError } from './model-errors.js';

const entries = new Map<string, ModelEntry>();
/** Lower-cased canonical names and aliases → canonical name. */
const index = new Map<string, string>();

function key(name: string): string {
  return name.trim().toLowerCase();
}

function add(entry: ModelEntry, replace: boolean): void {
  const names = [entry.name, ...entry.aliases];
  for (const n of names) {
    const owner = index.get(key(n));
    if (owner !== undefined && owner !== entry.name && !replace) {
      throw new Error(`model name "${n}" is already registered for ${owner}`);
    }
  }
  entries.set(entry.name, entry);
  for (const n of names) index.set(key(n), entry.name);
}

for (const entry of BUILTIN_MODELS) add(entry, false);

/**
 * Adds a model to the registry, e.g. a bundled model whose files ship inside the
 * package (`source: { kind: 'bundled', dir }`). Throws if one of its names
 * already belongs to another entry unless `replace` is set.
 */
export function registerModel(entry: ModelEntry, options: { replace?: boolean } = {}): void {
  add(Object.freeze({ ...entry }), options.replace ?? false);
}

/** The entry for a name or alias (case-insensitive), or undefined. */
export function findModel(name: string): ModelEntry | undefined {
  const canonical = index.get(key(name));
  return canonical === undefined ? undefined : entries.get(canonical);
}

/**
 * The entry for a name or alias; throws {@link UnknownModelError} naming the
 * closest known names otherwise.
 */
export function getModel(name: string): ModelEntry {
  const entry = findModel(name);
  if (!entry) throw new UnknownModelError(name, suggestModels(name));
  return entry;
}

/** Every registered entry (canonical names only), in registration order. */
export function listModels(): ModelEntry[] {
  return [...entries.values()];
}

/** Every name that selects a model: canonical names and aliases. */
export function knownModelNames(): string[] {
  return listModels().flatMap((e) => [e.name, ...e.aliases]);
}

/** Levenshtein distance, two rows at a time. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Up to `limit` known names close to `name`: by edit distance (tolerance grows
 * with length), then by shared prefix so `ViT-B-32` still suggests
 * `ViT-B-32::openai`. Aliases resolve to their canonical names.
 */
export function suggestModels(name: string, limit = 3): string[] {
  const wanted = key(name);
  if (wanted === '') return [];
  const scored: Array<{ name: string; score: number }> = [];
  for (const known of knownModelNames()) {
    const k = key(known);
    const canonical = index.get(k)!;
    let score = distance(wanted, k);
    // A bare architecture ("vit-b-32") or a name missing its tag: prefer the entries it starts.
    if (k.startsWith(wanted) || wanted.startsWith(k)) score = Math.min(score, 1 + Math.abs(k.length - wanted.length) / 100);
    const tolerance = Math.max(2, Math.floor(wanted.length / 4));
    if (score <= tolerance) scored.push({ name: canonical, score });
  }
  scored.sort((a, b) => a.score - b.score);
  // Only names about as close as the best one: one typo away should not also suggest two typos away.
  const best = scored[0]?.score ?? 0;
  return [...new Set(scored.filter((s) => s.score < best + 1).map((s) => s.name))].slice(0, limit);
}

/**
 * The per-model cache sub-folder name, as clip-server derives it (`/` and `::`
 * become `-`): `ViT-B-32::openai` → `ViT-B-32-openai`.
 */
export function cacheFolderName(entry: ModelEntry): string {
  return entry.name.replaceAll('::', '-').replaceAll('/', '-');
}
