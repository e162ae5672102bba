// The ORT options clipflow's settings become: thread defaults that share the
// physical cores between an executor's replicas, and flow.yml's overrides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { physicalCores } from '../../../core/config/cpu.js';
import { ortSessionOptions } from '../../../runtimes/onnx/onnx.open.js';

describe('ortSessionOptions', () => {
  it('gives one session every physical core and one inter-op thread by default', () => {
    const o = ortSessionOptions({ provider: 'cpu' });
    assert.equal(o.intraOpNumThreads, physicalCores());
    assert.equal(o.interOpNumThreads, 1);
    assert.equal(o.graphOptimizationLevel, 'all');
    assert.deepEqual(o.executionProviders, ['cpu']);
  });

  it('divides the cores between replicas, never below one thread', () => {
    const cores = physicalCores();
    assert.equal(ortSessionOptions({ provider: 'cpu', replicas: 2 }).intraOpNumThreads, Math.max(1, Math.floor(cores / 2)));
    assert.equal(ortSessionOptions({ provider: 'cpu', replicas: cores * 4 }).intraOpNumThreads, 1);
  });

  it('takes explicit thread counts and optimisation level over the defaults', () => {
    const o = ortSessionOptions({ provider: 'cpu', replicas: 2, intraOpThreads: 3, interOpThreads: 2, graphOptimization: 'basic' });
    assert.equal(o.intraOpNumThreads, 3);
    assert.equal(o.interOpNumThreads, 2);
    assert.equal(o.graphOptimizationLevel, 'basic');
  });

  it('names the GPU providers with their device', () => {
    assert.deepEqual(ortSessionOptions({ provider: 'cuda', deviceId: 1 }).executionProviders, [{ name: 'cuda', deviceId: 1 }]);
  });
});
