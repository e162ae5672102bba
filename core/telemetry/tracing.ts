import { context, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { ClipflowError, errorMessage } from '../errors.js';

/**
 * OpenTelemetry spans through `@opentelemetry/api` only. Without a registered SDK
 * the API hands out non-recording spans, so these helpers cost a few object
 * allocations and nothing else; an application that registers an SDK (and a
 * context manager) before starting the flow gets request, preprocess and
 * inference spans parented under each other.
 */
const TRACER_NAME = 'clipflow';

/** The tracer, looked up per call so an SDK registered after import still takes effect. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Runs `fn` inside a span that is active for everything it awaits. The span
 * records the error and ERROR status when `fn` throws (a caller's mistake too:
 * the status says the operation failed, the `clipflow.error_code` attribute why).
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer().startSpan(name, { attributes });
  try {
    return await context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (e) {
    markFailed(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** Sets a span's status and error attributes from a thrown value. */
export function markFailed(span: Span, e: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
  if (e instanceof ClipflowError) span.setAttribute('clipflow.error_code', e.code);
  if (e instanceof Error) span.recordException(e);
}
