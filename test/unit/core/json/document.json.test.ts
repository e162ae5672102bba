import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Document } from '../../../../core/document/document.js';
import { NdArray } from '../../../../core/document/ndarray.js';
import { BadRequestError } from '../../../../core/errors.js';
import { decodeBase64, documentFromJson, documentsFromJson, documentToJson } from '../../../../core/json/document.json.js';
import { prng } from '../../../../bench/prng.js';

const f = Math.fround;

/** The keys docarray's `to_dict()` writes for every document, null when unset. */
function toDict(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id: null, parent_id: null, granularity: null, adjacency: null, blob: null, tensor: null, mime_type: null,
    text: null, weight: null, uri: null, tags: null, offset: null, location: null, embedding: null,
    modality: null, evaluations: null, scores: null, chunks: null, matches: null, ...fields,
  };
}

/** What "unset" looks like after our round trip: null fields (and null score parts) gone. */
function withoutUnset(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (v === null) continue;
    if (k === 'chunks' || k === 'matches') out[k] = (v as Record<string, unknown>[]).map(withoutUnset);
    else if (k === 'scores' || k === 'evaluations') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, Record<string, unknown>>).map(([name, s]) => [
        name, Object.fromEntries(Object.entries(s).filter(([, x]) => x !== null)),
      ]));
    } else out[k] = v;
  }
  return out;
}

/** Expects a BadRequestError whose message starts with exactly `path: `. */
function throwsAt(fn: () => unknown, path: string, detail?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BadRequestError, `expected BadRequestError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${path}: `), `message "${e.message}" should start with "${path}: "`);
    if (detail) assert.match(e.message, detail);
    return true;
  });
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0xff]);

const docs = [
  toDict({
    id: 'q1',
    text: 'a photo of a dog',
    mime_type: 'text/plain',
    tags: { source: 'client', n: 2.5, flag: false, nothing: null, nested: { list: [1, 'x', true, null], obj: {} } },
    embedding: [f(0.1), f(-0.2), f(0.3), 0, f(1e-3)],
    matches: [
      toDict({
        id: 'm1', uri: 'https://example.com/dog.jpg', adjacency: 1,
        scores: { clip_score: { value: 0.75, op_name: 'softmax', description: null, ref_id: null }, clip_score_cosine: { value: 0.3125, op_name: 'cosine', description: 'cos', ref_id: 'q1' } },
      }),
      toDict({ id: 'm2', text: 'a dog', adjacency: 1, scores: { clip_score: { value: 0.25, op_name: null, description: null, ref_id: null } } }),
    ],
    chunks: [toDict({ id: 'c1', text: 'dog', granularity: 1, parent_id: 'q1', location: [2, 5] })],
  }),
  toDict({ id: 'b1', blob: PNG.toString('base64'), mime_type: 'image/png', uri: 'dog.png', weight: 0.5 }),
  toDict({ id: 't1', tensor: [[[0, 0.5, 1], [2, 3, 4]], [[5, 6, 7], [-8, 9.25, 255]]], modality: 'image', offset: 3 }),
  toDict({ id: 'e1', evaluations: { recall: { value: 1, op_name: null, description: 'r@1', ref_id: 'q1' } } }),
];

