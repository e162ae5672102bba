#!/usr/bin/env node
/**
 * `npm run bench`: runs the whole benchmark (raw ORT ceiling, clipflow served
 * over grpc/http/websocket, transformers.js) and prints the table; the JSON
 * goes to bench/results/latest.json unless --out says otherwise.
 *
 *   node dist/bench/run.js [--quick] [--protocols http grpc] [--skip-transformers] [--out file.json]
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addBenchOptions, resolveBenchOptions, type BenchCliOptions } from './options.js';
import { runBench, type BenchRun } from './suite.js';

/** Resolves the options, runs the bench with progress on stderr, prints the table on stdout. */
export async function runBenchCli(cli: BenchCliOptions): Promise<BenchRun> {
  const options = resolveBenchOptions(cli);
  const run = await runBench(options, (line) => process.stderr.write(`bench: ${line}\n`));
  process.stdout.write(`${run.table}\n\nwrote ${run.out}\n`);
  return run;
}

/** The script's program (the same flags as `clipflow bench`). */
export function benchProgram(): Command {
  return addBenchOptions(new Command('bench').description('measure clipflow against the raw onnxruntime ceiling and transformers.js'))
    .action(async (cli: BenchCliOptions) => {
      await runBenchCli(cli);
    });
}

// Run only when executed directly, so tests and the CLI can import the pieces.
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === self) {
  try {
    await benchProgram().parseAsync(process.argv);
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
