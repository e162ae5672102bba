// A minimal in-memory OpenTelemetry TracerProvider written against
// @opentelemetry/api alone (no SDK): enough to see which spans clipflow starts,
// with which attributes and status. Registered globally for one test process.
import {
  trace, type Attributes, type AttributeValue, type Context, type Span, type SpanContext, type SpanOptions,
  type SpanStatus, type Tracer, type TracerProvider,
} from '@opentelemetry/api';

/** What the recorder keeps of an ended span. */
export interface RecordedSpan {
  name: string;
  attributes: Attributes;
  status?: SpanStatus;
  exceptions: number;
  ended: boolean;
}

class RecordingSpan implements Span {
  constructor(private readonly record: RecordedSpan) {}
  spanContext(): SpanContext {
    return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(): void {
    this.record.exceptions++;
  }
}

/** Registers the recorder as the global provider and returns the list it fills. */
export function recordSpans(): RecordedSpan[] {
  const spans: RecordedSpan[] = [];
  const start = (name: string, options?: SpanOptions): Span => {
    const record: RecordedSpan = { name, attributes: { ...(options?.attributes ?? {}) }, exceptions: 0, ended: false };
    spans.push(record);
    return new RecordingSpan(record);
  };
  const tracer: Tracer = {
    startSpan: (name: string, options?: SpanOptions, _context?: Context) => start(name, options),
    // Only the (name, fn) and (name, options, fn) forms are needed here.
    startActiveSpan: ((name: string, ...rest: unknown[]) => {
      const fn = rest[rest.length - 1] as (span: Span) => unknown;
      return fn(start(name, typeof rest[0] === 'object' ? (rest[0] as SpanOptions) : undefined));
    }) as Tracer['startActiveSpan'],
  };
  const provider: TracerProvider = { getTracer: () => tracer };
  trace.setGlobalTracerProvider(provider);
  return spans;
}
