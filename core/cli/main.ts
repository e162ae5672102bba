#!/usr/bin/env node
/**
 * The `clipflow` command. Each subcommand lives in its own `*.command.ts` file
 * and registers itself on the program; this file only wires them together and
 * turns any failure into one `clipflow: <reason>` line and exit code 1.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { packagePath } from '../config/paths.js';
import { physicalCores } from '../config/cpu.js';
import { registerEncodeCommand } from './encode.command.js';
import { registerPingCommand } from './ping.command.js';
import { registerServeCommand } from './serve.command.js';
import { registerModelsCommand } from './models.command.js';
import { registerExecutorCommand } from './executor.command.js';
import { registerExportCommand } from './export.command.js';
import { registerBenchCommand } from './bench.command.js';

/** Adds one subcommand to the program. New commands (models, bench, ...) append theirs to COMMANDS. */
export type CommandRegistrar = (program: Command) => void;

const COMMANDS: CommandRegistrar[] = [registerServeCommand, registerEncodeCommand, registerPingCommand, registerModelsCommand, registerExecutorCommand, registerExportCommand, registerBenchCommand];

function version(): string {
  try {
    return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The whole CLI as a commander program (no parsing, no side effects). */
export function buildProgram(): Command {
  const program = new Command('clipflow')
    .description('CLIP-as-a-service on a small Jina-style framework')
    .version(version(), '-v, --version')
    // Usage errors (unknown option, bad choice) read like every other failure: one prefixed line.
    .configureOutput({ outputError: (text, write) => write(`clipflow: ${text.replace(/^error: /, '')}`) });
  for (const register of COMMANDS) register(program);
  return program;
}

/** One line, whatever the error: multi-line messages (YAML snippets, aggregated issues) are folded. */
export function failureLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ') || 'unknown error';
}

async function main(argv: string[]): Promise<void> {
  // libuv's pool carries image decodes, file reads and DNS; size it to the machine
  // before anything uses it (the default of 4 starves decoding on big hosts).
  process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, physicalCores()));
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    process.stderr.write(`clipflow: ${failureLine(e)}\n`);
    if (process.env.CLIPFLOW_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    // Exit now: a half-started server or client must not keep a failed command alive.
    process.exit(1);
  }
}

await main(process.argv);
