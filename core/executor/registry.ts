import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container } from 'inversify';
import { FlowConfigError } from '../errors.js';
import type { ExecutorClass } from './executor.js';

const token = (name: string): string => `executor:${name}`;

let tsHooks: Promise<void> | undefined;

/**
 * Installs tsx's loader hooks for the process, once. Not `tsImport`: it loads every
 * transitive import under a private namespace, so a module's `import ... from
 * 'clipflow'` would get a second copy of the framework, and its `Executor` and
 * `DocumentArray` would fail our `instanceof` checks.
 */
function enableTypeScriptImports(): Promise<void> {
  tsHooks ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsHooks;
}

/**
 * Knows every executor class by its `jtype` name. Built-ins register at boot;
 * custom classes come from `metas.modules`. Backed by an inversify container so
 * other services (runtimes, model registry) can be bound beside them.
 */
export class ExecutorRegistry {
  readonly container = new Container();
  private readonly names = new Set<string>();

  register(name: string, cls: ExecutorClass, aliases: string[] = []): this {
    for (const n of [name, ...aliases]) {
      if (this.container.isBound(token(n))) this.container.unbind(token(n));
      this.container.bind<ExecutorClass>(token(n)).toConstantValue(cls);
      this.names.add(n);
    }
    return this;
  }

  has(name: string): boolean {
    return this.container.isBound(token(name));
  }

  known(): string[] {
    return [...this.names].sort();
  }

  /** The class for a jtype; an unknown name fails listing the known ones. */
  resolve(name: string, path = 'uses.jtype'): ExecutorClass {
    if (!this.has(name)) {
      throw new FlowConfigError(`unknown executor "${name}"; known executors: ${this.known().join(', ') || '(none)'}; custom ones are loaded from metas.modules`, path);
    }
    return this.container.get<ExecutorClass>(token(name));
  }

  /**
   * Imports a custom executor module (.js/.mjs/.cjs, or .ts through tsx) and
   * registers every exported class; relative paths resolve against `baseDir`.
   */
  async loadModule(modulePath: string, baseDir: string, path = 'metas.modules'): Promise<string[]> {
    const file = isAbsolute(modulePath) ? modulePath : resolve(baseDir, modulePath);
    if (!existsSync(file)) throw new FlowConfigError(`module not found: ${file}`, path);
    let mod: Record<string, unknown>;
    try {
      if (['.ts', '.mts', '.cts'].includes(extname(file))) await enableTypeScriptImports();
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      throw new FlowConfigError(`cannot import ${file}: ${(e as Error).message}`, path);
    }
    const added: string[] = [];
    for (const [exported, value] of Object.entries(mod)) {
      if (typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value))) {
        this.register(exported, value as ExecutorClass);
        added.push(exported);
      }
    }
    return added;
  }
}
