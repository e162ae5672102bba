/**
 * `clipflow models list|pull`: what the model table offers and what is cached,
 * and a way to fill the cache ahead of `serve` (e.g. while building an image).
 */
import type { Command } from 'commander';
import { ensureModel, isModelCached, modelCacheDir } from '../../executors/clip/models/ensure-model.js';
import { getModel, listModels } from '../../executors/clip/models/model-registry.js';
import type { ModelEntry } from '../../executors/clip/models/model-table.js';

/** One row of `models list`. */
export interface ModelListRow {
  name: string;
  aliases: string[];
  embedDim: number;
  imageSize: number;
  runtimes: string[];
  tokenizer: string;
  cached: boolean;
  /** Where the files are (or would be) on disk. */
  dir: string;
}

/** Options of `clipflow models list`. */
export interface ModelsListCliOptions {
  json?: boolean;
  cacheDir?: string;
}

/** Options of `clipflow models pull`. */
export interface ModelsPullCliOptions {
  cacheDir?: string;
  mirror?: string[];
}

function dirOf(entry: ModelEntry, cacheDir?: string): string {
  return entry.source.kind === 'bundled' ? `(bundled) ${entry.source.dir}` : modelCacheDir(entry, cacheDir);
}

/** Every table model with its facts and whether its files are in the cache. */
export async function modelRows(cacheDir?: string): Promise<ModelListRow[]> {
  return Promise.all(
    listModels().map(async (e) => ({
      name: e.name,
      aliases: [...e.aliases],
      embedDim: e.embedDim,
      imageSize: e.imageSize,
      runtimes: [...e.runtimes],
      tokenizer: e.tokenizer,
      cached: await isModelCached(e, cacheDir),
      dir: dirOf(e, cacheDir),
    })),
  );
}

/** The rows as an aligned text table (name, dim, image size, runtimes, cached). */
export function formatModelTable(rows: readonly ModelListRow[]): string {
  const header = ['NAME', 'DIM', 'IMAGE', 'RUNTIMES', 'CACHED'];
  const body = rows.map((r) => [
    r.aliases.length ? `${r.name} (${r.aliases.join(', ')})` : r.name,
    String(r.embedDim),
    String(r.imageSize),
    r.runtimes.join(','),
    r.cached ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [header, ...body].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `models list`: the table text, or JSON with `--json`. */
export async function runModelsList(options: ModelsListCliOptions = {}): Promise<string> {
  const rows = await modelRows(options.cacheDir);
  return options.json ? JSON.stringify(rows, null, 2) : formatModelTable(rows);
}

/** `models pull NAME`: downloads (or verifies) the model and returns `<name> <dir>` plus the two graph paths. */
export async function runModelsPull(name: string, options: ModelsPullCliOptions = {}): Promise<string> {
  const entry = getModel(name);
  const result = await ensureModel(entry.name, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.mirror?.length ? { mirrors: options.mirror.flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean) } : {}),
  });
  const state = result.downloaded.length ? 'downloaded' : 'already cached';
  return [`${entry.name} ${state}: ${result.dir}`, `  textual ${result.textual}`, `  visual  ${result.visual}`].join('\n');
}

/** Where command output goes; stdout unless a caller (a test, an embedding CLI) says otherwise. */
export type OutputWriter = (text: string) => Promise<void>;

function stdoutWriter(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${text}\n`, () => resolve()));
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Registers `clipflow models list [--json]` and `clipflow models pull NAME [--cache-dir D] [--mirror URL...]`. */
export function registerModelsCommand(program: Command, print: OutputWriter = stdoutWriter): void {
  const models = program.command('models').description('list the known CLIP models and download them into the cache');
  models
    .command('list')
    .description('show every model: embedding dim, image size, runtimes, whether it is cached')
    .option('--json', 'print JSON instead of a table')
    .option('--cache-dir <dir>', 'cache root (default $CLIPFLOW_CACHE_DIR, $XDG_CACHE_HOME/clipflow, ~/.cache/clipflow)')
    .action(async (options: ModelsListCliOptions) => {
      await print(await runModelsList(options));
    });
  models
    .command('pull')
    .description('download a model (canonical name or legacy alias) into the cache and verify its md5')
    .argument('<name>', 'model name, e.g. ViT-B-32::openai')
    .option('--cache-dir <dir>', 'cache root (default $CLIPFLOW_CACHE_DIR, $XDG_CACHE_HOME/clipflow, ~/.cache/clipflow)')
    .option('--mirror <url>', 'base URL to download from; repeat (or comma-separate) to try several in order', collect)
    .action(async (name: string, options: ModelsPullCliOptions) => {
      await print(await runModelsPull(name, options));
    });
}
