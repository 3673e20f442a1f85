import { type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter, trace } from '@opentelemetry/api';
// The propagator alone, not @opentelemetry/core's index: that pulls in the semantic conventions and
// costs more start-up time than everything else telemetry loads (core has no exports map, so the
// path is part of its published layout; test/unit/w3c-propagator.test.ts fails if it moves).
import { W3CTraceContextPropagator } from '@opentelemetry/core/build/src/trace/W3CTraceContextPropagator.js';

/** The trace-flag bits W3C Trace Context defines: sampled (level 1) and random (level 2). */
const KNOWN_FLAGS = 0x03;

/**
 * OpenTelemetry's W3C Trace Context propagator (`traceparent` + `tracestate`), for the mode where
 * nothing is recorded (shared/telemetry/setup.ts). There, spans carry the caller's context
 * unchanged, so the flags read are the flags sent on: reserved bits are cleared as they are read,
 * as the specification asks, which also keeps a flags byte of 0x10 or more from being written back
 * as three hex digits.
 */
export class W3CPropagator implements TextMapPropagator {
  readonly #inner = new W3CTraceContextPropagator();

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.#inner.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const extracted = this.#inner.extract(context, carrier, getter);
    const spanContext = trace.getSpanContext(extracted);
    if (extracted === context || !spanContext || (spanContext.traceFlags & ~KNOWN_FLAGS) === 0) return extracted;
    return trace.setSpanContext(extracted, { ...spanContext, traceFlags: spanContext.traceFlags & KNOWN_FLAGS });
  }

  fields(): string[] {
    return this.#inner.fields();
  }
}
