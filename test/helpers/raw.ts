// Raw per-protocol senders for the contract suite's malformed-input cases: they
// bypass our Client so the bytes on the wire are exactly what the test says.
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';

/** Sends raw bytes to process_single_data; resolves with the gRPC status code and details. */
export function grpcRaw(address: string, bytes: Buffer): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest('/jina.JinaSingleDataRequestRPC/process_single_data', (b: Buffer) => b, (b: Buffer) => b, bytes, (err) => {
      client.close();
      resolve({ code: err?.code ?? 0, details: err?.details ?? '' });
    });
  });
}

/** POSTs a raw body to /post; resolves with the status and parsed JSON body. */
export async function httpRaw(url: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/post`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Sends one raw frame on the `json` subprotocol, then a valid request; resolves with both replies. */
export function wsRaw(url: string, frame: string, followUp: string): Promise<[Record<string, unknown>, Record<string, unknown>]> {
  const ws = new WebSocket(url, 'json');
  const replies: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    ws.on('open', () => {
      ws.send(frame);
      ws.send(followUp);
    });
    ws.on('message', (data) => {
      replies.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (replies.length === 2) {
        ws.close();
        resolve([replies[0]!, replies[1]!]);
      }
    });
    ws.on('error', reject);
  });
}
