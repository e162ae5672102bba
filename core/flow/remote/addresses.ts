import { FlowConfigError } from '../../errors.js';
import type { ExecutorConfig } from '../config.js';

/** One worker a gateway connects to. */
export interface WorkerAddress {
  host: string;
  port: number;
}

/** `host:port`, with brackets for IPv6 literals. */
export function formatAddress(a: WorkerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * The workers of an external executor entry, in order. `host` may list several
 * hosts (a YAML list, or one string with commas):
 * - one host: every port is on it (`host: 10.0.0.5, port: [8081, 8082]`);
 * - one port: every host listens on it (`host: a,b,c, port: 8081`);
 * - as many hosts as ports: paired in order.
 * @throws FlowConfigError when the counts fit none of these.
 */
export function workerAddresses(config: ExecutorConfig): WorkerAddress[] {
  const hosts = (config.host ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  const ports = config.port ?? [];
  const where = `executor '${config.name}'`;
  if (!hosts.length) throw new FlowConfigError(`${where}: external: true needs a host`);
  if (!ports.length) throw new FlowConfigError(`${where}: external: true needs a port`);
  if (hosts.length === 1) return ports.map((port) => ({ host: hosts[0]!, port }));
  if (ports.length === 1) return hosts.map((host) => ({ host, port: ports[0]! }));
  if (hosts.length === ports.length) return hosts.map((host, i) => ({ host, port: ports[i]! }));
  throw new FlowConfigError(`${where}: ${hosts.length} hosts and ${ports.length} ports cannot be paired; give one host, one port, or as many of each`);
}

/**
 * Splits an external sharded executor's workers into shards: the address list
 * is cut into `shards` equal runs, in order, and each run is one shard's
 * replicas. `port: [a, b]` with `shards: 2` is two shards of one replica each;
 * `port: [a1, a2, b1, b2]` with `shards: 2` is two shards of two replicas.
 * @throws FlowConfigError when the workers don't divide evenly.
 */
export function shardAddresses(config: ExecutorConfig): WorkerAddress[][] {
  const all = workerAddresses(config);
  const shards = config.shards;
  if (all.length % shards !== 0) {
    throw new FlowConfigError(
      `executor '${config.name}': ${all.length} worker address(es) cannot be split evenly into ${shards} shards; list shards x replicas addresses, shard by shard`,
    );
  }
  const per = all.length / shards;
  return Array.from({ length: shards }, (_, i) => all.slice(i * per, (i + 1) * per));
}
