import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Document } from '../../../../core/document/document.js';
import { DocumentArray, parseAccessPaths } from '../../../../core/document/document-array.js';

/** root r1 { chunks: c1 { matches: c1m1 }, matches: m1 { chunks: m1c1 }, m2 }, root r2 { chunks: c2 } */
function tree(): DocumentArray {
  return new DocumentArray([
    {
      id: 'r1',
      chunks: [{ id: 'c1', matches: [{ id: 'c1m1' }] }],
      matches: [{ id: 'm1', chunks: [{ id: 'm1c1' }] }, { id: 'm2' }],
    },
    { id: 'r2', chunks: [{ id: 'c2' }] },
  ]);
}
const ids = (docs: Iterable<Document>): string[] => [...docs].map((d) => d.id);

describe('DocumentArray', () => {
  it('builds from Documents and inits, keeping given Document instances', () => {
    const existing = new Document({ id: 'x' });
    const da = new DocumentArray([existing, { id: 'y', text: 'why' }]);
    assert.equal(da.length, 2);
    assert.equal(da[0], existing);
    assert.ok(da[1] instanceof Document);
    assert.equal(da[1]!.text, 'why');
    assert.ok(Array.isArray(da));
    assert.equal(new DocumentArray().length, 0);
  });

  it('accepts any iterable, e.g. a generator', () => {
    function* gen() {
      yield { id: 'a' };
      yield { id: 'b' };
    }
    assert.deepEqual(ids(new DocumentArray(gen())), ['a', 'b']);
  });

  it('is indexable and iterable like an array', () => {
    const da = new DocumentArray([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    assert.equal(da[2]!.id, 'c');
    assert.equal(da.at(-1)!.id, 'c');
    assert.deepEqual(ids(da), ['a', 'b', 'c']);
  });

  it('finds by id and builds an id index', () => {
    const da = new DocumentArray([{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }]);
    assert.equal(da.byId('b')!.text, 'B');
    assert.equal(da.byId('nope'), undefined);
    const index = da.indexById();
    assert.ok(index instanceof Map);
    assert.deepEqual([...index.keys()], ['a', 'b']);
    assert.equal(index.get('a'), da[0]);
  });

  it('lists embeddings and texts in order, undefined where missing', () => {
    const da = new DocumentArray([{ embedding: [1, 2] }, { text: 't' }]);
    const embs = da.embeddings;
    assert.equal(embs.length, 2);
    assert.deepEqual(Array.from(embs[0]!), [1, 2]);
    assert.equal(embs[1], undefined);
    assert.deepEqual(da.texts, [undefined, 't']);
    assert.equal(Object.getPrototypeOf(embs), Array.prototype);
  });

  it('returns plain arrays from map, filter and slice (species is Array)', () => {
    const da = new DocumentArray([{ id: 'a' }, { id: 'b' }]);
    const mapped = da.map((d) => d.id);
    assert.equal(Object.getPrototypeOf(mapped), Array.prototype);
    assert.deepEqual(mapped, ['a', 'b']);
    const filtered = da.filter((d) => d.id === 'b');
    assert.equal(Object.getPrototypeOf(filtered), Array.prototype);
    assert.equal(filtered[0], da[1]);
    assert.equal(Object.getPrototypeOf(da.slice(0, 1)), Array.prototype);
  });

  describe('traverse', () => {
    const cases: Array<[string, string[]]> = [
      ['@r', ['r1', 'r2']],
      ['@m', ['m1', 'm2']],
      ['@c', ['c1', 'c2']],
      ['@r,m', ['r1', 'r2', 'm1', 'm2']],
      ['@cm', ['c1m1']],
      ['@mc', ['m1c1']],
      ['@c,m', ['c1', 'c2', 'm1', 'm2']],
      ['r', ['r1', 'r2']],
      [' @r , c ', ['r1', 'r2', 'c1', 'c2']],
    ];
    for (const [path, expected] of cases) {
      it(`${JSON.stringify(path)} reaches ${expected.join(', ')}`, () => {
        const out = tree().traverse(path);
        assert.ok(out instanceof DocumentArray);
        assert.deepEqual(ids(out), expected);
      });
    }

    it('returns the same Document objects, not copies', () => {
      const da = tree();
      assert.equal(da.traverse('@m')[0], da[0]!.matches[0]);
    });

    it('handles more roots than fit in one argument list', () => {
      const many = new DocumentArray(Array.from({ length: 200_000 }, (_, i) => new Document({ id: String(i) })));
      const out = many.traverse('@r');
      assert.equal(out.length, 200_000);
      assert.equal(out[199_999]!.id, '199999');
    });

    for (const bad of ['@x', '@rm', '@', '', '@r,', '@m1', '@r;c']) {
      it(`refuses ${JSON.stringify(bad)} naming the path`, () => {
        assert.throws(() => tree().traverse(bad), (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.ok(e.message.includes(`"${bad}"`), e.message);
          return true;
        });
      });
    }

    it('parseAccessPaths splits the parts', () => {
      assert.deepEqual(parseAccessPaths('@r,cm,mc'), ['r', 'cm', 'mc']);
    });
  });
});
