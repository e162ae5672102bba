// BAD_INPUT.md, image rows: every bad image on every protocol fails its own
// request with a message naming the document (id and index) and the reason,
// while a good request on the same server runs beside it and succeeds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Document } from '../../../core/document/document.js';
import { readFileSync } from 'node:fs';
import { packagePath } from '../../../core/config/paths.js';
import { NdArray } from '../../../core/document/ndarray.js';
import { BAD_IMAGES, ONE_BY_ONE } from './bad-images.js';
import { assertDocumentRefused, assertRefused } from './expect.js';
import { DIM, PROTOCOLS, serveHardening, withNeighbour, type Served } from './harness.js';
import { httpPost, sendDocs, withGoodFirst, wsOnce } from './wire.js';

const BAD_DOC = /document bad-1 \(index 1\)/;

describe('bad images, every protocol, each beside a good request', () => {
  let serving: Served;
  before(async () => {
    serving = await serveHardening();
  });
  after(() => serving.close(1000));

  for (const protocol of PROTOCOLS) {
    describe(protocol, () => {
      for (const { name, bytes, reason } of BAD_IMAGES) {
        it(`${name}: refused in-band, naming the document`, async () => {
          const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, withGoodFirst(new Document({ id: 'bad-1', blob: bytes }))));
          assertDocumentRefused(protocol, seen, BAD_DOC, reason);
        });
      }

      it('zero-byte blob: refused, naming the document', async () => {
        const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, withGoodFirst(new Document({ id: 'bad-1', blob: new Uint8Array(0) }))));
        assertDocumentRefused(protocol, seen, BAD_DOC, /blob is empty \(0 bytes\)/);
      });

      it('invalid base64 in a data: URI: refused, naming the document', async () => {
        const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, withGoodFirst(new Document({ id: 'bad-1', uri: 'data:image/png;base64,iVBOR!!!not*base64' }))));
        assertDocumentRefused(protocol, seen, BAD_DOC, /payload is not valid base64/);
      });

      it('a document with nothing to encode: refused, naming it', async () => {
        const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, withGoodFirst(new Document({ id: 'bad-1' }))));
        assertDocumentRefused(protocol, seen, BAD_DOC, /has no text, blob, tensor or uri/);
      });

      it('a 1x1 image is valid and encodes', async () => {
        const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, withGoodFirst(new Document({ id: 'one', blob: ONE_BY_ONE }))));
        assert.equal(seen.ok, true, JSON.stringify(seen));
        if (seen.ok) assert.deepEqual(seen.docs.map((d) => (d.embedding as number[]).length), [DIM, DIM]);
      });

      it('an empty request (no documents) succeeds with no documents', async () => {
        const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, []));
        assert.equal(seen.ok, true, JSON.stringify(seen));
        if (seen.ok) assert.equal(seen.docs.length, 0);
      });
    });
  }

  // JSON carries blobs as base64: only HTTP and the WebSocket json subprotocol can get it wrong.
  it('http: invalid base64 in a JSON blob is a 400 naming the field and the document id', async () => {
    const body = JSON.stringify({ data: [{ id: 'fine-0', text: 'x' }, { id: 'bad-1', blob: 'not base64!' }], execEndpoint: '/encode' });
    const seen = await withNeighbour(serving, 'http', () => httpPost(serving.url('http'), body));
    assertRefused('http', seen, { via: 'status', code: 400 }, /data\[1\]\.blob: not valid base64 \(document id "bad-1"\)/);
  });

  it('websocket json: invalid base64 in a JSON blob gets an error frame naming the field', async () => {
    const frame = JSON.stringify({ data: [{ id: 'bad-1', blob: '@@@@' }], execEndpoint: '/encode' });
    const seen = await withNeighbour(serving, 'websocket', () => wsOnce(serving.url('websocket'), 'json', frame));
    assertRefused('websocket', seen, { via: 'status', code: 'INVALID_ARGUMENT' }, /data\[0\]\.blob: not valid base64 \(document id "bad-1"\)/);
  });
});

describe('max_image_pixels in the encoder\'s with:', () => {
  let serving: Served;
  before(async () => {
    serving = await serveHardening({ encoderWith: 'max_image_pixels: 1000' });
  });
  after(() => serving.close(1000));

  it('an image or tensor over the configured budget is refused from its header; one under it encodes', async () => {
    const photo = new Uint8Array(readFileSync(packagePath('test', 'fixtures', 'images', 'photo_640x427.jpg')));
    for (const protocol of PROTOCOLS) {
      const seen = await withNeighbour(serving, protocol, () => sendDocs(protocol, serving, withGoodFirst(new Document({ id: 'bad-1', blob: photo }))));
      assertDocumentRefused(protocol, seen, BAD_DOC, /image is 640x427 \(0\.3 megapixels\), over the limit of 1000 pixels \(max_image_pixels\)/);
    }
    const tensor = NdArray.from(new Uint8Array(40 * 30 * 3), [40, 30, 3]);
    const seen = await sendDocs('grpc', serving, withGoodFirst(new Document({ id: 'bad-1', tensor })));
    assertDocumentRefused('grpc', seen, BAD_DOC, /image is 30x40 \(1200 pixels\), over the limit of 1000 pixels/);
  });
});
