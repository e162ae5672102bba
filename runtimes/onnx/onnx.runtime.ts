import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelLoadError, ProviderUnavailableError } from '../errors.js';
import type { ExecutionProvider, InferenceRuntime, InferenceSession, SessionOptions } from '../runtime.js';
import { WorkerSession } from './worker.session.js';

const INSTALL_HINT =
  'onnxruntime-node skips its GPU binaries here (.npmrc onnxruntime-node-install=skip); on a machine with CUDA 12 ' +
  'run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`';

/** The folder holding onnxruntime-node's native libraries for this platform. */
function bindingDir(): string | undefined {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Dawn (WebGPU) needs the Vulkan loader on Linux. Checking for it first turns a
 * native crash-like warning into a clear start-up reason.
 */
function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':'), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib'];
  return dirs.some((d) => d && existsSync(join(d, 'libvulkan.so.1')));
}

function hasLibrary(fragment: string): boolean {
  const dir = bindingDir();
  return !!dir && readdirSync(dir).some((f) => f.includes(fragment));
}

/**
 * onnxruntime-node behind the InferenceRuntime contract. runtimes/onnx is the only
 * folder in the project that imports onnxruntime-node.
 */
export class OnnxRuntime implements InferenceRuntime {
  readonly name = 'onnx';

  async probe(): Promise<Record<ExecutionProvider, { available: boolean; reason?: string }>> {
    const backends = new Set(ort.listSupportedBackends().map((b) => b.name));
    const gpuLib = (provider: 'cuda' | 'tensorrt') =>
      hasLibrary(`providers_${provider}`) ? { available: true } : { available: false, reason: `its provider library is not installed; ${INSTALL_HINT}` };
    return {
      cpu: { available: true },
      webgpu: !backends.has('webgpu')
        ? { available: false, reason: `this onnxruntime-node build for ${process.platform}-${process.arch} has no WebGPU provider` }
        : hasVulkanLoader()
          ? { available: true, reason: 'bundled; needs a GPU adapter at session creation' }
          : { available: false, reason: 'no Vulkan loader (libvulkan.so.1) on this machine; WebGPU needs a GPU with its Vulkan driver (Debian: libvulkan1 + the vendor driver)' },
      cuda: process.platform === 'linux' || process.platform === 'win32' ? gpuLib('cuda') : { available: false, reason: `no CUDA provider on ${process.platform}` },
      tensorrt: process.platform === 'linux' || process.platform === 'win32' ? gpuLib('tensorrt') : { available: false, reason: `no TensorRT provider on ${process.platform}` },
    };
  }

  async load(modelPath: string, options: SessionOptions): Promise<InferenceSession> {
    const { provider } = options;
    const status = (await this.probe())[provider];
    if (!status?.available) throw new ProviderUnavailableError(provider, status?.reason ?? 'unknown provider');
    if (!existsSync(modelPath)) throw new ModelLoadError(modelPath, 'file not found');
    // Inference runs on a worker thread: ORT's run blocks its caller for the whole batch.
    return WorkerSession.open(modelPath, options);
  }
}
