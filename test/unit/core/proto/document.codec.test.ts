import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Document } from '../../../../core/document/document.js';
import { NdArray } from '../../../../core/document/ndarray.js';
import { BadRequestError } from '../../../../core/errors.js';
import {
  documentFromProto, documentToProto, ndarrayFromProto, ndarrayToProto, type DocumentProtoObj,
} from '../../../../core/proto/document.codec.js';
import { T } from '../../../../core/proto/schema.js';
import { f32bytes, hex, ld, sub, tags, varint, vf, walk } from './wire.js';

const encodeDoc = (d: Document): Uint8Array => T.document.encode(documentToProto(d) as Record<string, unknown>).finish();
const decodeDoc = (bytes: Uint8Array, where?: string): Document =>
  documentFromProto(T.document.decode(bytes) as unknown as DocumentProtoObj, where);

/** NdArrayProto bytes: dense { buffer, shape, dtype }, cls_name 'numpy'. */
function ndarrayBytes(buffer: number[], shape: number[], dtype: string): number[] {
  const packedShape = shape.flatMap(varint);
  return [...ld(1, [...ld(1, buffer), ...ld(2, packedShape), ...ld(3, dtype)]), ...ld(3, 'numpy')];
}

describe('document codec: field numbers on the wire', () => {
  it('decodes a hand-assembled DocumentProto (id=1, text=4, uri=9, mime_type=11, embedding=16)', () => {
    const bytes = new Uint8Array([
      ...ld(1, 'doc-7'),
      ...ld(4, 'a photo of a cat'),
      ...ld(9, 'https://example.com/cat.jpg'),
      ...ld(11, 'text/plain'),
      ...ld(16, ndarrayBytes(f32bytes([0.25, -1.5, 3]), [3], '<f4')),
    ]);
    // The embedding tag is two bytes: (16 << 3 | 2) = 130 = 0x82 0x01.
    assert.ok(hex(bytes).includes('8201'));
    const d = decodeDoc(bytes);
    assert.equal(d.id, 'doc-7');
    assert.equal(d.text, 'a photo of a cat');
    assert.equal(d.uri, 'https://example.com/cat.jpg');
    assert.equal(d.mimeType, 'text/plain');
    assert.ok(d.embedding instanceof Float32Array);
    assert.deepEqual(Array.from(d.embedding), [0.25, -1.5, 3]);
  });

  it('decodes blob=2, tensor=3, chunks=14, matches=15, tags=17, scores=18 from raw bytes', () => {
    const score = [...ld(1, 'cosine'), ...ld(2, [0x0d, ...f32bytes([0.5]), ...ld(2, 'cos')])];
    const tagsStruct = ld(1, [...ld(1, 'k'), ...ld(2, ld(3, 'v'))]); // Struct{fields{k: Value{string_value=3: 'v'}}}
    const bytes = new Uint8Array([
      ...ld(1, 'p'),
      ...ld(2, [1, 2, 3]),
      ...ld(14, ld(1, 'chunk-1')),
      ...ld(15, [...ld(1, 'match-1'), ...ld(18, score)]),
      ...ld(17, tagsStruct),
    ]);
    const d = decodeDoc(bytes);
    assert.deepEqual(Array.from(d.blob!), [1, 2, 3]);
    assert.equal(d.chunks[0]!.id, 'chunk-1');
    assert.equal(d.matches[0]!.id, 'match-1');
    assert.deepEqual(d.matches[0]!.scores, { cosine: { value: 0.5, opName: 'cos' } });
    assert.deepEqual(d.tags, { k: 'v' });

    const t = decodeDoc(new Uint8Array([...ld(1, 't'), ...ld(3, ndarrayBytes([1, 2, 3, 4, 5, 6], [2, 3], '|u1'))]));
    assert.deepEqual(t.tensor!.shape, [2, 3]);
    assert.equal(t.tensor!.dtype, '|u1');
    assert.deepEqual(t.tensor!.toNested(), [[1, 2, 3], [4, 5, 6]]);
  });

  it('decodes the scalar fields 5-8, 10, 12, 13', () => {
    const bytes = new Uint8Array([
      ...ld(1, 's'),
      ...vf(5, 1), // granularity
      ...vf(6, 2), // adjacency
      ...ld(7, 'parent'),
      0x45, ...f32bytes([0.75]), // weight: field 8, fixed32
      ...ld(10, 'image'),
      0x65, ...f32bytes([4]), // offset: field 12, fixed32
      ...ld(13, f32bytes([1, 2])), // location: packed floats
    ]);
    const d = decodeDoc(bytes);
    assert.deepEqual(
      [d.granularity, d.adjacency, d.parentId, d.weight, d.modality, d.offset, d.location],
      [1, 2, 'parent', 0.75, 'image', 4, [1, 2]],
    );
  });

  it('encodes each field under docarray\'s tag', () => {
    const d = new Document({
      id: 'x', text: 'hi', granularity: 1, adjacency: 2, parentId: 'p', weight: 0.5, uri: 'u', modality: 'text',
      mimeType: 'text/plain', offset: 3, location: [1], chunks: [{ id: 'c' }], matches: [{ id: 'm' }],
      embedding: [1, 2], tags: { a: 1 }, scores: { s: { value: 1 } }, evaluations: { e: { value: 2 } },
    });
    assert.deepEqual(tags(encodeDoc(d)), [
      '0a', '22', '28', '30', '3a', '45', '4a', '52', '5a', '65', '6a', '72', '7a', '8201', '8a01', '9201', '9a01',
    ]);
    assert.deepEqual(tags(encodeDoc(new Document({ id: 'b', blob: new Uint8Array([1]) }))), ['0a', '12']);
    assert.deepEqual(tags(encodeDoc(new Document({ id: 't', tensor: NdArray.from(new Float32Array(1)) }))), ['0a', '1a']);
  });

  it('encodes the embedding as NdArrayProto{dense{buffer, shape=[D], dtype="<f4"}, cls_name="numpy"}', () => {
    const bytes = encodeDoc(new Document({ id: 'e', embedding: [0.5, -2, 8] }));
    const nd = sub(bytes, 16);
    assert.deepEqual(tags(nd), ['0a', '1a']);
    assert.equal(Buffer.from(sub(nd, 3)).toString(), 'numpy');
    const dense = walk(sub(nd, 1));
    assert.deepEqual(dense.map((f) => f.tag), ['0a', '12', '1a']);
    assert.deepEqual([...dense[0]!.bytes!], f32bytes([0.5, -2, 8]));
    assert.deepEqual([...dense[1]!.bytes!], [3]); // packed shape [3]
    assert.equal(Buffer.from(dense[2]!.bytes!).toString(), '<f4');
  });

  it('encodes a score map entry as key=1, NamedScoreProto value=2 {value=1 float, op_name=2}', () => {
    const bytes = encodeDoc(new Document({ id: 's', scores: { cosine: { value: 0.5, opName: 'cos' } } }));
    const entry = sub(bytes, 18);
    assert.deepEqual(tags(entry), ['0a', '12']);
    assert.equal(Buffer.from(sub(entry, 1)).toString(), 'cosine');
    const score = sub(entry, 2);
    assert.equal(hex(score), `0d${Buffer.from(f32bytes([0.5])).toString('hex')}1203636f73`);
  });

  it('emits only fields that are set (like Python): a bare doc is just its id', () => {
    assert.equal(hex(encodeDoc(new Document({ id: 'abc' }))), '0a03616263');
  });

  it('puts one content on the wire: blob over tensor over text', () => {
    const both = new Document({ id: 'x', text: 'caption', blob: new Uint8Array([9]), tensor: NdArray.from(new Float32Array(1)) });
    assert.deepEqual(tags(encodeDoc(both)), ['0a', '12']);
    const p = documentToProto(new Document({ id: 'y', text: 'caption', tensor: NdArray.from(new Float32Array(1)) }));
    assert.ok(p.tensor && p.text === undefined);
  });

  it('keeps an empty text (oneof presence) through a round trip', () => {
    const bytes = encodeDoc(new Document({ id: 'x', text: '' }));
    assert.deepEqual(tags(bytes), ['0a', '22']);
    assert.equal(decodeDoc(bytes).text, '');
  });
});