describe('Document <-> Jina HTTP JSON', () => {
  it('to_dict-shaped docs survive JSON -> Document -> JSON (nulls mean unset)', () => {
    const back = documentsFromJson(structuredClone(docs)).map(documentToJson);
    assert.deepEqual(back, docs.map(withoutUnset));
  });

  it('also after a trip through JSON text', () => {
    const parsed = JSON.parse(JSON.stringify(docs)) as unknown[];
    assert.deepEqual(JSON.parse(JSON.stringify(documentsFromJson(parsed).map(documentToJson))), docs.map(withoutUnset));
  });

  it('maps the JSON fields onto the camelCase Document', () => {
    const [q, b, t] = documentsFromJson(structuredClone(docs));
    assert.equal(q!.mimeType, 'text/plain');
    assert.ok(q!.embedding instanceof Float32Array);
    assert.equal(q!.embedding.length, 5);
    assert.deepEqual(q!.matches[0]!.scores.clip_score, { value: 0.75, opName: 'softmax' });
    assert.equal(q!.chunks[0]!.parentId, 'q1');
    assert.equal(q!.tags.nothing, null);
    assert.deepEqual([...b!.blob!], [...PNG]);
    assert.equal(b!.contentType, 'blob');
    assert.ok(t!.tensor instanceof NdArray);
    assert.deepEqual(t!.tensor.shape, [2, 2, 3]);
    assert.equal(t!.tensor.dtype, '<f4');
  });

  it('writes snake_case keys, base64 blobs and plain number lists', () => {
    const d = new Document({
      id: 'x', blob: new Uint8Array([1, 2, 3]), mimeType: 'a/b', parentId: 'p', embedding: [0.5],
      scores: { s: { value: 1, opName: 'op', refId: 'r' } }, tensor: NdArray.from(new Int32Array([1, 2, 3, 4]), [2, 2]),
    });
    assert.deepEqual(documentToJson(d), {
      id: 'x', blob: 'AQID', tensor: [[1, 2], [3, 4]], mime_type: 'a/b', embedding: [0.5], parent_id: 'p',
      scores: { s: { value: 1, op_name: 'op', ref_id: 'r' } },
    });
  });

  it('encodes a blob that is a view into a larger buffer correctly', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    assert.equal(documentToJson(new Document({ id: 'v', blob: backing.subarray(2, 5) })).blob, 'AQID');
  });

  it('accepts camelCase spellings, numeric ids, base64url, wrapped base64 and numeric scores', () => {
    const d = documentFromJson({ id: 7, mimeType: 'image/png', parentId: 'p', blob: 'AQID\n+/8=', scores: { s: 0.5, t: { value: 1, opName: 'o', refId: 'r' } } });
    assert.equal(d.id, '7');
    assert.equal(d.mimeType, 'image/png');
    assert.equal(d.parentId, 'p');
    assert.deepEqual([...d.blob!], [1, 2, 3, 0xfb, 0xff]);
    assert.deepEqual(d.scores, { s: { value: 0.5 }, t: { value: 1, opName: 'o', refId: 'r' } });
    assert.deepEqual([...documentFromJson({ blob: '-_8' }).blob!], [0xfb, 0xff]);
  });

  it('flattens a nested embedding to a float32 vector and accepts a bare number', () => {
    assert.deepEqual(Array.from(documentFromJson({ embedding: [[1, 2], [3, 4]] }).embedding!), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(documentFromJson({ embedding: 5 }).embedding!), [5]);
  });

  it('gives an id to a doc sent without one, and keeps nulls as unset', () => {
    const d = documentFromJson({ id: null, text: null, blob: null, embedding: null, tags: null, matches: null });
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.equal(d.text, undefined);
    assert.equal(d.blob, undefined);
    assert.deepEqual(documentToJson(d), { id: d.id });
  });

  it('accepts {"docs": [...]} as well as a bare list, and treats a missing list as empty', () => {
    const wrapped = documentsFromJson({ docs: [{ id: 'a' }, { id: 'b' }] });
    assert.deepEqual(wrapped.map((d) => d.id), ['a', 'b']);
    assert.equal(documentsFromJson(undefined).length, 0);
    assert.equal(documentsFromJson(null).length, 0);
  });
});

