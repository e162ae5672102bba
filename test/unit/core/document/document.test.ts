import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Document, newDocumentId } from '../../../../core/document/document.js';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { NdArray } from '../../../../core/document/ndarray.js';

describe('Document', () => {
  it('gets a 32-digit lowercase hex id by default, unique per document', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { id } = new Document();
      assert.match(id, /^[0-9a-f]{32}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 500);
    assert.match(newDocumentId(), /^[0-9a-f]{32}$/);
  });

  it('keeps a given id and replaces an empty one', () => {
    assert.equal(new Document({ id: 'doc-1' }).id, 'doc-1');
    assert.match(new Document({ id: '' }).id, /^[0-9a-f]{32}$/);
  });

  it('turns a number[] embedding into a Float32Array and keeps a Float32Array as is', () => {
    const d = new Document({ embedding: [0.5, -1, 3] });
    assert.ok(d.embedding instanceof Float32Array);
    assert.deepEqual(Array.from(d.embedding), [0.5, -1, 3]);
    const f = new Float32Array([1, 2]);
    assert.equal(new Document({ embedding: f }).embedding, f);
  });

  it('builds nested matches and chunks from plain inits, recursively', () => {
    const d = new Document({
      text: 'root',
      matches: [{ id: 'm1', text: 'match', matches: [{ id: 'mm1' }] }, new Document({ id: 'm2' })],
      chunks: [{ id: 'c1', embedding: [1, 2] }],
    });
    assert.ok(d.matches instanceof DocumentArray);
    assert.ok(d.chunks instanceof DocumentArray);
    assert.ok(d.matches[0] instanceof Document);
    assert.equal(d.matches[0]!.text, 'match');
    assert.ok(d.matches[0]!.matches[0] instanceof Document);
    assert.equal(d.matches[0]!.matches[0]!.id, 'mm1');
    assert.equal(d.matches[1]!.id, 'm2');
    assert.ok(d.chunks[0]!.embedding instanceof Float32Array);
    assert.equal(d.chunks.length, 1);
  });

  it('starts with empty tags, scores, evaluations, matches and chunks, and leaves the rest unset', () => {
    const d = new Document();
    assert.deepEqual(d.tags, {});
    assert.deepEqual(d.scores, {});
    assert.deepEqual(d.evaluations, {});
    assert.equal(d.matches.length, 0);
    assert.equal(d.chunks.length, 0);
    for (const k of ['text', 'blob', 'tensor', 'uri', 'mimeType', 'embedding', 'weight', 'parentId'] as const) {
      assert.equal(d[k], undefined, k);
    }
  });

  it('copies tags and scores so the init object is not shared', () => {
    const tags = { a: 1 };
    const d = new Document({ tags, scores: { s: { value: 1 } } });
    d.tags.b = 2;
    assert.deepEqual(tags, { a: 1 });
  });

  it('copies the scalar fields it is given', () => {
    const d = new Document({ granularity: 1, adjacency: 2, parentId: 'p', weight: 0.5, modality: 'image', offset: 3, location: [1, 2] });
    assert.deepEqual(
      [d.granularity, d.adjacency, d.parentId, d.weight, d.modality, d.offset, d.location],
      [1, 2, 'p', 0.5, 'image', 3, [1, 2]],
    );
  });

  describe('contentType', () => {
    it('names the content field that is set', () => {
      assert.equal(new Document({ text: 'hi' }).contentType, 'text');
      assert.equal(new Document({ blob: new Uint8Array([1]) }).contentType, 'blob');
      assert.equal(new Document({ tensor: NdArray.from(new Float32Array(2)) }).contentType, 'tensor');
      assert.equal(new Document({ uri: 'https://x/y.png' }).contentType, 'uri');
      assert.equal(new Document().contentType, undefined);
    });

    it('ignores empty text and empty blobs', () => {
      assert.equal(new Document({ text: '', uri: 'u' }).contentType, 'uri');
      assert.equal(new Document({ blob: new Uint8Array(0) }).contentType, undefined);
    });

    it('prefers text over blob over tensor over uri', () => {
      const t = NdArray.from(new Float32Array(1));
      assert.equal(new Document({ text: 'a', blob: new Uint8Array([1]), tensor: t, uri: 'u' }).contentType, 'text');
      assert.equal(new Document({ blob: new Uint8Array([1]), tensor: t, uri: 'u' }).contentType, 'blob');
      assert.equal(new Document({ tensor: t, uri: 'u' }).contentType, 'tensor');
    });
  });
});
