/**
 * google.protobuf.Struct <-> plain JSON values, in protobufjs's object form.
 * Struct is JSON-typed: every number is a double, as in Jina.
 */
import { BadRequestError } from '../errors.js';

export interface ValueObj {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructObj;
  listValue?: { values?: ValueObj[] };
}
export interface StructObj {
  fields?: Record<string, ValueObj>;
}

export function toStruct(obj: Record<string, unknown>): StructObj {
  const fields: Record<string, ValueObj> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) fields[k] = toValue(v);
  return { fields };
}

export function toValue(v: unknown): ValueObj {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'bigint') return { numberValue: Number(v) };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (ArrayBuffer.isView(v)) return { listValue: { values: Array.from(v as unknown as ArrayLike<number>, (x) => ({ numberValue: Number(x) })) } };
  // Dates and other toJSON objects carry what JSON.stringify would, so gRPC and HTTP agree.
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return toValue((v as { toJSON(): unknown }).toJSON());
  if (typeof v === 'object') return { structValue: toStruct(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

/** A decoded Struct as a plain object; `where` names it in errors (`parameters`, `data.docs[0].tags`). */
export function fromStruct(s: StructObj | null | undefined, where = 'struct'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!s?.fields) return out;
  // protobufjs keeps a "__proto__" map key as an own key; copied by assignment below it
  // would set `out`'s prototype. Refused, as the JSON transports refuse it.
  if (Object.hasOwn(s.fields, '__proto__')) throw new BadRequestError(`${where}: the key "__proto__" is not allowed`);
  for (const [k, v] of Object.entries(s.fields)) out[k] = fromValue(v, where, `.${k}`);
  return out;
}

/**
 * A decoded Value. Its path in errors is `where` + `step`, joined only when the value
 * nests further, so a long list of numbers builds no strings.
 */
export function fromValue(v: ValueObj | null | undefined, where = 'value', step: string | number = ''): unknown {
  if (!v) return null;
  if (has(v, 'numberValue')) return v.numberValue;
  if (has(v, 'stringValue')) return v.stringValue;
  if (has(v, 'boolValue')) return v.boolValue;
  const here = typeof step === 'number' ? `${where}[${step}]` : where + step;
  if (has(v, 'structValue')) return fromStruct(v.structValue, here);
  if (has(v, 'listValue')) return (v.listValue?.values ?? []).map((item, i) => fromValue(item, here, i));
  return null;
}

function has(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k) && (o as Record<string, unknown>)[k] != null;
}
