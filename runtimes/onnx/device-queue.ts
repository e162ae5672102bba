import type { ExecutionProvider } from '../runtime.js';

/**
 * Providers whose device state is shared by every session of the process and is
 * not safe to use from two threads at once. ORT's WebGPU provider keeps one Dawn
 * device per process: two sessions on their own worker threads creating or running
 * at the same time corrupt its command encoder and crash the process (seen on an
 * H200: "CommandEncoder is already finished", then SIGSEGV, at the text and image
 * warm-up). CPU, CUDA and TensorRT sessions run concurrently by design.
 */
const SHARED_DEVICE: ReadonlySet<ExecutionProvider> = new Set(['webgpu']);

const tails = new Map<ExecutionProvider, Promise<unknown>>();

/**
 * Runs `work` on the provider's device: at once for providers that are thread-safe,
 * else after every earlier piece of work on that provider in this process has
 * settled (first come, first served; a failure does not stop the queue).
 */
export function onDevice<T>(provider: ExecutionProvider, work: () => Promise<T>): Promise<T> {
  if (!SHARED_DEVICE.has(provider)) return work();
  const result = (tails.get(provider) ?? Promise.resolve()).then(work);
  const tail = result.catch(() => undefined);
  tails.set(provider, tail);
  // Forget a finished queue, so an idle process holds no chain.
  void tail.then(() => tails.get(provider) === tail && tails.delete(provider));
  return result;
}
