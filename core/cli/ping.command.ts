import type { Command } from 'commander';
import { Client } from '../client/client.js';

/** How long `ping` waits by default before calling a server unreachable. */
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

/** Options of `clipflow ping`, as commander parses them. */
export interface PingCliOptions {
  timeout?: string;
}

/**
 * Dry-runs the server at `url`; resolves with the round trip in ms, or rejects
 * with `<url> is not reachable: <reason>` (an unparseable URL rejects with the
 * client's own TypeError).
 */
export async function runPing(url: string, options: PingCliOptions = {}): Promise<number> {
  const timeoutMs = options.timeout === undefined ? DEFAULT_PING_TIMEOUT_MS : Number(options.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`--timeout: expected a positive integer, got "${options.timeout}"`);
  const client = new Client(url, { timeoutMs });
  const started = performance.now();
  try {
    await client.ensureReady();
  } catch (e) {
    throw new Error(`${url} is not reachable: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    await client.close();
  }
  return performance.now() - started;
}

/** Registers `clipflow ping <url>`: prints `ok <url> <ms>ms` or fails with the reason. */
export function registerPingCommand(program: Command): void {
  program
    .command('ping')
    .description("check that a server answers its dry run (grpc://, http://, ws:// and their TLS forms)")
    .argument('<url>', 'server URL, e.g. grpc://127.0.0.1:51000')
    .option('--timeout <ms>', `how long to wait (default ${DEFAULT_PING_TIMEOUT_MS})`)
    .action(async (url: string, options: PingCliOptions) => {
      const ms = await runPing(url, options);
      await new Promise<void>((resolve) => process.stdout.write(`ok ${url} ${Math.round(ms)}ms\n`, () => resolve()));
    });
}
