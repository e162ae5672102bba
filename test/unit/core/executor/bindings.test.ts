import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { packagePath } from '../../../../core/config/paths.js';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { FlowConfigError } from '../../../../core/errors.js';
import { HandlerTable } from '../../../../core/executor/bindings.js';
import { requests } from '../../../../core/executor/decorators.js';
import { Executor, type HandlerArgs } from '../../../../core/executor/executor.js';
import { HashEncoder, Upper } from '../../../fixtures/executors/basic.js';

const args = (docs: DocumentArray, endpoint = '/'): HandlerArgs => ({ docs, parameters: {}, endpoint });

class Tagger extends Executor {
  calls: string[] = [];

  @requests('/a')
  a() {
    this.calls.push('a');
  }

  @requests()
  fallback() {
    this.calls.push('default');
  }

  other() {
    this.calls.push('other');
  }
}

describe('HandlerTable', () => {
  it('binds decorated methods to the instance', async () => {
    const t = new Tagger();
    const table = HandlerTable.build(t, undefined, 'executors[0]');
    await table.lookup('/a')!(args(new DocumentArray()));
    assert.deepEqual(t.calls, ['a']);
    assert.deepEqual(table.endpoints().sort(), ['/a', '/default']);
  });

  it('falls back to the /default handler for unbound endpoints, including "/"', async () => {
    const t = new Tagger();
    const table = HandlerTable.build(t, undefined, 'e');
    await table.lookup('/nope')!(args(new DocumentArray()));
    await table.lookup('/')!(args(new DocumentArray()));
    assert.deepEqual(t.calls, ['default', 'default']);
  });

  it('returns undefined when nothing matches and there is no default (the executor is skipped)', () => {
    class OnlyA {
      @requests('/a')
      a() {}
    }
    const table = HandlerTable.build(new OnlyA(), undefined, 'e');
    assert.ok(table.lookup('/a'));
    assert.equal(table.lookup('/b'), undefined);
    assert.equal(table.lookup('/'), undefined);
  });

  it('yaml requests override decorators and add endpoints', async () => {
    const t = new Tagger();
    const table = HandlerTable.build(t, { '/a': 'other', '/b': 'a', default: 'other' }, 'e');
    for (const e of ['/a', '/b', '/zzz']) await table.lookup(e)!(args(new DocumentArray()));
    assert.deepEqual(t.calls, ['other', 'a', 'other']);
  });

  it('normalizes yaml endpoint spellings: /default, default, a missing slash', async () => {
    const t = new Tagger();
    const table = HandlerTable.build(t, { '/default': 'a', rank: 'other' }, 'e');
    assert.deepEqual(table.endpoints().sort(), ['/a', '/default', '/rank']);
    await table.lookup('/unknown')!(args(new DocumentArray()));
    await table.lookup('/rank')!(args(new DocumentArray()));
    assert.deepEqual(t.calls, ['a', 'other']);
  });

  it('binds a plain JS class without decorators from yaml (plain.mjs Reverser)', async () => {
    const mod = (await import(packagePath('test', 'fixtures', 'executors', 'plain.mjs'))) as {
      Reverser: new (a: Record<string, unknown>) => object;
    };
    const rev = new mod.Reverser({ suffix: '!' });
    const table = HandlerTable.build(rev, { '/reverse': 'reverse', '/default': 'stamp' }, 'executors[2]');
    const docs = new DocumentArray([{ text: 'abc' }, { text: 'héllo' }]);
    await table.lookup('/reverse')!(args(docs, '/reverse'));
    assert.deepEqual(docs.map((d) => d.text), ['cba!', 'olléh!']);
    await table.lookup('/anything')!(args(docs));
    assert.deepEqual(docs.map((d) => d.tags.stamped), [true, true]);
    assert.equal(HandlerTable.build(rev, undefined, 'e').lookup('/reverse'), undefined);
  });

  it('works with the decorated fixture executors', async () => {
    const up = HandlerTable.build(new Upper({}), undefined, 'e');
    const docs = new DocumentArray([{ text: 'abc' }]);
    await up.lookup('/upper')!(args(docs, '/upper'));
    assert.equal(docs[0]!.text, 'ABC');
    const enc = HandlerTable.build(new HashEncoder({ dim: 4 }), undefined, 'e');
    assert.deepEqual(enc.endpoints().sort(), ['/', '/encode', '/index', '/search']);
    assert.equal(enc.lookup('/rank'), undefined);
  });

  for (const method of ['missing', 'constructor', 'toString', 'hasOwnProperty']) {
    it(`refuses a yaml binding to ${JSON.stringify(method)} with a FlowConfigError naming <path>.requests`, () => {
      assert.throws(() => HandlerTable.build(new Tagger(), { '/x': method }, 'executors[1]'), (e: unknown) => {
        assert.ok(e instanceof FlowConfigError, String(e));
        assert.equal(e.path, 'executors[1].requests');
        assert.ok(e.message.startsWith('executors[1].requests: '), e.message);
        assert.ok(e.message.includes(`"${method}"`), e.message);
        assert.ok(e.message.includes('Tagger'), e.message);
        return true;
      });
    });
  }

  it('refuses a non-function property too', () => {
    class WithField {
      field = 3;
    }
    assert.throws(() => HandlerTable.build(new WithField(), { '/x': 'field' }, 'p'), FlowConfigError);
  });
});
