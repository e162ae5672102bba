import { BadRequestError } from '../../core/errors.js';

/**
 * A search filter, parsed from `parameters.filter`:
 * - an object `{ "tag": value, ... }`: every named top-level tag equals its value
 *   (JSON equality: `1` matches `1.0` but not `"1"`; objects compare with sorted keys);
 * - a string (lancedb only): a where predicate over the table's columns, passed to
 *   LanceDB as the whole filter and never spliced into SQL of ours.
 */
export type TagFilter = { kind: 'tags'; equals: Array<[string, unknown]> } | { kind: 'where'; where: string };

const MAX_WHERE = 4096;

/** Validates `parameters.filter`; undefined, null and `{}` mean no filter. */
export function parseFilter(raw: unknown): TagFilter | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    const where = raw.trim();
    if (!where) return undefined;
    if (where.length > MAX_WHERE) throw new BadRequestError(`parameters.filter: a where string is limited to ${MAX_WHERE} characters`);
    return { kind: 'where', where };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BadRequestError(`parameters.filter: expected an object of tag values (e.g. {"color": "red"}) or a where string, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  const equals = Object.entries(raw as Record<string, unknown>).filter(([, v]) => v !== undefined);
  for (const [key] of equals) if (!key) throw new BadRequestError('parameters.filter: tag names must be non-empty');
  return equals.length ? { kind: 'tags', equals } : undefined;
}

/** JSON with object keys sorted at every level, so equal values have one spelling. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * One tag as a single string, `["name",value]` in canonical JSON. Both halves are
 * JSON, so no name/value pair can be spelled like another one.
 */
export function tagPair(name: string, value: unknown): string {
  return `[${JSON.stringify(name)},${canonicalJson(value)}]`;
}

/** Every top-level tag of a document as {@link tagPair} strings. */
export function tagPairs(tags: Record<string, unknown>): string[] {
  return Object.entries(tags)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => tagPair(k, v));
}

/** True when the tags satisfy an object filter (a where string cannot be evaluated here). */
export function matchesTags(tags: Record<string, unknown>, filter: TagFilter & { kind: 'tags' }): boolean {
  for (const [key, value] of filter.equals) {
    if (!Object.prototype.hasOwnProperty.call(tags, key)) return false;
    if (canonicalJson(tags[key]) !== canonicalJson(value)) return false;
  }
  return true;
}

/**
 * A SQL string literal: single quotes doubled. LanceDB's parser treats backslashes
 * literally (tested), so doubling quotes is the whole escape.
 */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `id IN ('a', 'b''c')` for a list of ids, every one escaped. */
export function sqlIdList(column: string, ids: string[]): string {
  return `${column} IN (${ids.map(sqlString).join(', ')})`;
}

/** The where clause of an object filter over a `List<Utf8>` column of {@link tagPair} strings. */
export function tagPairsWhere(column: string, filter: TagFilter & { kind: 'tags' }): string {
  return filter.equals.map(([k, v]) => `array_has(${column}, ${sqlString(tagPair(k, v))})`).join(' AND ');
}
