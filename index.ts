/**
 * clipflow's public API. Everything users import comes from here, listed
 * explicitly so the surface is a deliberate choice.
 */
export { Document, newDocumentId, type DocumentInit, type NamedScore } from './core/document/document.js';
export { DocumentArray, parseAccessPaths } from './core/document/document-array.js';
export { NdArray, type TypedArray } from './core/document/ndarray.js';
export { Executor, type ExecutorContext, type ExecutorClass, type ExecutorMetrics, type HandlerArgs, type HandlerResult } from './core/executor/executor.js';
export { requests, dynamicBatching, DEFAULT_ENDPOINT, type DynamicBatchingOptions } from './core/executor/decorators.js';
export { ExecutorRegistry } from './core/executor/registry.js';
export {
  ClipflowError, BadRequestError, NotFoundError, UnauthenticatedError, PayloadTooLargeError,
  DeadlineExceededError, CancelledError, UnavailableError, FlowConfigError, ExecutorError, type ErrorCode,
} from './core/errors.js';
export { DataRequest, type RequestStatus, type Route, type ExceptionInfo } from './core/request/data-request.js';
export { encodeDataRequest, decodeDataRequest } from './core/proto/request.codec.js';
export { documentToProto, documentFromProto } from './core/proto/document.codec.js';
export { documentToJson, documentFromJson, documentsFromJson } from './core/json/document.json.js';
export { dataRequestToJson, dataRequestFromJson } from './core/json/request.json.js';
export type { FlowConfig, ExecutorConfig, GatewayConfig, Protocol } from './core/flow/config.js';
export type { GatewayHandler, CallContext, LivenessReport } from './core/serve/handler.js';
export { Client, type ClientOptions, type RequestOptions, type PostOptions, type SearchOptions, type ProfileResult } from './core/client/client.js';
export { RemoteError, TransportError } from './core/client/errors.js';
export type { ClientInput, ClientInputs } from './core/client/inputs.js';
export { Flow, type FlowOptions } from './core/flow/flow.js';
export { loadFlowFile, parseFlow, type FlowOverrides } from './core/flow/load.js';
export { serveFlow, type ServingFlow } from './core/serve/gateway.js';
export { serveExecutor, type ExecutorWorkerOptions, type ServingWorker } from './core/serve/worker/serve-executor.js';
export { exportKubernetes, exportDockerCompose, type ExportOptions, type ExportResult } from './core/export/write.js';
export { ClipEncoder } from './executors/clip/clip-encoder.executor.js';
export { cosine } from './executors/clip/rank.js';
export { VectorIndexer } from './executors/indexers/vector-indexer.executor.js';
export { WorkspaceLockedError } from './executors/indexers/workspace-lock.js';
export type { IndexBackend, IndexBackendName, StoredDoc, SearchHit, SearchRequest, AnnIndexOptions } from './executors/indexers/index-backend.js';
export { RerankerClient, applyRanking } from './executors/reranker-client.executor.js';
export { ClipTokenizer, CLIP_CONTEXT_LENGTH, type TokenizedBatch } from './executors/clip/tokenizer/clip-tokenizer.js';
export { preprocessImage, preprocessInto, decodeImage } from './executors/clip/preprocess/index.js';
export { ensureModel, type EnsureModelOptions, type EnsuredModel } from './executors/clip/models/ensure-model.js';
export { resolveModelDir, type ModelSpec, type ModelLayout } from './executors/clip/models/model-dir.js';
export { getModel, listModels, registerModel } from './executors/clip/models/model-registry.js';
export { DEFAULT_MODEL, type ModelEntry } from './executors/clip/models/model-table.js';
export { inferenceRuntime, ProviderUnavailableError, ModelLoadError, type InferenceRuntime, type InferenceSession, type ExecutionProvider } from './runtimes/index.js';
