import type { Document } from '../document/document.js';
import type { DocumentArray } from '../document/document-array.js';
import { BadRequestError, PayloadTooLargeError } from '../errors.js';
import { DEFAULT_MAX_DOCS_PER_REQUEST, DEFAULT_MAX_TEXT_CHARS, type GatewayConfig } from './config.js';

/** Per-request limits the gateway enforces before any executor runs. */
export interface RequestLimits {
  /** Documents per request, matches and chunks included. */
  maxDocs: number;
  /** Code points in one document's text. */
  maxTextChars: number;
}

/** The limits a gateway config sets (defaults for hand-built configs). */
export function limitsOf(gateway: GatewayConfig): RequestLimits {
  return {
    maxDocs: gateway.maxDocsPerRequest ?? DEFAULT_MAX_DOCS_PER_REQUEST,
    maxTextChars: gateway.maxTextChars ?? DEFAULT_MAX_TEXT_CHARS,
  };
}

/** Code points in `text`, counting only as far as needed to know it is over `limit`. */
function codePointsOver(text: string, limit: number): number | undefined {
  // UTF-16 length >= code points, so a short string is certainly within the limit.
  if (text.length <= limit) return undefined;
  let n = 0;
  for (const _ of text) n++;
  return n > limit ? n : undefined;
}

/**
 * Refuses a request over the limits, before any executor sees it:
 * too many documents is PAYLOAD_TOO_LARGE (413 / RESOURCE_EXHAUSTED, like an
 * oversize message: the request is too big, not wrong); a text over the limit is
 * the caller's error (400 / INVALID_ARGUMENT) naming the document's id, its index
 * in the request and, for a nested document, where it sits.
 *
 * The walk is iterative so a deeply nested request cannot exhaust the stack here.
 */
export function checkRequestLimits(docs: DocumentArray, limits: RequestLimits): void {
  let count = 0;
  const stack: Array<{ doc: Document; root: number; path: string }> = [];
  for (let i = docs.length - 1; i >= 0; i--) stack.push({ doc: docs[i]!, root: i, path: '' });
  while (stack.length) {
    const { doc, root, path } = stack.pop()!;
    if (++count > limits.maxDocs) {
      throw new PayloadTooLargeError(
        `request has more than ${limits.maxDocs} documents (matches and chunks included), over the limit (max_docs_per_request); split it into smaller requests`,
      );
    }
    if (doc.text) {
      const chars = codePointsOver(doc.text, limits.maxTextChars);
      if (chars !== undefined) {
        const where = path ? `index ${root}, ${path}` : `index ${root}`;
        throw new BadRequestError(`document ${doc.id} (${where}): text is ${chars} characters, over the limit of ${limits.maxTextChars} (max_text_chars)`);
      }
    }
    for (const [field, list] of [['chunks', doc.chunks], ['matches', doc.matches]] as const) {
      for (let j = list.length - 1; j >= 0; j--) stack.push({ doc: list[j]!, root, path: `${path ? `${path}.` : ''}${field}[${j}]` });
    }
  }
}
