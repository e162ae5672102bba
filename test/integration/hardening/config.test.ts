// The hardening settings in flow.yml `with:`: defaults, validation with key
// paths, CLIPFLOW_AUTH_TOKEN, and the derived liveness threshold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_AUTH_OPEN_PATHS, DEFAULT_LIVENESS_STUCK_MS, DEFAULT_MAX_DOCS_PER_REQUEST, DEFAULT_MAX_TEXT_CHARS,
  DEFAULT_SHUTDOWN_GRACE_MS, livenessStuckMs,
} from '../../../core/flow/config.js';
import { parseFlow } from '../../../core/flow/load.js';
import { AuthGuard } from '../../../core/serve/auth.js';

const gateway = (lines: string) => parseFlow(`jtype: Flow\nwith:\n${lines}\n`, process.cwd()).gateway;

function withEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.CLIPFLOW_AUTH_TOKEN;
  if (value === undefined) delete process.env.CLIPFLOW_AUTH_TOKEN;
  else process.env.CLIPFLOW_AUTH_TOKEN = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.CLIPFLOW_AUTH_TOKEN;
    else process.env.CLIPFLOW_AUTH_TOKEN = saved;
  }
}

describe('hardening settings in flow.yml', () => {
  it('defaults let real photos and batches through', () => {
    const g = withEnv(undefined, () => gateway('  port: 0'));
    assert.equal(g.maxMessageSize, 64 * 1024 * 1024);
    assert.equal(g.maxDocsPerRequest, DEFAULT_MAX_DOCS_PER_REQUEST);
    assert.equal(g.maxTextChars, DEFAULT_MAX_TEXT_CHARS);
    assert.equal(g.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS);
    assert.deepEqual(g.authOpenPaths, DEFAULT_AUTH_OPEN_PATHS);
    assert.equal(g.authToken, undefined);
    assert.equal(g.timeout, undefined);
    assert.equal(livenessStuckMs(g), DEFAULT_LIVENESS_STUCK_MS);
  });

  it('every setting is read, and the liveness threshold follows the timeout unless set', () => {
    const g = gateway(`  max_docs_per_request: 64
  max_text_chars: 5000
  auth_token: abc
  auth_open_paths: ['/health', '/metrics']
  shutdown_grace_ms: 5000
  timeout: 1500`);
    assert.deepEqual(
      [g.maxDocsPerRequest, g.maxTextChars, g.authToken, g.authOpenPaths, g.shutdownGraceMs, livenessStuckMs(g)],
      [64, 5000, 'abc', ['/health', '/metrics'], 5000, 4500],
    );
    assert.equal(livenessStuckMs(gateway('  timeout: 1500\n  liveness_stuck_ms: 800')), 800);
  });

  it('bad values fail at load, naming the key path', () => {
    for (const [lines, message] of [
      ['  max_docs_per_request: 0', /with\.max_docs_per_request: value must be >= 1/],
      ['  max_text_chars: many', /with\.max_text_chars: expected a number|with\.max_text_chars: expected an integer/],
      ['  shutdown_grace_ms: -5', /with\.shutdown_grace_ms: value must be >= 0/],
      ['  auth_open_paths: /health', /with\.auth_open_paths: expected a list/],
      ["  auth_token: '  '", /with\.auth_token: must not be empty/],
      ['  max_doc_per_request: 5', /with\.max_doc_per_request: unknown key \(did you mean 'max_docs_per_request'\?\)/],
    ] as const) {
      assert.throws(() => withEnv(undefined, () => gateway(lines)), message, lines);
    }
  });

  it('CLIPFLOW_AUTH_TOKEN supplies the token when the file sets none; empty means unset; the file wins', () => {
    assert.equal(withEnv('from-env', () => gateway('  port: 0')).authToken, 'from-env');
    assert.equal(withEnv('', () => gateway('  port: 0')).authToken, undefined);
    assert.equal(withEnv('from-env', () => gateway('  auth_token: from-file')).authToken, 'from-file');
  });

  it('the token check: raw or Bearer, exact, constant-time over equal-length digests', () => {
    const guard = new AuthGuard('s3cret');
    for (const ok of ['s3cret', 'Bearer s3cret', 'bearer s3cret', '  s3cret  ']) assert.equal(guard.accepts(ok), true, ok);
    for (const bad of ['', 's3cre', 's3cret!', 'Basic s3cret', 'Bearer', undefined, null]) assert.equal(guard.accepts(bad), false, String(bad));
    assert.equal(guard.isOpen('/health'), true);
    assert.equal(guard.isOpen('grpc.health.v1.Health'), true);
    assert.equal(guard.isOpen('/metrics'), false);
  });
});
