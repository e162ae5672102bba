import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasProtoKey, jsonText } from '../../../../core/json/parse.js';

describe('hasProtoKey', () => {
  it('finds a "__proto__" key at any depth, however the JSON spells it', () => {
    for (const body of [
      '{"__proto__": {"polluted": true}}',
      '{"data": [{"tags": {"\\u005f_proto__": {"polluted": true}}}]}',
      '{"parameters": {"a": [[{"b": 1}, {"\\u005F\\u005Fproto\\u005F\\u005F": null}]]}}',
      '[1, "x", {"__proto__": 0}]',
    ]) assert.equal(hasProtoKey(JSON.parse(body)), true, body);
  });

  it('lets the string "__proto__" and look-alike keys through', () => {
    for (const body of [
      '{"data": [{"text": "__proto__"}, {"text": "\\"__proto__\\": 1"}]}',
      '{"tags": {"__proto__x": 1, "proto": 2, "constructor": {"prototype": 3}}}',
      '"__proto__"',
      'null',
    ]) assert.equal(hasProtoKey(JSON.parse(body)), false, body);
  });

  it('walks nesting deeper than the call stack', () => {
    const depth = 200_000;
    const body = `${'['.repeat(depth)}{"__proto__": 1}${']'.repeat(depth)}`;
    assert.equal(hasProtoKey(JSON.parse(body)), true);
    assert.equal(hasProtoKey(JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)), false);
  });
});

describe('jsonText', () => {
  it('gives the UTF-8 text of ASCII and non-ASCII bodies alike', () => {
    for (const text of ['{"blob": "iVBORw0KGgo="}', '{"text": "café ☕ 𝄞"}', '']) {
      assert.equal(jsonText(Buffer.from(text, 'utf8')), text);
    }
  });
});
