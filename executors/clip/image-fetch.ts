import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { BadRequestError } from '../../core/errors.js';

/** What the server may fetch when a document names a remote image by `uri`. */
export interface FetchPolicy {
  /** Whole-request time limit in ms (connect + redirects + body). */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Hosts (names or IPs) or CIDR ranges exempt from the private-address block. */
  allow: string[];
  maxRedirects: number;
}

export const DEFAULT_FETCH_POLICY: FetchPolicy = { timeoutMs: 10_000, maxBytes: 20 * 1024 * 1024, allow: [], maxRedirects: 5 };

/** Loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved ranges. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

function allowList(policy: FetchPolicy): { hosts: Set<string>; nets: BlockList } {
  const hosts = new Set<string>();
  const nets = new BlockList();
  for (const entry of policy.allow) {
    const [addr, bits] = entry.split('/');
    const family = isIP(addr ?? '');
    if (family && bits) nets.addSubnet(addr!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    else if (family) nets.addAddress(addr!, family === 4 ? 'ipv4' : 'ipv6');
    else hosts.add(entry.toLowerCase());
  }
  return { hosts, nets };
}

/** True when an address is one the server must not reach (after DNS, on every hop). */
export function isBlockedAddress(address: string, policy: FetchPolicy = DEFAULT_FETCH_POLICY): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const { nets } = allowList(policy);
  if (mapped) return !nets.check(mapped[1]!, 'ipv4') && BLOCKED.check(mapped[1]!, 'ipv4');
  return !nets.check(address, family) && BLOCKED.check(address, family);
}

/**
 * A DNS lookup that refuses blocked addresses. It runs inside the socket's connect,
 * so the address checked is the address used (no DNS-rebinding window).
 */
function guardedLookup(policy: FetchPolicy, host: string): LookupFunction {
  const exempt = allowList(policy).hosts.has(host.toLowerCase());
  return ((hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !exempt && isBlockedAddress(a.address, policy));
      if (bad) return callback(new BadRequestError(`refusing to fetch ${hostname}: it resolves to a private or reserved address (${bad.address})`), []);
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  }) as LookupFunction;
}

/** Fetches an http(s) image URL under the policy; every failure is the caller's error, named. */
export async function fetchImage(url: string, policy: FetchPolicy = DEFAULT_FETCH_POLICY, signal?: AbortSignal): Promise<Uint8Array> {
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  let current = new URL(url);
  for (let hop = 0; hop <= policy.maxRedirects; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new BadRequestError(`refusing to fetch ${current.protocol} URL: only http(s) and data: URIs are fetched by the server`);
    }
    const host = current.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !allowList(policy).hosts.has(host) && isBlockedAddress(host, policy)) {
      throw new BadRequestError(`refusing to fetch ${current.href}: private or reserved address`);
    }
    const res = await get(current, policy, host, combined);
    if (res.status >= 300 && res.status < 400 && res.location) {
      current = new URL(res.location, current);
      continue;
    }
    if (res.status !== 200) throw new BadRequestError(`fetching ${current.href} failed with HTTP ${res.status}`);
    return res.body!;
  }
  throw new BadRequestError(`fetching ${url}: more than ${policy.maxRedirects} redirects`);
}

function get(url: URL, policy: FetchPolicy, host: string, signal: AbortSignal): Promise<{ status: number; location?: string; body?: Uint8Array }> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { lookup: guardedLookup(policy, host), signal, headers: { accept: 'image/*', 'user-agent': 'clipflow' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        return resolve({ status, location: res.headers.location });
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > policy.maxBytes) {
        res.destroy();
        return reject(new BadRequestError(`${url.href} is ${declared} bytes, over the ${policy.maxBytes}-byte fetch limit`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > policy.maxBytes) {
          res.destroy();
          reject(new BadRequestError(`${url.href} exceeds the ${policy.maxBytes}-byte fetch limit`));
        } else chunks.push(c);
      });
      res.on('end', () => resolve({ status, body: new Uint8Array(Buffer.concat(chunks, size)) }));
      res.on('error', reject);
    });
    req.on('error', (e) => {
      if (e instanceof BadRequestError) return reject(e);
      const why = signal.aborted ? `timed out after ${policy.timeoutMs} ms` : e.message;
      reject(new BadRequestError(`fetching ${url.href} failed: ${why}`));
    });
  });
}
