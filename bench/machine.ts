/**
 * What machine a result came from: numbers from a 2-core shared VM and a
 * 32-core workstation mean different things, so every report carries this.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { physicalCores } from '../core/config/cpu.js';

/** Facts about the machine and software a run measured on. */
export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  physicalCores: number;
  memoryGb: number;
  os: string;
  node: string;
  onnxruntimeNode: string;
  /** Short commit of the working tree, if it is a git checkout ("+dirty" when it has changes). */
  commit: string;
  /** 1-minute load average when the run started: other work on the machine shows here. */
  loadAverageAtStart: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // Not Linux: fall through to os.cpus().
  }
  return cpus()[0]?.model ?? 'unknown';
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function commit(): string {
  try {
    const opts = { stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], encoding: 'utf8' as const, timeout: 5_000 };
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Collects {@link MachineInfo} for this process's machine. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    logicalCores: availableParallelism(),
    physicalCores: physicalCores(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    commit: commit(),
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
}
