import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ENDPOINT, decoratedBindings, requests } from '../../../../core/executor/decorators.js';
import { Executor, type HandlerArgs } from '../../../../core/executor/executor.js';

const entries = (cls: Function): Array<[string, string]> => [...decoratedBindings(cls)].sort(([a], [b]) => a.localeCompare(b));

// This project compiles with `experimentalDecorators`, so `@requests` below is the legacy flavour.
describe('@requests (legacy decorators)', () => {
  class Spec extends Executor {
    @requests('/a')
    single(_: HandlerArgs) {}

    @requests(['/b', '/c'])
    several(_: HandlerArgs) {}

    @requests({ on: '/d' })
    object(_: HandlerArgs) {}

    @requests({ on: ['/e', 'f'] })
    objectList(_: HandlerArgs) {}

    @requests()
    fallback(_: HandlerArgs) {}

    undecorated(_: HandlerArgs) {}
  }

  it('records string, list, {on} and bare forms; a missing slash is added', () => {
    assert.deepEqual(entries(Spec), [
      ['/a', 'single'], ['/b', 'several'], ['/c', 'several'], ['/d', 'object'],
      ['/default', 'fallback'], ['/e', 'objectList'], ['/f', 'objectList'],
    ]);
  });

  it('bare @requests() and @requests({}) bind /default', () => {
    class Bare {
      @requests()
      a() {}
    }
    class EmptyOn {
      @requests({})
      b() {}
    }
    assert.equal(DEFAULT_ENDPOINT, '/default');
    assert.deepEqual(entries(Bare), [['/default', 'a']]);
    assert.deepEqual(entries(EmptyOn), [['/default', 'b']]);
  });

  it('stacks several decorators on one method', () => {
    class Stacked {
      @requests('/x')
      @requests('/y')
      m() {}
    }
    assert.deepEqual(entries(Stacked), [['/x', 'm'], ['/y', 'm']]);
  });

  it('a subclass inherits base bindings and overrides an endpoint it rebinds', () => {
    class Base extends Executor {
      @requests('/encode')
      encode() {}

      @requests('/rank')
      rank() {}
    }
    class Sub extends Base {
      @requests('/encode')
      betterEncode() {}
    }
    assert.deepEqual(entries(Sub), [['/encode', 'betterEncode'], ['/rank', 'rank']]);
    // The base class is not changed by its subclass.
    assert.deepEqual(entries(Base), [['/encode', 'encode'], ['/rank', 'rank']]);
  });

  it('a class without decorators has no bindings', () => {
    class Plain {
      m() {}
    }
    assert.equal(decoratedBindings(Plain).size, 0);
  });

  it('refuses a static method instead of silently losing the binding', () => {
    assert.throws(() => {
      class Bad {
        @requests('/s')
        static s() {}
      }
      return Bad;
    }, /instance methods only/);
  });
});

/** Applies a decorator the way a TC39 (standard) decorator runtime does. */
function applyStandard(decorator: ReturnType<typeof requests>, method: Function, name: string, metadata: object | undefined, extra: object = {}): void {
  (decorator as (value: unknown, context: unknown) => void)(method, { kind: 'method', name, metadata, static: false, private: false, ...extra });
}

describe('@requests (standard TC39 decorators)', () => {
  const SYM = Symbol.for('Symbol.metadata');
  const realMetadata = Object.getOwnPropertyDescriptor(Symbol, 'metadata');
  afterEach(() => {
    if (realMetadata) Object.defineProperty(Symbol, 'metadata', realMetadata);
    else delete (Symbol as { metadata?: symbol }).metadata;
  });

  it('records into context.metadata, read back from the class\'s Symbol.metadata', () => {
    class Enc {
      encode() {}
      rank() {}
    }
    const meta: Record<PropertyKey, unknown> = {};
    applyStandard(requests(['/', '/encode']), Enc.prototype.encode, 'encode', meta);
    applyStandard(requests({ on: '/rank' }), Enc.prototype.rank, 'rank', meta);
    Object.defineProperty(Enc, SYM, { value: meta });
    assert.deepEqual(entries(Enc), [['/', 'encode'], ['/encode', 'encode'], ['/rank', 'rank']]);
  });

  it('bare requests() binds /default', () => {
    class D {
      m() {}
    }
    const meta = {};
    applyStandard(requests(), D.prototype.m, 'm', meta);
    Object.defineProperty(D, SYM, { value: meta });
    assert.deepEqual(entries(D), [['/default', 'm']]);
  });

  it('subclass metadata (prototype-chained, as the runtime builds it) overrides the base', () => {
    class Base {
      a() {}
      b() {}
    }
    const baseMeta: Record<PropertyKey, unknown> = {};
    applyStandard(requests('/a'), Base.prototype.a, 'a', baseMeta);
    applyStandard(requests('/b'), Base.prototype.b, 'b', baseMeta);
    Object.defineProperty(Base, SYM, { value: baseMeta });

    class Sub extends Base {
      a2() {}
    }
    const subMeta = Object.create(baseMeta) as Record<PropertyKey, unknown>;
    applyStandard(requests('/a'), Sub.prototype.a2, 'a2', subMeta);
    Object.defineProperty(Sub, SYM, { value: subMeta });

    assert.deepEqual(entries(Sub), [['/a', 'a2'], ['/b', 'b']]);
    assert.deepEqual(entries(Base), [['/a', 'a'], ['/b', 'b']]);
  });

  it('finds metadata under a Symbol.metadata polyfill installed after the module loaded', () => {
    const late = Symbol('Symbol.metadata (polyfill)');
    Object.defineProperty(Symbol, 'metadata', { value: late, configurable: true, writable: true });
    class P {
      m() {}
    }
    const meta = {};
    applyStandard(requests('/late'), P.prototype.m, 'm', meta);
    Object.defineProperty(P, late, { value: meta });
    assert.deepEqual(entries(P), [['/late', 'm']]);
  });

  it('legacy and standard bindings combine along one class chain', () => {
    class Legacy {
      @requests('/legacy')
      l() {}
    }
    class Standard extends Legacy {
      s() {}
    }
    const meta = {};
    applyStandard(requests('/standard'), Standard.prototype.s, 's', meta);
    Object.defineProperty(Standard, SYM, { value: meta });
    assert.deepEqual(entries(Standard), [['/legacy', 'l'], ['/standard', 's']]);
  });

  it('refuses fields, static and private methods, and a runtime without metadata', () => {
    const fn = () => {};
    assert.throws(() => applyStandard(requests('/x'), fn, 'f', {}, { kind: 'field' }), /methods only/);
    assert.throws(() => applyStandard(requests('/x'), fn, 's', {}, { static: true }), /instance methods only/);
    assert.throws(() => applyStandard(requests('/x'), fn, '#p', {}, { private: true }), /instance methods only/);
    assert.throws(() => applyStandard(requests('/x'), fn, 'm', undefined), /metadata/);
  });
});
