import type { Command } from 'commander';
import { addBenchOptions, type BenchCliOptions } from '../../bench/options.js';

/**
 * Registers `clipflow bench`: the same benchmark and flags as `npm run bench`
 * (bench/run.ts). The bench itself is imported only when the command runs, so
 * other commands don't load it.
 */
export function registerBenchCommand(program: Command): void {
  const command = program
    .command('bench')
    .description('benchmark clipflow served end to end against the raw onnxruntime ceiling and transformers.js (prints a table, writes JSON)');
  addBenchOptions(command).action(async (cli: BenchCliOptions) => {
    const { runBenchCli } = await import('../../bench/run.js');
    await runBenchCli(cli);
  });
}
