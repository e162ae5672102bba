import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Document } from '../../../../core/document/document.js';
import { documentToJson } from '../../../../core/json/document.json.js';
import { jsonRequestBody } from '../../../../core/json/request-body.js';
import { dataRequestFromJson } from '../../../../core/json/request.json.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17) & 255);

function docs(): Document[] {
  const withChunk = new Document({ blob: bytes(300, 1), mimeType: 'image/png', tags: { label: 'a "quoted", tag' } });
  withChunk.chunks.push(new Document({ blob: bytes(40, 2), text: 'nested' }));
  return [
    new Document({ blob: bytes(1000, 3), mimeType: 'image/jpeg' }),
    new Document({ text: 'naïve café ☕ — "quotes", \\ backslash\nnewline \u2028 and \u0001' }),
    withChunk,
    new Document({ blob: new Uint8Array(0) }),
    new Document({ id: 'plain' }),
    new Document({ blob: bytes(2, 4), uri: 'https://example.com/x.png' }),
  ];
}

describe('jsonRequestBody', () => {
  it('is the JSON that JSON.stringify gives for the same request, blobs, unicode and nested documents included', () => {
    const d = docs();
    const envelope = { execEndpoint: '/encode', parameters: { drop_image_content: true, note: 'é"' }, header: { request_id: 'r1' } };
    const body = jsonRequestBody(envelope, d);
    assert.ok(Buffer.isBuffer(body));
    assert.deepEqual(JSON.parse(body.toString('utf8')), { ...envelope, data: d.map(documentToJson) });
  });

  it('parses back, through the server reader, into the documents that were sent', () => {
    const d = docs();
    const request = dataRequestFromJson(JSON.parse(jsonRequestBody({ execEndpoint: '/encode' }, d).toString('utf8')));
    assert.equal(request.endpoint, '/encode');
    assert.deepEqual(request.docs.map((x) => x.id), d.map((x) => x.id));
    assert.deepEqual(request.docs.map((x) => x.blob && Buffer.from(x.blob).toString('hex')), d.map((x) => x.blob && Buffer.from(x.blob).toString('hex')));
    assert.equal(request.docs[1]!.text, d[1]!.text);
    assert.deepEqual(Buffer.from(request.docs[2]!.chunks[0]!.blob!), Buffer.from(bytes(40, 2)));
  });

  it('handles an empty envelope and no documents', () => {
    assert.deepEqual(JSON.parse(jsonRequestBody({}, []).toString()), { data: [] });
    assert.deepEqual(JSON.parse(jsonRequestBody({ a: 1 }, [new Document({ id: 'x' })]).toString()), { a: 1, data: [{ id: 'x' }] });
  });
});
