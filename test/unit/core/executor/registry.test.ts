import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../../../../core/config/paths.js';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { FlowConfigError } from '../../../../core/errors.js';
import { HandlerTable } from '../../../../core/executor/bindings.js';
import { Executor, type ExecutorClass } from '../../../../core/executor/executor.js';
import { ExecutorRegistry } from '../../../../core/executor/registry.js';

class Alpha extends Executor {}
class Beta extends Executor {}

const plainMjs = packagePath('test', 'fixtures', 'executors', 'plain.mjs');
const echoTs = packagePath('test', 'fixtures', 'modules', 'echo.executor.ts');

function configError(path: string, ...parts: Array<string | RegExp>) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FlowConfigError, String(e));
    assert.equal(e.path, path);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `"${e.message}" should include "${p}"`);
      else assert.match(e.message, p);
    }
    return true;
  };
}

describe('ExecutorRegistry', () => {
  it('registers and resolves classes by name and alias', () => {
    const r = new ExecutorRegistry().register('ClipEncoder', Alpha, ['CLIPEncoder']).register('Beta', Beta);
    assert.equal(r.resolve('ClipEncoder'), Alpha);
    assert.equal(r.resolve('CLIPEncoder'), Alpha);
    assert.equal(r.resolve('Beta'), Beta);
    assert.ok(r.has('CLIPEncoder'));
    assert.ok(!r.has('Gamma'));
    assert.deepEqual(r.known(), ['Beta', 'CLIPEncoder', 'ClipEncoder']);
  });

  it('registering a name again replaces the class', () => {
    const r = new ExecutorRegistry().register('X', Alpha).register('X', Beta);
    assert.equal(r.resolve('X'), Beta);
    assert.deepEqual(r.known(), ['X']);
  });

  it('keeps registries separate', () => {
    const a = new ExecutorRegistry().register('A', Alpha);
    assert.ok(!new ExecutorRegistry().has('A'));
    assert.ok(a.has('A'));
  });

  it('an unknown name fails with a FlowConfigError listing the known names', () => {
    const r = new ExecutorRegistry().register('ClipEncoder', Alpha).register('VectorIndexer', Beta);
    assert.throws(() => r.resolve('ClipEncodr'), configError('uses.jtype', '"ClipEncodr"', 'ClipEncoder, VectorIndexer'));
    assert.throws(() => r.resolve('Nope', 'executors[0].uses.jtype'), configError('executors[0].uses.jtype', /^executors\[0\]\.uses\.jtype: /));
    assert.throws(() => new ExecutorRegistry().resolve('Nope'), configError('uses.jtype', '(none)'));
  });

  describe('loadModule', () => {
    it('imports a .mjs module by absolute path and registers its classes', async () => {
      const r = new ExecutorRegistry();
      assert.deepEqual(await r.loadModule(plainMjs, '/nonexistent-base'), ['Reverser']);
      const Reverser = r.resolve('Reverser');
      const rev = new Reverser({ suffix: '?' }, undefined as never);
      const table = HandlerTable.build(rev, { '/reverse': 'reverse' }, 'e');
      const docs = new DocumentArray([{ text: 'ab' }]);
      await table.lookup('/reverse')!({ docs, parameters: {}, endpoint: '/reverse' });
      assert.equal(docs[0]!.text, 'ba?');
    });

    it('resolves a relative path against the base directory (the flow file\'s folder)', async () => {
      const r = new ExecutorRegistry();
      assert.deepEqual(await r.loadModule('executors/plain.mjs', packagePath('test', 'fixtures')), ['Reverser']);
      assert.deepEqual(await r.loadModule('./plain.mjs', dirname(plainMjs)), ['Reverser']);
    });

    it('imports a .ts module from source and registers only its classes', async () => {
      const r = new ExecutorRegistry();
      const added = await r.loadModule(echoTs, '/');
      assert.deepEqual(added, ['Echo']);
      assert.ok(!r.has('helper') && !r.has('VERSION'));
      const Echo = r.resolve('Echo') as ExecutorClass;
      const echo = new Echo({ prefix: '#' }, undefined as never);
      // Its base class is ours: the module's `import 'clipflow'` reached the same package.
      assert.ok(echo instanceof Executor);
      const table = HandlerTable.build(echo, undefined, 'e');
      assert.deepEqual(table.endpoints().sort(), ['/default', '/echo']);
      const docs = new DocumentArray([{ text: 'hi' }]);
      await table.lookup('/echo')!({ docs, parameters: {}, endpoint: '/echo' });
      await table.lookup('/other')!({ docs, parameters: {}, endpoint: '/other' });
      assert.equal(docs[0]!.tags.echo, 'hi');
      assert.equal(docs[0]!.text, '#hi');
    });

    it('a .ts module compiled with standard (TC39) decorators binds too', () => {
      // With no experimentalDecorators in the tsconfig tsx finds, esbuild emits standard
      // decorators with Symbol.metadata; run that in a child with its own cwd.
      const dir = mkdtempSync(join(tmpdir(), 'clipflow-tc39-'));
      try {
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { experimentalDecorators: false, target: 'ES2022' } }));
        const script = `
          const { ExecutorRegistry } = await import(${JSON.stringify(pathToFileURL(packagePath('dist', 'core', 'executor', 'registry.js')).href)});
          const { HandlerTable } = await import(${JSON.stringify(pathToFileURL(packagePath('dist', 'core', 'executor', 'bindings.js')).href)});
          const r = new ExecutorRegistry();
          await r.loadModule(${JSON.stringify(echoTs)}, '/');
          const Echo = r.resolve('Echo');
          const legacy = Reflect.getOwnMetadataKeys ? Reflect.getOwnMetadataKeys(Echo.prototype).length : 0;
          const standard = Object.getOwnPropertySymbols(Echo).length;
          console.log(JSON.stringify({ endpoints: HandlerTable.build(new Echo({}), undefined, 'e').endpoints().sort(), legacy, standard }));
        `;
        const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
        assert.equal(res.status, 0, res.stderr);
        const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { endpoints: string[]; legacy: number; standard: number };
        assert.deepEqual(out.endpoints, ['/default', '/echo']);
        assert.equal(out.legacy, 0, 'expected the standard flavour, not legacy metadata');
        assert.ok(out.standard > 0, 'expected Symbol.metadata on the class');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a missing file is a FlowConfigError naming the resolved path', async () => {
      const r = new ExecutorRegistry();
      await assert.rejects(r.loadModule('nope/missing.mjs', '/tmp/flowdir'), configError('metas.modules', /^metas\.modules: module not found: \/tmp\/flowdir\/nope\/missing\.mjs$/));
      await assert.rejects(r.loadModule('/abs/missing.ts', '/', 'executors[0].uses.metas.modules[1]'), configError('executors[0].uses.metas.modules[1]', '/abs/missing.ts'));
    });

    it('a module that fails to import is a FlowConfigError carrying the reason', async () => {
      const r = new ExecutorRegistry();
      await assert.rejects(r.loadModule(packagePath('test', 'fixtures', 'modules', 'throws.mjs'), '/'), configError('metas.modules', 'cannot import', 'fixture refuses to load'));
    });
  });
});
