import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.js';
import { startTelemetry } from '../../shared/telemetry/setup.js';
import { tracer } from '../../shared/telemetry/tracing.js';
import { call } from '../support/http.js';
import { uniqueId } from '../support/ids.js';
import { outageSwitch } from '../support/outage.js';
import { startStack, type Stack } from '../support/stack.js';

const exporter = new InMemorySpanExporter();
const outage = outageSwitch();
let stack: Stack;

beforeAll(async () => {
  // Registered before the function files load, so the app's own start-up call finds it in place.
  expect(await startTelemetry({ spanProcessors: [new SimpleSpanProcessor(exporter)] })).toBe('recording');
  stack = await startStack({}, { createBackend: outage.createBackend });
});

afterAll(async () => {
  await stack.close();
});

beforeEach(() => {
  exporter.reset();
  stack.sidecar.journal.reset();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

const spans = (kind: SpanKind) => exporter.getFinishedSpans().filter((span) => span.kind === kind);
const stateSpans = () => spans(SpanKind.CLIENT).filter((span) => span.name.startsWith('state '));
const serverSpan = (): ReadableSpan => {
  const [only, ...rest] = spans(SpanKind.SERVER);
  expect(rest).toEqual([]);
  if (!only) throw new Error('no invocation span');
  return only;
};

describe('traces that join up', () => {
  it('records a span per invocation, a child of the trace the caller started, and echoes its trace id', async () => {
    const user = uniqueId('t');
    const response = await call('GET', `${stack.api}/users/${user}/chat/messages`, { user, headers: { traceparent } });

    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe(TRACE_ID);
    const invocation = serverSpan();
    expect(invocation.name).toBe('chat-history');
    expect(invocation.spanContext().traceId).toBe(TRACE_ID);
    // Its parent is the host's activity (remote), which is itself the caller's child.
    expect(invocation.parentSpanContext?.isRemote).toBe(true);
    expect(invocation.parentSpanContext?.spanId).not.toBe('00f067aa0ba902b7');
    expect(invocation.attributes).toMatchObject({ 'faas.trigger': 'http', 'http.request.method': 'GET', 'http.response.status_code': 200 });
  });

  it('records a child span per state call with store, operation and outcome, and sends it to the sidecar as traceparent', async () => {
    const user = uniqueId('t');
    await call('GET', `${stack.api}/users/${user}/chat/messages`, { user, headers: { traceparent } });

    const invocation = serverSpan();
    const [read, ...others] = stateSpans();
    expect(others).toEqual([]);
    expect(read?.parentSpanContext?.spanId).toBe(invocation.spanContext().spanId);
    expect(read?.attributes).toMatchObject({ 'db.system.name': 'dapr', 'db.namespace': 'statestore', 'dapr.state.outcome': 'ok' });

    const sent = stack.sidecar.journal.entries().filter((entry) => entry.store === 'statestore');
    expect(sent.map((entry) => entry.traceparent)).toEqual([`00-${TRACE_ID}-${read?.spanContext().spanId}-01`]);
  });

  it('numbers compare-and-set attempts and sends every write with the trace context', async () => {
    const user = uniqueId('t');
    // Concurrent creates on one task list: all read the same revision, so the losers retry.
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call('POST', `${stack.api}/users/${user}/tasks`, { user, headers: { traceparent }, body: { title: `task ${i}` } }),
      ),
    );

    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const attempts = stateSpans().map((span) => span.attributes['dapr.state.attempt']);
    expect(attempts).toContain(1);
    expect(attempts).toContain(2);
    const conflicts = stateSpans().filter((span) => span.attributes['dapr.state.outcome'] === 'conflict');
    expect(conflicts.length).toBeGreaterThan(0);
    const sent = stack.sidecar.journal.entries().filter((entry) => entry.operation !== 'metadata');
    expect(sent.length).toBe(stateSpans().length);
    for (const entry of sent) expect(entry.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  });

  it('starts a new trace when the caller sent none, and uses its id as the correlation id', async () => {
    const response = await call('GET', `${stack.api}/health`);

    const invocation = serverSpan();
    expect(response.headers.get('x-correlation-id')).toBe(invocation.spanContext().traceId);
    expect(invocation.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it('reports a failed state call as such on its span, and the invocation as failed', async () => {
    const user = uniqueId('t');
    outage.takeDown('statestore');
    try {
      const response = await call('GET', `${stack.api}/users/${user}/chat/messages`, { user });
      expect(response.status).toBe(503);
    } finally {
      outage.bringBack('statestore');
    }
    const [failed, ...others] = stateSpans();
    expect(others).toEqual([]);
    expect(failed?.attributes['dapr.state.outcome']).toBe('unavailable');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(serverSpan().attributes['http.response.status_code']).toBe(503);
    expect(serverSpan().status.code).toBe(SpanStatusCode.ERROR);
  });

  it('reports a request the client got wrong as a successful state call under a 4xx invocation', async () => {
    const user = uniqueId('t');
    // An unknown cursor is a 400 after one read: the read succeeded, the invocation did not fail.
    const response = await call('GET', `${stack.api}/users/${user}/chat/messages?before=nope`, { user });
    expect(response.status).toBe(400);
    expect(stateSpans().map((span) => span.attributes['dapr.state.outcome'])).toEqual(['ok']);
    expect(serverSpan().attributes['http.response.status_code']).toBe(400);
    expect(serverSpan().status.code).not.toBe(SpanStatusCode.ERROR);
  });
});

describe('log lines inside a span', () => {
  it('carry trace_id and span_id of the active span', () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    tracer().startActiveSpan('work', (span) => {
      log.info('inside');
      span.end();
      expect(lines[0]).toMatchObject({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    });
    log.info('outside');
    expect(lines[1]).not.toHaveProperty('trace_id');
  });
});
