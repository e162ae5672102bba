// Runs the compiled CLI as a child process, the way users run it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { packagePath } from '../../core/config/paths.js';

const MAIN = packagePath('dist', 'core', 'cli', 'main.js');

export const quietEnv = (extra: Record<string, string> = {}) => ({ ...process.env, CLIPFLOW_LOG_LEVEL: 'silent', ...extra });

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}


export function collect(child: ChildProcess): { out: () => string; err: () => string; done: Promise<Outcome> } {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<Outcome>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { out: () => stdout, err: () => stderr, done };
}

/** Runs `clipflow ...args` to completion. */
export async function clipflow(args: string[], env = quietEnv(), timeoutMs = 30_000): Promise<Outcome> {
  const child = spawn(process.execPath, [MAIN, ...args], { env });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await collect(child).done;
  } finally {
    clearTimeout(timer);
  }
}

export interface Serving {
  child: ChildProcess;
  urls: string[];
  out: () => string;
  done: Promise<Outcome>;
}

/** Starts `clipflow serve ...args`: the server once it prints `count` listening lines, or how it exited before that. */
export async function serveUnlessRefused(args: string[], count: number, env = quietEnv()): Promise<Serving | { exited: Outcome }> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], { env });
  const io = collect(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const urls = [...io.out().matchAll(/^listening (\S+)$/gm)].map((m) => m[1]!);
    if (urls.length >= count) return { child, urls, out: io.out, done: io.done };
    if (child.exitCode !== null || child.signalCode !== null) return { exited: await io.done };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve neither started nor exited in 30 s: stdout=${io.out()} stderr=${io.err()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `clipflow serve ...args` and waits for `count` listening lines. */
export async function serve(args: string[], count: number, env = quietEnv()): Promise<Serving> {
  const started = await serveUnlessRefused(args, count, env);
  if ('exited' in started) throw new Error(`serve did not start: stdout=${started.exited.stdout} stderr=${started.exited.stderr}`);
  return started;
}

/**
 * Exit 1 with exactly one stderr line, ours. `nativeNoise` tolerates lines a native
 * library (e.g. Dawn probing Vulkan for WebGPU) prints straight to fd 2 before it:
 * then ours must still be the only `clipflow:` line and the last one.
 */
export function assertOneErrorLine(outcome: Outcome, pattern: RegExp, nativeNoise = false): void {
  assert.equal(outcome.code, 1, `exit code; stderr=${outcome.stderr}`);
  let lines = outcome.stderr.trimEnd().split('\n');
  if (nativeNoise) {
    assert.equal(lines.filter((l) => l.startsWith('clipflow:')).length, 1, `one clipflow line, got: ${outcome.stderr}`);
    lines = lines.slice(-1);
  }
  assert.equal(lines.length, 1, `one stderr line, got: ${outcome.stderr}`);
  assert.match(lines[0]!, /^clipflow: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(outcome.stderr, /\n\s+at .*\.[cm]?[jt]s:\d+/, 'no JavaScript stack trace');
}
