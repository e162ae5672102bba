import { readFileSync } from 'node:fs';
import { packagePath } from './paths.js';

let version: string | undefined;

/** clipflow's own version, from its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** What every `_status` reply says about this process, as Jina's `jina` section does. */
export function processFacts(): Record<string, string> {
  return {
    clipflow: packageVersion(),
    'jina-protocol': '3',
    'docarray-protocol': '1',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** `CLIPFLOW_*` settings for `_status`, without anything that looks like a secret. */
export function publicEnvs(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('CLIPFLOW_') && !/TOKEN|SECRET|KEY|PASS/i.test(k) && v) out[k] = v;
  return out;
}
