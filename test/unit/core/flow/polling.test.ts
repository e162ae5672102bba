import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentArray } from '../../../../core/document/document-array.js';
import type { ExecutorConfig } from '../../../../core/flow/config.js';
import { pollingFor, reduceShards } from '../../../../core/flow/polling.js';
import { shardAddresses, workerAddresses } from '../../../../core/flow/remote/addresses.js';

const query = (id: string, matches: [string, number][], key = 'cosine') =>
  new DocumentArray([{ id, matches: matches.map(([m, v]) => ({ id: m, scores: { [key]: { value: v } } })) }]);

describe('pollingFor', () => {
  it("follows Jina: one value for every endpoint, or per endpoint with '*' for the rest", () => {
    assert.equal(pollingFor('ALL', '/index'), 'ALL');
    assert.equal(pollingFor('ANY', '/search'), 'ANY');
    assert.equal(pollingFor({ '/index': 'ALL', '*': 'ALL' }, '/foo'), 'ALL');
    assert.equal(pollingFor({ index: 'ALL' }, '/index'), 'ALL');
    assert.equal(pollingFor({ '/default': 'ALL' }, '/'), 'ALL');
  });
  it('defaults: /search, /update, /delete go to every shard, anything else to one', () => {
    for (const ep of ['/search', '/update', '/delete']) assert.equal(pollingFor(undefined, ep), 'ALL');
    for (const ep of ['/', '/index', '/encode', '/custom']) assert.equal(pollingFor(undefined, ep), 'ANY');
    assert.equal(pollingFor({ '/index': 'ANY' }, '/search'), 'ALL');
  });
});

describe('reduceShards', () => {
  it('merges matches by ascending cosine distance and keeps parameters.limit', () => {
    const out = reduceShards([{ docs: query('q', [['a', 0.1], ['b', 0.4]]) }, { docs: query('q', [['c', 0.2], ['d', 0.3]]) }], { limit: 3 });
    assert.deepEqual(out.docs[0]!.matches.map((m) => m.id), ['a', 'c', 'd']);
  });
  it('without a limit keeps as many as the largest shard list', () => {
    const out = reduceShards([{ docs: query('q', [['a', 0.5], ['b', 0.6]]) }, { docs: query('q', [['c', 0.1]]) }], {});
    assert.deepEqual(out.docs[0]!.matches.map((m) => m.id), ['c', 'a']);
  });
  it('reads the order of other scores from the shards (descending similarity)', () => {
    const out = reduceShards([{ docs: query('q', [['a', 0.9], ['b', 0.2]], 'clip_score') }, { docs: query('q', [['c', 0.5], ['d', 0.4]], 'clip_score') }], { limit: 4 });
    assert.deepEqual(out.docs[0]!.matches.map((m) => m.id), ['a', 'c', 'd', 'b']);
  });
  it('keeps every shard result under its shard', () => {
    const out = reduceShards([{ docs: new DocumentArray(), result: { n: 1 } }, { docs: new DocumentArray() }], {});
    assert.deepEqual(out.result, { 'shard-0': { n: 1 }, 'shard-1': null });
  });
});

describe('worker addresses', () => {
  const cfg = (host: string, port: number[], shards = 1) => ({ name: 'x', host, port, shards }) as unknown as ExecutorConfig;
  it('pairs hosts and ports: one host, one port, or as many of each', () => {
    assert.deepEqual(workerAddresses(cfg('h', [1, 2])), [{ host: 'h', port: 1 }, { host: 'h', port: 2 }]);
    assert.deepEqual(workerAddresses(cfg('a,b', [7])), [{ host: 'a', port: 7 }, { host: 'b', port: 7 }]);
    assert.deepEqual(workerAddresses(cfg('a, b', [1, 2])), [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
    assert.throws(() => workerAddresses(cfg('a,b', [1, 2, 3])), /2 hosts and 3 ports cannot be paired/);
  });
  it('cuts the list into shards, in order: shards x replicas', () => {
    assert.deepEqual(shardAddresses(cfg('h', [1, 2, 3, 4], 2)).map((s) => s.map((a) => a.port)), [[1, 2], [3, 4]]);
    assert.throws(() => shardAddresses(cfg('h', [1, 2, 3], 2)), /3 worker address\(es\) cannot be split evenly into 2 shards/);
  });
});
