import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

let cached: number | undefined;

/**
 * Physical CPU cores (hyper-threads counted once), from /proc/cpuinfo on Linux,
 * else the logical count. Compute-bound pools (ORT intra-op threads) size by this:
 * two threads on one core's hyper-threads only contend.
 */
export function physicalCores(): number {
  if (cached) return cached;
  const logical = availableParallelism();
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    for (const block of info.split(/\n\s*\n/)) {
      const phys = /physical id\s*:\s*(\d+)/.exec(block)?.[1];
      const core = /core id\s*:\s*(\d+)/.exec(block)?.[1];
      if (phys !== undefined && core !== undefined) cores.add(`${phys}:${core}`);
    }
    cached = cores.size > 0 ? Math.min(cores.size, logical) : logical;
  } catch {
    cached = logical;
  }
  return cached;
}
