// Runs `clipflow executor` workers and `clipflow serve` gateways as child processes on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { packagePath } from '../../core/config/paths.js';
import { collect, quietEnv, type Outcome } from './cli.js';

const MAIN = packagePath('dist', 'core', 'cli', 'main.js');

/** A port that was free a moment ago (bound to 0 and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running child process of the CLI. */
export interface Running {
  child: ChildProcess;
  out(): string;
  err(): string;
  done: Promise<Outcome>;
  /** SIGKILL (or `signal`) and wait for the process to be gone. */
  stop(signal?: NodeJS.Signals): Promise<Outcome>;
}

function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { env: quietEnv(env) });
  const io = collect(child);
  return {
    child,
    out: io.out,
    err: io.err,
    done: io.done,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return io.done;
    },
  };
}

/** Waits until `pattern` shows on the process's stdout (or it exits, or `timeoutMs` passes). */
export async function waitForOutput(p: Running, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = p.out().match(pattern);
    if (m) return m;
    if (p.child.exitCode !== null || p.child.signalCode !== null || Date.now() > deadline) {
      await p.stop();
      throw new Error(`no ${pattern} from clipflow: stdout=${p.out()} stderr=${p.err()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `clipflow executor FLOW NAME --port PORT --host 127.0.0.1 ...extra`; waits for `ready` unless told not to. */
export async function startWorker(
  flowFile: string, name: string, port: number,
  options: { env?: Record<string, string>; extra?: string[]; waitReady?: boolean } = {},
): Promise<Running> {
  const p = start(['executor', flowFile, name, '--port', String(port), '--host', '127.0.0.1', ...(options.extra ?? [])], options.env ?? {});
  await waitForOutput(p, options.waitReady === false ? /^listening grpc:\/\/\S+$/m : /^ready \S+$/m);
  return p;
}

/** Starts `clipflow serve FLOW`; resolves with its listening URLs once it prints them all. */
export async function startGateway(flowFile: string, count: number, env: Record<string, string> = {}): Promise<Running & { urls: string[] }> {
  const p = start(['serve', flowFile], env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const urls = [...p.out().matchAll(/^listening (\S+)$/gm)].map((m) => m[1]!);
    if (urls.length >= count) return Object.assign(p, { urls });
    if (p.child.exitCode !== null || Date.now() > deadline) {
      await p.stop();
      throw new Error(`gateway did not start: stdout=${p.out()} stderr=${p.err()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One raw unary call to a worker: reply bytes, or the gRPC error, plus trailers. */
export function unary(port: number, path: string, request: Uint8Array): Promise<{ value?: Buffer; error?: grpc.ServiceError; trailers?: grpc.Metadata }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const out: { value?: Buffer; error?: grpc.ServiceError; trailers?: grpc.Metadata } = {};
    const call = client.makeUnaryRequest(path, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, request, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (err, value) => {
      if (err) out.error = err;
      else out.value = value;
    });
    call.on('status', (s: grpc.StatusObject) => {
      out.trailers = s.metadata;
      client.close();
      resolve(out);
    });
  });
}

/** grpc.health.v1 status of a worker's whole server: 1 SERVING, 2 NOT_SERVING, or the gRPC error code negated. */
export async function healthOf(port: number): Promise<number> {
  const { value, error } = await unary(port, '/grpc.health.v1.Health/Check', new Uint8Array(0));
  if (error) return -error.code;
  // HealthCheckResponse is one varint field (status = 1); an empty message means UNKNOWN (0).
  return value && value.length >= 2 && value[0] === 0x08 ? value[1]! : 0;
}
