import type { Command } from 'commander';
import { Client } from '../client/client.js';

/** Where `encode` and friends connect without `--server`: clip-server's default gRPC port on this machine. */
export const DEFAULT_SERVER = 'grpc://127.0.0.1:51000';

/** Options of `clipflow encode`, as commander parses them. */
export interface EncodeCliOptions {
  server: string;
  batchSize?: string;
  timeout?: string;
}

/** One line of `encode`'s output. */
export interface EncodedInput {
  input: string;
  embedding: number[];
}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) throw new Error(`${flag}: expected a positive integer, got "${value}"`);
  return n;
}

/** Encodes the inputs (sentences, image paths or URLs) and returns them paired with their embeddings. */
export async function runEncode(inputs: string[], options: EncodeCliOptions): Promise<EncodedInput[]> {
  const batchSize = positive(options.batchSize, '--batch-size');
  const timeoutMs = positive(options.timeout, '--timeout');
  const client = new Client(options.server, timeoutMs ? { timeoutMs } : {});
  try {
    const embeddings = await client.encode(inputs, batchSize ? { batchSize } : {});
    return inputs.map((input, i) => ({ input, embedding: Array.from(embeddings[i]!) }));
  } finally {
    await client.close();
  }
}

/** Registers `clipflow encode <inputs...>`: prints `[{"input", "embedding"}]` as JSON on stdout. */
export function registerEncodeCommand(program: Command): void {
  program
    .command('encode')
    .description('embed sentences and images (local paths, http(s) URLs, data: URIs) with a running server')
    .argument('<inputs...>', 'sentences or image references')
    .option('--server <url>', 'server URL (grpc://, http://, ws:// and their TLS forms)', DEFAULT_SERVER)
    .option('--batch-size <n>', 'inputs per request (default 8)')
    .option('--timeout <ms>', 'how long to wait for each reply')
    .action(async (inputs: string[], options: EncodeCliOptions) => {
      const result = await runEncode(inputs, options);
      await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(result)}\n`, () => resolve()));
    });
}