describe('JSON errors name the exact path', () => {
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['text is a number', [{ text: 5 }], 'data[0].text', /expected a string, got a number/],
    ['uri is an object', [{}, { uri: {} }], 'data[1].uri', /got an object/],
    ['mime_type is a list', [{ mime_type: [] }], 'data[0].mime_type', /got a list/],
    ['nested match embedding is a string', [{}, { matches: [{ embedding: 'abc' }] }], 'data[1].matches[0].embedding', /list of numbers/],
    ['nested match embedding holds a string', [{}, { matches: [{ embedding: [1, 'a'] }] }], 'data[1].matches[0].embedding', /numbers/],
    ['embedding is ragged', [{ embedding: [[1, 2], [3]] }], 'data[0].embedding', /ragged/],
    ['blob is not base64', [{}, {}, { blob: 'not base64!' }], 'data[2].blob', /^data\[2\]\.blob: not valid base64$/],
    ['blob has an impossible length', [{}, {}, { blob: 'QUJDR' }], 'data[2].blob', /not valid base64/],
    ['blob has padding in the middle', [{ blob: 'QQ==QQ==' }], 'data[0].blob', /not valid base64/],
    ['blob is a number list', [{ blob: [1, 2] }], 'data[0].blob', /expected a string/],
    ['tensor is a string', [{ tensor: 'x' }], 'data[0].tensor'],
    ['tensor is ragged', [{ tensor: [[1], [2, 3], []] }], 'data[0].tensor', /ragged/],
    ['tags is a list', [{ tags: [1] }], 'data[0].tags', /expected an object, got a list/],
    ['weight is a string', [{ weight: '1' }], 'data[0].weight', /expected a number/],
    ['granularity is infinite-ish', [{ granularity: 'x' }], 'data[0].granularity'],
    ['location holds a string', [{ location: [1, 'x'] }], 'data[0].location[1]'],
    ['scores is a list', [{ scores: [] }], 'data[0].scores', /expected an object/],
    ['a score is a string', [{ scores: { cos: 'high' } }], 'data[0].scores.cos'],
    ['a score value is a string', [{ scores: { cos: { value: 'x' } } }], 'data[0].scores.cos.value'],
    ['a score op_name is a number', [{}, { matches: [{ scores: { cos: { value: 1, op_name: 3 } } }] }], 'data[1].matches[0].scores.cos.op_name'],
    ['chunks is an object', [{ chunks: {} }], 'data[0].chunks', /expected a list/],
    ['a chunk is a number', [{ chunks: [{}, 5] }], 'data[0].chunks[1]', /expected a document object, got a number/],
    ['a deep chunk text is a bool', [{ matches: [{ chunks: [{ text: true }] }] }], 'data[0].matches[0].chunks[0].text'],
    ['a doc is a string', [{}, 'text'], 'data[1]', /expected a document object/],
    ['a doc is null', [null], 'data[0]'],
    ['data is a string', 'hello', 'data', /expected a list of documents/],
  ];
  for (const [label, data, path, detail] of cases) {
    it(`${label} -> ${path}`, () => throwsAt(() => documentsFromJson(data), path, detail));
  }

  it('names data.docs[i] in the wrapped form', () => {
    throwsAt(() => documentsFromJson({ docs: [{}, { text: 1 }] }), 'data.docs[1].text');
  });

  it('is a 400 / INVALID_ARGUMENT', () => {
    try {
      documentsFromJson([{ text: 1 }]);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof BadRequestError);
      assert.equal(e.httpStatus, 400);
      assert.equal(e.code, 'INVALID_ARGUMENT');
    }
  });
});

describe('decodeBase64', () => {
  // The reference: strip whitespace, check every character and the length, then decode.
  const reference = (text: string): Buffer | null => {
    const c = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(c) || c.length % 4 === 1 || (c.endsWith('=') && c.length % 4 !== 0)) return null;
    return Buffer.from(c, c.includes('-') || c.includes('_') ? 'base64url' : 'base64');
  };

  it('accepts standard, URL-safe, unpadded and whitespace-wrapped base64', () => {
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    for (const text of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64').replace(/(.{76})/g, '$1\n')]) {
      assert.deepEqual(Buffer.from(decodeBase64(text, 'x')), bytes);
    }
  });

  it('refuses what is not base64, naming where', () => {
    for (const text of ['QUJD*', 'QU=JD', 'a', 'QQ==QQ==', 'QUJD\u00e9QUJD']) {
      assert.throws(() => decodeBase64(text, 'data[3].blob'), /data\[3\]\.blob: not valid base64/, JSON.stringify(text));
    }
  });

  it('agrees with the character-by-character check on random strings', () => {
    const good = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const odd = '=-_* \n.\u00e9';
    const rand = prng(11);
    for (let i = 0; i < 50_000; i++) {
      let text = '';
      for (let j = Math.floor(rand() * 13); j > 0; j--) text += rand() < 0.85 ? good[Math.floor(rand() * 64)] : odd[Math.floor(rand() * odd.length)];
      const expected = reference(text);
      let got: Uint8Array | null;
      try {
        got = decodeBase64(text, 'x');
      } catch {
        got = null;
      }
      assert.deepEqual(got && Buffer.from(got), expected, JSON.stringify(text));
    }
  });
});
