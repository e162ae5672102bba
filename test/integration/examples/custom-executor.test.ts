// The custom-executor example, run as a user would: through the CLI with curl-style
// HTTP calls, and as its own script with the TypeScript client.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packagePath } from '../../../core/config/paths.js';

const run = promisify(execFile);
const CLI = packagePath('dist', 'core', 'cli', 'main.js');
const EXAMPLE = packagePath('examples', 'custom-executor');

describe('examples/custom-executor', () => {
  it('serves via `clipflow serve` and answers HTTP posts', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', `${EXAMPLE}/flow.yml`, '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, CLIPFLOW_LOG_LEVEL: 'silent' },
    });
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      while (!/^listening (\S+)$/m.test(out)) await once(child.stdout, 'data');
      const url = /^listening (\S+)$/m.exec(out)![1]!;
      const res = await fetch(`${url}/post`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: [{ text: '  Hello   World ' }, { text: 'A  B c' }] }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: Array<{ text: string; tags: { words: number } }> };
      assert.deepEqual(body.data.map((d) => [d.text, d.tags.words]), [['hello world', 2], ['a b c', 3]]);
      const stats = (await (await fetch(`${url}/stats`, { method: 'POST', body: JSON.stringify({ data: [{ text: 'one two three' }] }) })).json()) as {
        parameters: { __results__: { counter: { words: number } } };
      };
      assert.equal(stats.parameters.__results__.counter.words, 3);
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    }
  });

  it('runs its client script', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', `${EXAMPLE}/run.ts`], {
      cwd: packagePath(),
      env: { ...process.env, CLIPFLOW_LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { text: 'hello world', words: 2 });
    assert.deepEqual(lines[2], { results: { counter: { documents: 1, words: 3 } } });
  });
});
