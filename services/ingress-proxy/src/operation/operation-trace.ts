import { ROOT_CONTEXT, SpanKind, endSpan, startSpan, traceIdsOf, withSpan } from '@airlock/observability';

/** The trace and span an operation's audit events name (Envelope.traceId, spanId). */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/**
 * Runs one operation as the root span of a trace of its own: the requests it makes to policy,
 * the vault and approval carry it (traceparent), and its audit events name it, so the recorder's
 * span joins the same trace. Call it only when tracing is on: off, adapters call their work
 * directly and nothing is made. The span ends when `run` settles (the decision, and for HTTP the
 * upstream's answer); the response's body is not part of it.
 */
export function traceOperation<T>(name: string, run: (ids: TraceIds) => T | Promise<T>): T | Promise<T> {
  const span = startSpan(name, SpanKind.SERVER, ROOT_CONTEXT);
  let result: T | Promise<T>;
  try {
    result = withSpan(span, () => run(traceIdsOf(span)));
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
  if (!(result instanceof Promise)) {
    endSpan(span);
    return result;
  }
  return result.then(
    (value) => {
      endSpan(span);
      return value;
    },
    (err: unknown) => {
      endSpan(span, err);
      throw err;
    },
  );
}
