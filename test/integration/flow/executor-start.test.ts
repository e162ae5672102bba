// Starting an executor's replicas: when one fails in init(), the flow fails to start
// with its error and the replicas that did start are closed, not leaked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flow } from '../../../core/flow/flow.js';
import { FlakyInit } from '../../fixtures/executors/basic.js';
import { BASIC_EXECUTORS } from '../../helpers/flows.js';

describe('executor start-up', () => {
  it('closes the started replicas when another one fails in init()', async () => {
    const flow = Flow.fromYaml(
      `executors:
  - name: flaky
    replicas: 3
    uses: { jtype: FlakyInit, metas: { modules: ['${BASIC_EXECUTORS}'] } }
`,
      process.cwd(),
    );
    await assert.rejects(flow.start(), /replica 1 cannot start/);
    assert.deepEqual([...FlakyInit.events].sort(), ['close 0', 'close 2', 'init 0', 'init 2']);
  });
});
