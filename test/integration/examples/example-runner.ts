// Runs an example script the way its README says (through tsx), with the tiny test model.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { packagePath } from '../../../core/config/paths.js';
import { tinyModelDir } from '../../helpers/tiny-model.js';

const run = promisify(execFile);

/** Runs `examples/<name>/run.ts ...args --model-path <tiny>` and parses its JSON output lines. */
export async function runExample(name: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', packagePath('examples', name, 'run.ts'), ...args, '--model-path', tinyModelDir('clip-server')], {
    cwd: packagePath(),
    env: { ...process.env, CLIPFLOW_LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** True when the numbers never decrease. */
export function ascending(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v >= values[i - 1]!);
}