describe('document codec: embeddings', () => {
  const typed: Array<[string, number[], number[]]> = [
    ['<f8', [...new Uint8Array(new Float64Array([0.5, -1.25, 1e-3]).buffer)], [0.5, -1.25, Math.fround(1e-3)]],
    ['<f2', [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b], [1, -2, 65504]],
    ['<i4', [...new Uint8Array(new Int32Array([7, -3, 1 << 20]).buffer)], [7, -3, 1 << 20]],
    ['float64', [...new Uint8Array(new Float64Array([2, 3]).buffer)], [2, 3]],
  ];
  for (const [dtype, buffer, expected] of typed) {
    it(`converts a ${dtype} embedding to float32`, () => {
      const n = expected.length;
      const d = decodeDoc(new Uint8Array([...ld(1, 'e'), ...ld(16, ndarrayBytes(buffer, [n], dtype))]));
      assert.ok(d.embedding instanceof Float32Array);
      assert.deepEqual(Array.from(d.embedding), expected);
    });
  }

  it('decodes float32 embeddings at every byte alignment', () => {
    for (const id of ['a', 'ab', 'abc', 'abcd']) {
      const d = decodeDoc(new Uint8Array([...ld(1, id), ...ld(16, ndarrayBytes(f32bytes([1.5, 2.5]), [2], '<f4'))]));
      assert.deepEqual(Array.from(d.embedding!), [1.5, 2.5], id);
    }
  });

  it('gives the embedding its own memory, not a view that pins the request bytes', () => {
    // Four id lengths put the float bytes at four alignments; the aligned one is the case
    // where a zero-copy view would otherwise be taken.
    for (const id of ['a', 'ab', 'abc', 'abcd']) {
      const bytes = new Uint8Array([...ld(1, id), ...ld(16, ndarrayBytes(f32bytes([1, 2]), [2], '<f4'))]);
      const d = decodeDoc(bytes);
      assert.notEqual(d.embedding!.buffer, bytes.buffer, id);
      bytes.fill(0);
      assert.deepEqual(Array.from(d.embedding!), [1, 2], id);
    }
  });

  it('reads a dense array without a shape as a flat vector', () => {
    const nd = [...ld(1, [...ld(1, f32bytes([1, 2, 3])), ...ld(3, '<f4')])];
    const d = decodeDoc(new Uint8Array([...ld(1, 'e'), ...ld(16, nd), ...ld(3, nd)]));
    assert.deepEqual(Array.from(d.embedding!), [1, 2, 3]);
    assert.deepEqual(d.tensor!.shape, [3]);
    assert.deepEqual(d.tensor!.toNested(), [1, 2, 3]);
  });

  it('encodes any numeric embedding a JS executor assigns as <f4', () => {
    for (const value of [[1, 2.5], new Float64Array([1, 2.5])]) {
      const d = new Document({ id: 'j' });
      (d as { embedding: unknown }).embedding = value;
      const p = documentToProto(d);
      assert.equal(p.embedding!.dense!.dtype, '<f4');
      assert.deepEqual(p.embedding!.dense!.shape, [2]);
      assert.deepEqual([...p.embedding!.dense!.buffer!], f32bytes([1, 2.5]));
    }
  });

  for (const [label, nd, pattern] of [
    ['an unknown dtype', ndarrayBytes(f32bytes([1]), [1], '>f4'), /unsupported dtype >f4/],
    ['a buffer that is not whole elements', ndarrayBytes([1, 2, 3, 4, 5], [1], '<f4'), /5 bytes/],
    ['a sparse array', ld(2, ld(3, [1])), /sparse/],
  ] as const) {
    it(`refuses ${label} with a BadRequestError naming the embedding`, () => {
      const bytes = new Uint8Array([...ld(1, 'e'), ...ld(16, nd)]);
      assert.throws(() => decodeDoc(bytes, 'data.docs[3]'), (e: unknown) => {
        assert.ok(e instanceof BadRequestError, String(e));
        assert.match(e.message, /^data\.docs\[3\]\.embedding: /);
        assert.match(e.message, pattern);
        return true;
      });
    });
  }

  it('names nested paths in errors: matches[i].chunks[j]', () => {
    const bad = ld(16, ndarrayBytes([1, 2, 3], [1], '<f4'));
    const bytes = new Uint8Array([...ld(1, 'r'), ...ld(15, [...ld(1, 'm0')]), ...ld(15, [...ld(1, 'm1'), ...ld(14, [...ld(1, 'c'), ...bad])])]);
    assert.throws(() => decodeDoc(bytes, 'data.docs[0]'), /^BadRequestError: data\.docs\[0\]\.matches\[1\]\.chunks\[0\]\.embedding/);
  });
});

