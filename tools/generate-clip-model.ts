#!/usr/bin/env node
// Developer tool: writes CLIP-architecture ONNX models with seeded random
// weights, in clip-server and/or Hugging Face layout, for tests and benchmarks
// that need real graph shapes without downloading real weights.
//
//   node dist/tools/generate-clip-model.js --preset tiny --layout both --out /tmp/clip-tiny
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { generateClipModel, type GenerateOptions, type GenerateResult } from './clip-model/generate.js';
import { getPreset, PRESETS } from './clip-model/presets.js';

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('the seed must be an integer in [0, 2^32)');
  return n;
}

/** The generator's command line (commander), exported so tests can drive it in-process. */
export function generatorCommand(report: (r: GenerateResult) => void = printReport): Command {
  return new Command('generate-clip-model')
    .description('write a random-weight CLIP model as ONNX graphs (clip-server and/or Hugging Face layout)')
    .addOption(new Option('--preset <name>', 'model shapes').choices(Object.keys(PRESETS)).default('tiny'))
    .addOption(new Option('--layout <layout>', 'directory layout').choices(['clip-server', 'hf', 'both']).default('both'))
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option('--seed <n>', 'PRNG seed; the same seed gives byte-identical files', parseSeed, 0)
    .addOption(new Option('--dtype <dtype>', 'weight and compute precision').choices(['fp32', 'fp16']).default('fp32'))
    .option('--fixed-77', 'HF text graph with a fixed 77-token sequence axis instead of a dynamic one', false)
    .option('--no-bundle', 'skip weights.bin / weights.json (the reference-check bundle)')
    .action((opts: { preset: string; layout: GenerateOptions['layout']; out: string; seed: number; dtype: 'fp32' | 'fp16'; fixed77: boolean; bundle: boolean }) => {
      report(generateClipModel({
        preset: getPreset(opts.preset),
        layout: opts.layout,
        outDir: opts.out,
        seed: opts.seed,
        precision: opts.dtype,
        fixed77: opts.fixed77,
        bundle: opts.bundle,
      }));
    });
}

function printReport(r: GenerateResult): void {
  for (const f of r.files) console.log(`${(f.bytes / 1e6).toFixed(3).padStart(10)} MB  ${f.path}`);
  console.log(`wrote ${(r.totalBytes / 1e6).toFixed(1)} MB in ${(r.millis / 1000).toFixed(2)} s`);
}

// Run only when executed directly, not when imported by tests.
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === self) {
  try {
    generatorCommand().parse(process.argv);
  } catch (err) {
    console.error(`generate-clip-model: ${(err as Error).message}`);
    process.exit(1);
  }
}
