// Assertions shared by the bad-input tests: what "the caller's mistake, named"
// looks like on each protocol, and what must never appear in any reply.
import assert from 'node:assert/strict';
import type { Proto } from './harness.js';
import type { Seen } from './wire.js';

const STACK = /\n\s+at |\.[cm]?[jt]s:\d+:\d+/;

/** The reply carries no stack trace or source location. */
export function assertNoLeak(seen: Seen): void {
  if (!seen.ok) assert.doesNotMatch(seen.message, STACK, `stack trace leaked: ${seen.message}`);
}

/**
 * A document the caller got wrong, reported in-band (Jina's header.status ERROR):
 * HTTP 400 with the Jina body, gRPC OK with status ERROR (BadRequestError),
 * WebSocket a reply with status ERROR. The message names the document and why.
 */
export function assertDocumentRefused(protocol: Proto, seen: Seen, doc: RegExp, reason: RegExp): void {
  assert.equal(seen.ok, false, `${protocol}: expected a refusal, got ${JSON.stringify(seen).slice(0, 200)}`);
  if (seen.ok) return;
  assert.equal(seen.via, 'in-band', `${protocol}: ${JSON.stringify(seen)}`);
  assert.equal(seen.code, protocol === 'http' ? 400 : 'BadRequestError', `${protocol}: ${seen.message}`);
  assert.match(seen.message, doc);
  assert.match(seen.message, reason);
  assertNoLeak(seen);
}

/** Expected outcome of a request refused before any executor ran, per protocol. */
export interface Refusal {
  via: 'in-band' | 'status' | 'close';
  code: string | number;
}

/** Asserts a refusal's channel, code and message (and that nothing leaked). */
export function assertRefused(protocol: Proto, seen: Seen, expected: Refusal, message: RegExp): void {
  assert.equal(seen.ok, false, `${protocol}: expected a refusal, got ${JSON.stringify(seen).slice(0, 200)}`);
  if (seen.ok) return;
  assert.deepEqual({ via: seen.via, code: seen.code }, expected, `${protocol}: ${seen.message}`);
  assert.match(seen.message, message, protocol);
  assertNoLeak(seen);
}
