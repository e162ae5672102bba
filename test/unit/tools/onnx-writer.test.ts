import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, int } from '../../../tools/onnx/graph-builder.js';
import { float16ToFloat32, fromFloat16Bits, toFloat16Bits } from '../../../tools/onnx/float16.js';
import { modelToBuffer, writeModel } from '../../../tools/onnx/model-writer.js';
import { DataType, onnxType } from '../../../runtimes/onnx/graph/schema.js';
import { tempDir } from './clip-fixtures.js';

/** y = Softmax(x + b) over the last axis, with a symbolic batch axis. */
function smallGraph(): GraphBuilder {
  const g = new GraphBuilder('small');
  const x = g.input('x', DataType.FLOAT, ['batch', 3]);
  const b = g.initializer('b', DataType.FLOAT, [3], () => new Uint8Array(Float32Array.of(1, 2, 3).buffer));
  g.output('y', g.op('Softmax', [g.op('Add', [x, b])], { axis: int(-1) }), DataType.FLOAT, ['batch', 3]);
  return g;
}

const opts = { opset: 17, irVersion: 8, metadata: { k: 'v' } };

test('a written model decodes with the official field numbers', () => {
  const buf = modelToBuffer(smallGraph(), opts);
  // First byte: field 1 (ir_version), varint wire type → 0x08, then 8.
  assert.deepEqual([...buf.subarray(0, 2)], [0x08, 8]);
  const m = onnxType('ModelProto').toObject(onnxType('ModelProto').decode(buf), { longs: Number, bytes: Array }) as any;
  assert.equal(m.irVersion, 8);
  assert.deepEqual(m.opsetImport, [{ domain: '', version: 17 }]);
  assert.deepEqual(m.metadataProps, [{ key: 'k', value: 'v' }]);
  assert.deepEqual(m.graph.node.map((n: any) => n.opType), ['Add', 'Softmax', 'Identity']);
  assert.equal(m.graph.input[0].type.tensorType.elemType, DataType.FLOAT);
  assert.deepEqual(m.graph.input[0].type.tensorType.shape.dim, [{ dimParam: 'batch' }, { dimValue: 3 }]);
  const init = m.graph.initializer[0];
  assert.equal(init.name, 'b');
  assert.deepEqual(init.dims, [3]);
  assert.deepEqual([...new Float32Array(Uint8Array.from(init.rawData).buffer)], [1, 2, 3]);
});

test('the streaming writer produces the same bytes as the in-memory one', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(dir, 'm.onnx');
  writeModel(path, smallGraph(), opts);
  assert.deepEqual(readFileSync(path), modelToBuffer(smallGraph(), opts));
});

test('onnxruntime runs a built graph with any batch size', async () => {
  const session = await ort.InferenceSession.create(modelToBuffer(smallGraph(), opts), { logSeverityLevel: 3 });
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(6), [2, 3]) });
  const y = out.y!;
  assert.deepEqual(y.dims, [2, 3]);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const sum = e[0]! + e[1]! + e[2]!;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs((y.data as Float32Array)[i]! - e[i]! / sum) < 1e-6);
});

test('a wrong-sized initializer and a duplicate name are refused', () => {
  const g = new GraphBuilder('bad');
  g.initializer('w', DataType.FLOAT, [4], () => new Uint8Array(8));
  assert.throws(() => modelToBuffer(g, opts), /initializer w: produced 8 bytes/);
  assert.throws(() => g.input('w', DataType.FLOAT, [1]), /duplicate value name/);
});

test('float16 conversion rounds to nearest even and handles the edges', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
    [2 ** -24, 0x0001], [2 ** -26, 0x0000], [2 ** -14, 0x0400], [-Infinity, 0xfc00], [-0, 0x8000],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [v, bits] of cases) assert.equal(toFloat16Bits(v), bits, `toFloat16Bits(${v})`);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
  for (let bits = 0; bits < 0x7c00; bits += 37) assert.equal(toFloat16Bits(fromFloat16Bits(bits)), bits);
  assert.deepEqual([...float16ToFloat32(Uint16Array.of(0x3c00, 0xbc00, 0x0001))], [1, -1, 2 ** -24]);
});
