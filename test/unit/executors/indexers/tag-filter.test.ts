import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../../../../core/errors.js';
import { canonicalJson, matchesTags, parseFilter, sqlIdList, sqlString, tagPair, tagPairsWhere } from '../../../../executors/indexers/tag-filter.js';

describe('tag filters', () => {
  it('parses objects and where strings; empty means none; other shapes are the caller\'s error', () => {
    assert.equal(parseFilter(undefined), undefined);
    assert.equal(parseFilter({}), undefined);
    assert.equal(parseFilter('  '), undefined);
    assert.deepEqual(parseFilter({ a: 1, b: 'x' }), { kind: 'tags', equals: [['a', 1], ['b', 'x']] });
    assert.deepEqual(parseFilter(" text = 'a' "), { kind: 'where', where: "text = 'a'" });
    assert.throws(() => parseFilter([1]), BadRequestError);
    assert.throws(() => parseFilter(3), /parameters\.filter/);
    assert.throws(() => parseFilter('x'.repeat(5000)), /4096/);
  });

  it('matches tags by JSON equality, objects with sorted keys', () => {
    const f = parseFilter({ n: 1, o: { b: 2, a: 1 }, s: 'red' }) as Extract<ReturnType<typeof parseFilter>, { kind: 'tags' }>;
    assert.equal(matchesTags({ n: 1.0, o: { a: 1, b: 2 }, s: 'red', extra: true }, f), true);
    assert.equal(matchesTags({ n: '1', o: { a: 1, b: 2 }, s: 'red' }, f), false);
    assert.equal(matchesTags({ o: { a: 1, b: 2 }, s: 'red' }, f), false);
    assert.equal(matchesTags({ n: null }, parseFilter({ n: null }) as never), true);
    assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[1,{"c":2,"d":1}]}');
  });

  it('spells every tag pair unambiguously and escapes SQL literals by doubling quotes', () => {
    assert.notEqual(tagPair('a', 'b=c'), tagPair('a=b', 'c'));
    assert.notEqual(tagPair('a', '1'), tagPair('a', 1));
    assert.equal(sqlString("it's"), "'it''s'");
    assert.equal(sqlString('back\\slash'), "'back\\slash'");
    assert.equal(sqlIdList('id', ["a'", 'b']), "id IN ('a''', 'b')");
    const where = tagPairsWhere('tag_kv', parseFilter({ "o'k": "x') OR (1=1" }) as never);
    assert.equal(where, `array_has(tag_kv, '["o''k","x'') OR (1=1"]')`);
  });
});
