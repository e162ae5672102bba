// The request mix of the soak test: good requests and one of each kind of bad
// one, each a function of (server, protocol, sequence number) -> what the caller saw.
import { Document } from '../../../core/document/document.js';
import { BAD_IMAGES } from './bad-images.js';
import { SMALL_PNG, grpcAddress, type Proto, type Served } from './harness.js';
import { grpcUnary, httpPost, requestBytes, requestJson, sendDocs, wsOnce, type Seen } from './wire.js';

/** One kind of request the soak sends; `good` says whether it must succeed. */
export type Case = { name: string; good: boolean; run(s: Served, protocol: Proto, i: number): Promise<Seen> };

/** The mix: two good kinds, the rest each a row of BAD_INPUT.md. */
export const CASES: Case[] = [
  { name: 'text', good: true, run: (s, p, i) => sendDocs(p, s, [new Document({ text: `soak caption ${i}` })]) },
  { name: 'image', good: true, run: (s, p) => sendDocs(p, s, [new Document({ blob: SMALL_PNG }), new Document({ text: 'and a caption' })]) },
  { name: 'bad image', good: false, run: (s, p, i) => sendDocs(p, s, [new Document({ blob: BAD_IMAGES[i % BAD_IMAGES.length]!.bytes })]) },
  { name: 'empty doc', good: false, run: (s, p) => sendDocs(p, s, [new Document({ id: 'hollow' })]) },
  { name: 'unknown endpoint', good: false, run: (s, p) => sendDocs(p, s, [new Document({ text: 'x' })], '/nope') },
  { name: 'too many docs', good: false, run: (s, p) => sendDocs(p, s, Array.from({ length: 60 }, (_, k) => new Document({ text: `${k}` }))) },
  { name: 'async throw', good: false, run: (s, p) => sendDocs(p, s, [new Document({ text: 'x' })], '/explode') },
  {
    name: 'malformed',
    good: false,
    run: (s, p) =>
      p === 'http' ? httpPost(s.url('http'), '{"data": [{"text": 5}]}')
      : p === 'grpc' ? grpcUnary(grpcAddress(s), Buffer.from([0x22, 0x05, 0x0a, 0x03, 0x0a, 0x01]))
      : wsOnce(s.url('websocket'), 'json', '{"data": ['),
  },
  {
    name: 'hang-up',
    good: false,
    run: async (s) => {
      const ac = new AbortController();
      const pending = fetch(`${s.url('http')}/post`, { method: 'POST', body: requestJson([new Document({ text: 'x' })], '/sleep', { parameters: { delay_ms: 300 } }), signal: ac.signal }).catch(() => undefined);
      setTimeout(() => ac.abort(), 30);
      await pending;
      return { ok: false, via: 'close', code: 0, message: 'client hung up' };
    },
  },
  { name: 'header timeout', good: false, run: (s) => grpcUnary(grpcAddress(s), requestBytes([new Document({ text: 'x' })], '/sleep', { timeout: 20, parameters: { delay_ms: 200 } })) },
];
