import { describe, expect, it } from 'vitest';
import { correlationIdFor } from '../../shared/http/correlation.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('correlation id', () => {
  it('takes the trace id from a well-formed traceparent', () => {
    const headers = new Headers({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-correlation-id': 'given-id-123' });
    expect(correlationIdFor(headers, 'inv-1')).toBe(traceId);
  });

  it('accepts a later traceparent version with more fields, as W3C asks', () => {
    expect(correlationIdFor(new Headers({ traceparent: `01-${traceId}-00f067aa0ba902b7-01-extra` }), 'inv-1')).toBe(traceId);
  });

  it('falls back to a well-formed x-correlation-id', () => {
    expect(correlationIdFor(new Headers({ 'x-correlation-id': 'req-2026-abc' }), 'inv-1')).toBe('req-2026-abc');
  });

  it.each([
    ['a malformed traceparent', { traceparent: 'not-a-trace' }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }],
    ['an all-zero parent id', { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01` }],
    ['version ff', { traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }],
    ['version 00 with a fifth field', { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra' }],
    ['an x-correlation-id with markup', { 'x-correlation-id': 'abc<script>x' }],
    ['an over-long x-correlation-id', { 'x-correlation-id': 'a'.repeat(129) }],
  ])('ignores %s and uses the invocation id', (_what, headers) => {
    expect(correlationIdFor(new Headers(headers), 'inv-1')).toBe('inv-1');
  });
});
