import { GraphBuilder } from '../onnx/graph-builder.js';
import { float32ToFloat16, toFloat16Bits } from '../onnx/float16.js';
import { DataType, type DataTypeCode } from '../../runtimes/onnx/graph/schema.js';
import { elementCount, type WeightSource } from './weights.js';

/** Float precision of a generated graph: weights stored and math done in it. */
export type Precision = 'fp32' | 'fp16';

/** Raw little-endian bytes of `values` in `precision`. */
export function encodeFloats(values: Float32Array, precision: Precision): Uint8Array {
  if (precision === 'fp16') return new Uint8Array(float32ToFloat16(values).buffer);
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  }
  return out;
}

/** How a CLIP parameter is laid out as an ONNX initializer. */
export interface ParamOptions {
  /** Store the 2-D weight transposed ([in, out]) so MatMul(x, W) is PyTorch's x @ W.T. */
  transpose?: boolean;
  /** Different dims with the same element order (e.g. [w] → [1, 1, w] for Expand). */
  dims?: number[];
}

/**
 * One CLIP graph under construction: the ONNX builder plus the weights, the
 * precision and a cache of shared constants, so graph code asks for
 * `c.param('ln_final.weight')` or `c.scalar(1.702)` and gets one value name
 * however many times it asks.
 */
export class GraphContext {
  readonly g: GraphBuilder;
  private readonly made = new Map<string, string>();

  constructor(name: string, readonly weights: WeightSource, readonly precision: Precision) {
    this.g = new GraphBuilder(name);
  }

  /** The ONNX element type of float values in this graph. */
  get floatType(): DataTypeCode {
    return this.precision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  /**
   * The initializer holding CLIP parameter `name` (its state_dict name;
   * `.T` appended when stored transposed). Bytes are generated at write time.
   */
  param(name: string, options: ParamOptions = {}): string {
    const key = `param:${name}:${options.transpose ? 'T' : ''}:${options.dims?.join('x') ?? ''}`;
    return this.once(key, () => {
      const spec = this.weights.spec(name);
      let dims = spec.shape;
      if (options.transpose) {
        if (spec.shape.length !== 2) throw new Error(`cannot transpose ${name}: shape [${spec.shape}]`);
        dims = [spec.shape[1]!, spec.shape[0]!];
      }
      if (options.dims) {
        if (elementCount(options.dims) !== elementCount(dims)) throw new Error(`dims [${options.dims}] do not fit ${name}`);
        dims = options.dims;
      }
      const onnxName = options.transpose ? `${name}.T` : name;
      return this.g.initializer(onnxName, this.floatType, dims, () => {
        const values = this.weights.get(name);
        const laid = options.transpose ? transpose2d(values, spec.shape[0]!, spec.shape[1]!) : values;
        return encodeFloats(laid, this.precision);
      });
    });
  }

  /** A float scalar constant in the graph's precision (broadcasts in Mul/Add). */
  scalar(value: number): string {
    return this.once(`scalar:${value}`, () => this.floatConst([value], []));
  }

  /** A float constant tensor in the graph's precision. */
  floatConst(values: number[], dims: number[]): string {
    return this.g.constFloat(values, dims, this.floatType, (v) => {
      if (this.precision === 'fp16') return new Uint8Array(Uint16Array.from(v, toFloat16Bits).buffer);
      return new Uint8Array(Float32Array.from(v).buffer);
    });
  }

  /** A shared int64 constant (shapes, axes, indices); `dims` [] makes a scalar. */
  int64(values: number[], dims: number[] = [values.length]): string {
    return this.once(`int64:${values.join(',')}:${dims.join('x')}`, () => this.g.constInt64(values, dims));
  }

  private once(key: string, make: () => string): string {
    let name = this.made.get(key);
    if (name === undefined) this.made.set(key, (name = make()));
    return name;
  }
}
