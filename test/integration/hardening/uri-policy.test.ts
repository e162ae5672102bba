// The server-side URI policy (executors/clip/image-fetch.ts), end to end through
// the gateway: local files, loopback, private and metadata addresses are refused,
// and refused BEFORE any connection is made; redirects are checked on every hop;
// `uri_allowlist` opens exactly what it lists; size and time limits hold.
// Only loopback is ever contacted: the "private" targets must never be reached.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Document } from '../../../core/document/document.js';
import { assertDocumentRefused } from './expect.js';
import { DIM, PROTOCOLS, SMALL_PNG, serveHardening, withNeighbour, type Served } from './harness.js';
import { sendDocs, withGoodFirst } from './wire.js';
import { readFileSync } from 'node:fs';
import { packagePath } from '../../../core/config/paths.js';

const PHOTO = readFileSync(packagePath('test', 'fixtures', 'images', 'photo_640x427.jpg'));

/** A loopback image server that counts every request it gets. */
async function imageServer(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/img.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(SMALL_PNG);
    if (req.url === '/big.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': PHOTO.length }).end(PHOTO);
    if (req.url === '/big-chunked.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' });
      return res.end(PHOTO); // no content-length: the limit must hold while streaming
    }
    if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/to-ipv6-loopback') return res.writeHead(302, { location: `http://[::1]:${(server.address() as AddressInfo).port}/img.png` }).end();
    if (req.url === '/slow.png') return; // never answers: the fetch timeout must end it
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/**
 * Every TCP connection the encoder's fetcher opens (its requests say
 * `user-agent: clipflow`), by remote address, seen through Node's diagnostics channel.
 */
function watchFetches(): { connected: string[]; started: string[]; stop(): void } {
  const connected: string[] = [];
  const started: string[] = [];
  const onStart = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    if (request.getHeader('user-agent') !== 'clipflow') return;
    started.push(`${request.host}${request.path}`);
    request.on('socket', (socket: Socket) => socket.on('connect', () => connected.push(socket.remoteAddress ?? '?')));
  };
  subscribe('http.client.request.start', onStart);
  return { connected, started, stop: () => unsubscribe('http.client.request.start', onStart) };
}

describe('URI policy through the gateway', () => {
  let images: Awaited<ReturnType<typeof imageServer>>;
  let strict: Served;
  let allowing: Served;
  const watch = watchFetches();
  before(async () => {
    images = await imageServer();
    strict = await serveHardening();
    allowing = await serveHardening({ encoderWith: "uri_allowlist: ['127.0.0.1'], fetch_max_bytes: 4096, fetch_timeout_ms: 400" });
  });
  after(async () => {
    watch.stop();
    await Promise.all([strict.close(1000), allowing.close(1000)]);
    images.server.closeAllConnections();
    images.server.close();
  });

  const refusedTargets = () => [
    { uri: 'file:///etc/passwd', reason: /does not read local files/ },
    { uri: '/etc/passwd', reason: /does not read local files/ },
    { uri: 'C:\\Windows\\win.ini', reason: /does not read local files|unsupported uri scheme/ },
    { uri: `http://127.0.0.1:${images.port}/img.png`, reason: /private or reserved address/ },
    { uri: 'http://10.1.2.3/cat.png', reason: /private or reserved address/ },
    { uri: 'http://169.254.169.254/latest/meta-data/', reason: /private or reserved address/ },
    { uri: `http://[::1]:${images.port}/img.png`, reason: /private or reserved address/ },
    { uri: `http://localhost:${images.port}/img.png`, reason: /refusing to fetch localhost: it resolves to a private or reserved address \(127\.0\.0\.1|::1\)/ },
    { uri: 'ftp://example.com/cat.png', reason: /only http\(s\) and data: URIs/ },
  ];

  for (const protocol of PROTOCOLS) {
    it(`${protocol}: local files, loopback, private, metadata, [::1] and localhost are refused, naming the document`, async () => {
      for (const { uri, reason } of refusedTargets()) {
        const seen = await withNeighbour(strict, protocol, () => sendDocs(protocol, strict, withGoodFirst(new Document({ id: 'bad-1', uri }))));
        assertDocumentRefused(protocol, seen, /document bad-1 \(index 1\)/, reason);
      }
    });
  }

  it('nothing refused was ever contacted: no connection left the process, and the loopback server saw no request', () => {
    // localhost got as far as DNS (its lookup is what refused it); the IP literals not even that.
    assert.ok(watch.started.every((s) => s.startsWith('localhost')), `requests started: ${watch.started.join(', ')}`);
    assert.deepEqual(watch.connected, []);
    assert.deepEqual(images.hits, []);
  });

  it('uri_allowlist opens 127.0.0.1: the image is fetched and encoded', async () => {
    const seen = await withNeighbour(allowing, 'http', () => sendDocs('http', allowing, [new Document({ id: 'remote', uri: `http://127.0.0.1:${images.port}/img.png` })]));
    assert.equal(seen.ok, true, JSON.stringify(seen));
    if (seen.ok) assert.equal((seen.docs[0]!.embedding as number[]).length, DIM);
    assert.deepEqual(images.hits, ['/img.png']);
    assert.ok(watch.connected.every((a) => a === '127.0.0.1'), watch.connected.join(', '));
  });

  it('a redirect from the allowed host to a private one is refused on that hop, before connecting', async () => {
    const before = watch.started.length;
    for (const [path, target] of [['/to-metadata', /169\.254\.169\.254/], ['/to-ipv6-loopback', /\[::1\]/]] as const) {
      const seen = await withNeighbour(allowing, 'grpc', () => sendDocs('grpc', allowing, withGoodFirst(new Document({ id: 'bad-1', uri: `http://127.0.0.1:${images.port}${path}` }))));
      assertDocumentRefused('grpc', seen, /document bad-1 \(index 1\)/, target);
    }
    // Only the two first hops (to the allowed loopback server) were requested; the private hops never started.
    assert.deepEqual(watch.started.slice(before), ['127.0.0.1/to-metadata', '127.0.0.1/to-ipv6-loopback']);
    assert.ok(watch.connected.every((a) => a === '127.0.0.1'), watch.connected.join(', '));
  });

  it('fetch size limit (declared and streamed) and fetch time limit', async () => {
    const cases = [
      ['/big.jpg', /is \d+ bytes, over the 4096-byte fetch limit/],
      ['/big-chunked.jpg', /exceeds the 4096-byte fetch limit/],
      ['/slow.png', /timed out after 400 ms/],
      ['/missing.png', /failed with HTTP 404/],
    ] as const;
    for (const [path, reason] of cases) {
      const seen = await withNeighbour(allowing, 'websocket', () => sendDocs('websocket', allowing, withGoodFirst(new Document({ id: 'bad-1', uri: `http://127.0.0.1:${images.port}${path}` }))));
      assertDocumentRefused('websocket', seen, /document bad-1 \(index 1\)/, reason);
    }
  });
});
