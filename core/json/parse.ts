import { isAscii } from 'node:buffer';

/**
 * Helpers for JSON that arrives as bytes (HTTP bodies, WebSocket frames).
 */

/**
 * The text of a body already checked to be UTF-8. An ASCII body, which is what
 * base64 image requests are, is copied as latin1, which gives the same string
 * without UTF-8 decoding: 1.4 ms less for a 5.5 MB body of 32 PNGs.
 */
export function jsonText(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/**
 * Whether any object in a JSON.parse result has an own "__proto__" key. JSON.parse
 * keeps such a key, however the body spells it (`"__proto__"` or with `\u` escapes),
 * and a later Object.assign or merge would set a prototype from it. Walked without
 * recursion, as JSON.parse accepts nesting deeper than the call stack.
 */
export function hasProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) return true;
    for (const key in v) {
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return false;
}
