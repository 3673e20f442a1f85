import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
  TraceFlags,
} from '@opentelemetry/api';

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
/** version-traceid-parentid-flags; versions after 00 may append fields (W3C Trace Context, §3.2). */
const HEADER = /^\s?([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\s?$/;

/**
 * The W3C Trace Context propagator (`traceparent` + `tracestate`), for the mode where nothing is
 * recorded (shared/telemetry/setup.ts). It behaves as @opentelemetry/core's
 * W3CTraceContextPropagator (test/unit/w3c-propagator.test.ts holds the two to the same answers),
 * without importing that package: it pulls in the semantic conventions and costs more start-up
 * time than everything else telemetry loads.
 */
export class W3CPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext)) return;
    const flags = Number(spanContext.traceFlags || TraceFlags.NONE).toString(16);
    setter.set(carrier, TRACEPARENT, `00-${spanContext.traceId}-${spanContext.spanId}-0${flags}`);
    if (spanContext.traceState) setter.set(carrier, TRACESTATE, spanContext.traceState.serialize());
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = single(getter.get(carrier, TRACEPARENT));
    if (typeof header !== 'string' || !header) return context;
    const match = HEADER.exec(header);
    if (!match) return context;
    const [, version, traceId, spanId, flags, rest] = match;
    // Version ff is forbidden; version 00 has exactly four fields.
    if (version === 'ff' || (version === '00' && rest) || !traceId || !spanId || !flags) return context;
    const spanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
    if (!isSpanContextValid(spanContext)) return context;
    const state = getter.get(carrier, TRACESTATE);
    const traceState = Array.isArray(state) ? state.join(',') : state;
    return trace.setSpanContext(context, traceState ? { ...spanContext, traceState: createTraceState(traceState) } : spanContext);
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
