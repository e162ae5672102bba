/**
 * Runs bench sections in child processes (child.ts) and calls into them over
 * Node's IPC channel. Each section gets a process of its own so that its
 * threads, memory peak and warm caches never mix with another section's:
 * peak RSS per section is then simply that process's maxRSS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A request to the child: which operation, with JSON-able arguments. */
export interface IpcRequest {
  id: number;
  op: string;
  args?: unknown;
}

/** The child's answer to one request. */
export type IpcReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const STDERR_TAIL = 4000;

/** One forked section process. */
export class SectionProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL);
      if (process.env.CLIPFLOW_BENCH_VERBOSE === '1') process.stderr.write(chunk);
    });
    child.on('message', (m: IpcReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`${name}: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      const why = new Error(`${name} process exited (${signal ?? code}) with calls pending; its stderr ends:\n${this.stderr.trim()}`);
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
    });
  }

  /**
   * Forks child.js with extra environment variables (e.g. the libuv pool size a
   * server wants). With CLIPFLOW_BENCH_CPU_PROF=<dir>, the child writes a V8 CPU
   * profile there on exit (open it in Chrome DevTools): where its JS time goes.
   */
  static start(name: string, env: Record<string, string> = {}): SectionProcess {
    const profileDir = process.env.CLIPFLOW_BENCH_CPU_PROF;
    // An inspector port or the test runner's flags would clash in a second process.
    const inherited = process.execArgv.filter((a) => !/^--(inspect|test|cpu-prof)/.test(a));
    const child = fork(CHILD, [], {
      execArgv: profileDir ? [...inherited, '--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${process.pid}.cpuprofile`] : inherited,
      env: { ...process.env, CLIPFLOW_LOG_LEVEL: process.env.CLIPFLOW_LOG_LEVEL ?? 'warn', ...env },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    return new SectionProcess(child, name);
  }

  /** Calls `op` in the child and resolves with its result. */
  call<T>(op: string, args?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} process is gone`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args } satisfies IpcRequest);
    });
  }

  /** Asks the child to clean up and exit; kills it if it hasn't within `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.call('exit').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

/** Runs one operation in a fresh process and closes it: the usual shape of a section. */
export async function inChild<T>(name: string, op: string, args: unknown, env?: Record<string, string>): Promise<T> {
  const section = SectionProcess.start(name, env);
  try {
    return await section.call<T>(op, args);
  } finally {
    await section.close();
  }
}
