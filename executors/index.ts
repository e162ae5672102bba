import { Executor } from '../core/executor/executor.js';
import type { ExecutorRegistry } from '../core/executor/registry.js';
import { ClipEncoder } from './clip/clip-encoder.executor.js';
import { VectorIndexer } from './indexers/vector-indexer.executor.js';
import { RerankerClient } from './reranker-client.executor.js';

/**
 * Registers every built-in executor under its `jtype` name (and aliases).
 * This is the one place a new built-in is wired in.
 */
export function registerBuiltins(registry: ExecutorRegistry): ExecutorRegistry {
  // Jina's no-op base executor: passes documents through untouched.
  registry.register('BaseExecutor', Executor, ['Executor']);
  // clip-server's class name is CLIPEncoder; both select the same executor.
  registry.register('ClipEncoder', ClipEncoder, ['CLIPEncoder']);
  registry.register('VectorIndexer', VectorIndexer);
  registry.register('RerankerClient', RerankerClient);
  return registry;
}
