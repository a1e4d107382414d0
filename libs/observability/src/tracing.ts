import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context as TraceContext, type Span };

/** The W3C trace context header, on Kafka messages as on HTTP. */
export const TRACEPARENT = 'traceparent';

let provider: TracerProvider | undefined;
let tracer: Tracer | undefined;

/**
 * Whether spans are recorded at all. Off (no OTLP endpoint configured) nothing is made: callers
 * on a data path test this first, so that no span, context or header exists when tracing is off.
 */
export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

/**
 * Starts exporting spans of this process over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`; does
 * nothing without an endpoint. W3C trace context is the propagation format, and the active span
 * follows async calls (AsyncLocalStorage).
 */
export function startTracing(service: string, endpoint: string | undefined): void {
  if (!endpoint || provider) return;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 500 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer('airlock');
}

/** Sends the spans still buffered and stops; shutdown hooks call it. */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = undefined;
  tracer = undefined;
  await p?.shutdown();
}

/** Starts a span (a child of `parent`, else of the active span). Only call it when tracingEnabled(). */
export function startSpan(name: string, kind: SpanKind, parent?: Context, startTime?: number): Span {
  if (!tracer) throw new Error('tracing is off');
  return tracer.startSpan(name, { kind, startTime }, parent ?? context.active());
}

/** Runs `fn` with `span` active, so the requests it makes carry it as their parent. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends a span with an error status when `err` is set. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
  }
  span.end();
}

/** The trace and span ids of the active span, or undefined (tracing off, or no span active). */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  if (!tracer) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** The ids of a span, as audit events carry them. */
export function traceIdsOf(span: Span): { traceId: string; spanId: string } {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** Adds the active span's `traceparent` to outgoing message headers (nothing when tracing is off). */
export function injectTraceHeaders(headers: Record<string, string>): void {
  if (!tracer) return;
  propagation.inject(context.active(), headers);
}

/** A W3C traceparent for a span of a trace (sampled). */
export function traceparentOf(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined;

const headerGetter: TextMapGetter<RawHeaders> = {
  keys: (carrier) => Object.keys(carrier ?? {}),
  get: (carrier, key) => {
    const v = carrier?.[key];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v.map((x) => x.toString());
    return v.toString();
  },
};

/** The remote parent a message's headers name (ROOT_CONTEXT when they name none). */
export function contextFromHeaders(headers: RawHeaders): Context {
  if (!tracer) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** The remote parent given by ids kept elsewhere (an audit event's traceId and spanId). */
export function contextFromIds(traceId: string, spanId: string): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}