describe('document codec: round trips', () => {
  it('Document -> proto -> Document keeps every field', () => {
    const tensor = NdArray.from(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [2, 2, 3]);
    const d = new Document({
      id: 'root', uri: 'https://x/y.png', mimeType: 'image/png', tensor,
      tags: { n: 1.5, s: 'str', b: false, nil: null, list: [1, 'two', [3]], nested: { deep: { x: -1 } } },
      embedding: [0.1, 0.2, 0.3], weight: 0.25, modality: 'image', location: [0, 10],
      scores: { cosine: { value: 0.125, opName: 'cosine', description: 'd', refId: 'q' } },
      evaluations: { recall: { value: 1 } },
      matches: [{ id: 'm', text: 'match text', adjacency: 1, scores: { clip_score: { value: 0.5 } } }],
      chunks: [{ id: 'c', text: 'chunk', granularity: 1, parentId: 'root' }],
    });
    const back = decodeDoc(encodeDoc(d));
    assert.equal(back.id, 'root');
    assert.equal(back.uri, d.uri);
    assert.equal(back.mimeType, 'image/png');
    assert.deepEqual(back.tensor!.shape, [2, 2, 3]);
    assert.equal(back.tensor!.dtype, '|u1');
    assert.deepEqual([...back.tensor!.buffer], [...tensor.buffer]);
    assert.deepEqual(back.tags, d.tags);
    assert.deepEqual(back.embedding, d.embedding);
    assert.deepEqual([back.weight, back.modality, back.location], [0.25, 'image', [0, 10]]);
    assert.deepEqual(back.scores, d.scores);
    assert.deepEqual(back.evaluations, d.evaluations);
    assert.equal(back.matches[0]!.text, 'match text');
    assert.equal(back.matches[0]!.adjacency, 1);
    assert.deepEqual(back.matches[0]!.scores, { clip_score: { value: 0.5 } });
    assert.deepEqual([back.chunks[0]!.text, back.chunks[0]!.granularity, back.chunks[0]!.parentId], ['chunk', 1, 'root']);
  });

  it('keeps an empty blob', () => {
    const back = decodeDoc(encodeDoc(new Document({ id: 'b', blob: new Uint8Array(0) })));
    assert.ok(back.blob instanceof Uint8Array);
    assert.equal(back.blob.byteLength, 0);
  });

  it('reads a score map entry that has no value as an all-default score', () => {
    const bytes = new Uint8Array([...ld(1, 'x'), ...ld(18, ld(1, 'empty'))]);
    assert.deepEqual(decodeDoc(bytes).scores, { empty: {} });
  });

  it('gives a fresh id to a document sent without one', () => {
    assert.match(decodeDoc(new Uint8Array(ld(4, 'no id'))).id, /^[0-9a-f]{32}$/);
  });

  it('ndarrayToProto / ndarrayFromProto keep dtype, shape and bytes', () => {
    const arr = NdArray.from(new Int16Array([1, -2, 3, -4]), [2, 2]);
    const p = ndarrayToProto(arr);
    assert.equal(p.clsName, 'numpy');
    const back = ndarrayFromProto(p, 'x');
    assert.deepEqual([back.dtype, back.shape, [...back.buffer]], ['<i2', [2, 2], [...arr.buffer]]);
  });
});
