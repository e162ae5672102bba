import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * Jina 3's gRPC services (package `jina`), built by hand instead of with
 * proto-loader. Every message travels as a raw Buffer in both directions: the
 * handlers decode with our own codec, so a malformed message becomes a clean
 * INVALID_ARGUMENT naming the problem rather than a grpc-js INTERNAL raised
 * inside a deserializer.
 */

/** Passes bytes through untouched; a Uint8Array from the codec is viewed as a Buffer, not copied. */
export const asBuffer = (value: Buffer | Uint8Array): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);

function method(
  service: string,
  name: string,
  kind: { requestStream: boolean; responseStream: boolean },
): MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${service}/${name}`,
    requestStream: kind.requestStream,
    responseStream: kind.responseStream,
    requestSerialize: asBuffer,
    requestDeserialize: asBuffer,
    responseSerialize: asBuffer,
    responseDeserialize: asBuffer,
    originalName: name,
  };
}

const UNARY = { requestStream: false, responseStream: false };
const BIDI = { requestStream: true, responseStream: true };

/** Fully qualified service names, as the health service and clients know them. */
export const JINA_SERVICE_NAMES = {
  call: 'jina.JinaRPC',
  single: 'jina.JinaSingleDataRequestRPC',
  discovery: 'jina.JinaDiscoverEndpointsRPC',
  dryRun: 'jina.JinaGatewayDryRunRPC',
  info: 'jina.JinaInfoRPC',
} as const;

/** `JinaRPC/Call`: bidirectional stream of `DataRequestProto`. */
export const jinaRpcService: ServiceDefinition = {
  Call: method(JINA_SERVICE_NAMES.call, 'Call', BIDI),
};

/** `JinaSingleDataRequestRPC/process_single_data`: one `DataRequestProto` each way. */
export const jinaSingleDataRequestService: ServiceDefinition = {
  process_single_data: method(JINA_SERVICE_NAMES.single, 'process_single_data', UNARY),
};

/** `JinaDiscoverEndpointsRPC/endpoint_discovery`: `Empty` → `EndpointsProto`. */
export const jinaDiscoverEndpointsService: ServiceDefinition = {
  endpoint_discovery: method(JINA_SERVICE_NAMES.discovery, 'endpoint_discovery', UNARY),
};

/** `JinaGatewayDryRunRPC/dry_run`: `Empty` → `StatusProto`. */
export const jinaGatewayDryRunService: ServiceDefinition = {
  dry_run: method(JINA_SERVICE_NAMES.dryRun, 'dry_run', UNARY),
};

/** `JinaInfoRPC/_status`: `Empty` → `JinaInfoProto`. */
export const jinaInfoService: ServiceDefinition = {
  _status: method(JINA_SERVICE_NAMES.info, '_status', UNARY),
};
