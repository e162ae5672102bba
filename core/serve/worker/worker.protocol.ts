/**
 * What a gateway and an executor worker agree on beyond Jina's wire protocol.
 * Everything here is optional on the wire: a Jina client (or a Jina gateway)
 * talking to a clipflow worker simply never sees or sends these.
 */

/** gRPC method paths a gateway calls on a worker (Jina 3's services plus the standard health check). */
export const WORKER_METHODS = {
  process: '/jina.JinaSingleDataRequestRPC/process_single_data',
  discovery: '/jina.JinaDiscoverEndpointsRPC/endpoint_discovery',
  status: '/jina.JinaInfoRPC/_status',
  health: '/grpc.health.v1.Health/Check',
} as const;

/**
 * Trailing metadata on a reply whose `header.status` is ERROR: our ErrorCode.
 * Jina's StatusProto has no code field, and the code decides whether the caller
 * gets a 4xx (their document was bad) or a 5xx, so it travels beside the reply.
 */
export const ERROR_CODE_TRAILER = 'clipflow-error-code';

/**
 * Set on an UNAVAILABLE status when the worker refused a request without
 * running it (still starting, or draining for shutdown). The gateway may then
 * resend it elsewhere even when it is a write.
 */
export const REJECTED_TRAILER = 'clipflow-rejected';

/**
 * Endpoints that change state. A request to one of them is never resent
 * after it may have reached a worker (see RemoteExecutorNode). Workers add the
 * executor's own list (`metas.write_endpoints`) in endpoint_discovery.
 */
export const DEFAULT_WRITE_ENDPOINTS: readonly string[] = ['/index', '/update', '/delete'];

/** The container port `clipflow export` gives every worker. */
export const DEFAULT_WORKER_PORT = 8081;
