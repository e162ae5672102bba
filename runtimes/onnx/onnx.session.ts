import * as ort from 'onnxruntime-node';
import type { ExecutionProvider, HostTensor, InferenceSession, PackingReport, PooledCutReport, TensorSpec, TensorType } from '../runtime.js';
import { fromFloat16Bits, toFloat16Bits } from '../../core/util/float16.js';

export function specsOf(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type as TensorType, shape: [...m.shape] } : { name: m.name, type: 'float32', shape: [] }));
}

/** Converts a logical host tensor to the dtype the graph declares for that input. */
export function toOrtTensor(spec: TensorSpec | undefined, t: HostTensor): ort.Tensor {
  const type = spec?.type ?? (t.data instanceof Float32Array ? 'float32' : 'int32');
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), t.dims);
    case 'float16':
      return new ort.Tensor('float16', toFloat16Bits(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)), t.dims);
    case 'int32':
      return new ort.Tensor('int32', t.data instanceof Int32Array ? t.data : Int32Array.from(t.data, Math.round), t.dims);
    case 'int64': {
      const out = new BigInt64Array(t.data.length);
      for (let i = 0; i < t.data.length; i++) out[i] = BigInt(Math.round(t.data[i]!));
      return new ort.Tensor('int64', out, t.dims);
    }
    default:
      throw new TypeError(`input "${spec?.name}" has dtype ${type}, which clipflow does not feed`);
  }
}

function toFloat32(t: ort.Tensor): Float32Array {
  const data = t.data as unknown;
  if (data instanceof Float32Array) return data;
  if (t.type === 'float16') return data instanceof Uint16Array ? fromFloat16Bits(data) : Float32Array.from(data as ArrayLike<number>);
  if (data instanceof BigInt64Array) return Float32Array.from(data, Number);
  return Float32Array.from(data as ArrayLike<number>);
}

/** One loaded ONNX graph. Sessions are safe to `run` concurrently (ORT serialises internally). */
export class OnnxSession implements InferenceSession {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  /** Set by openPooledCut. */
  pooledCut?: PooledCutReport;
  /** Set by openPooledCut when packed texts were asked for. */
  packing?: PackingReport;
  private readonly byName: Map<string, TensorSpec>;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProvider,
  ) {
    this.inputs = specsOf(session.inputMetadata);
    this.outputs = specsOf(session.outputMetadata);
    this.byName = new Map(this.inputs.map((s) => [s.name, s]));
  }

  async run(feeds: Record<string, HostTensor>, outputNames?: string[]) {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(this.byName.get(name), t);
    const results = outputNames ? await this.session.run(ortFeeds, outputNames) : await this.session.run(ortFeeds);
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { data: toFloat32(t), dims: [...t.dims] };
      t.dispose?.();
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
