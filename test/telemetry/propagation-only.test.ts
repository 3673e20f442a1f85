import { context, INVALID_SPAN_CONTEXT, ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../shared/telemetry/setup.js';
import { activeTraceFields } from '../../shared/telemetry/tracing.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack.close();
});

describe('without an exporter (the local default)', () => {
  it('records nothing, yet sends every state call the host’s trace context with the caller’s sampling decision', async () => {
    expect(await startTelemetry()).toBe('propagation-only');
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const user = uniqueId('p');
    stack.sidecar.journal.reset();

    const response = await call('POST', `${stack.api}/users/${user}/chat/messages`, {
      user,
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      body: { role: 'user', content: 'hi' },
    });

    expect(response.status).toBe(201);
    const sent = stack.sidecar.journal.entries().filter((entry) => entry.store !== undefined);
    expect(sent.length).toBeGreaterThan(0);
    // Passed through, not re-sampled: daprd's spans join the trace and follow the caller's sampled flag.
    for (const entry of sent) expect(entry.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(response.headers.get('x-correlation-id')).toBe(traceId);
  });

  it('gives log lines the host’s trace and span ids, and none rather than zeros when no trace was handed over', async () => {
    expect(await startTelemetry()).toBe('propagation-only');
    const host: SpanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true };
    const within = (spanContext: SpanContext) => context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), activeTraceFields);
    expect(within(host)).toEqual({ trace_id: host.traceId, span_id: host.spanId });
    expect(within(INVALID_SPAN_CONTEXT)).toBeUndefined();
    expect(activeTraceFields()).toBeUndefined();
  });
});
