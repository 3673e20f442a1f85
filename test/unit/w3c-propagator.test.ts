import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { W3CPropagator } from '../../shared/telemetry/w3c-propagator.js';

const ours = new W3CPropagator();
const reference = new W3CTraceContextPropagator();

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
/** Well-formed headers, near misses (zeros, ff, extra fields, case, spaces) and noise. */
const traceparent = fc.oneof(
  fc.tuple(hex(2), hex(32), hex(16), hex(2)).map((parts) => parts.join('-')),
  fc
    .tuple(fc.constantFrom('00', 'ff', '01', 'cc'), hex(32), hex(16), hex(2), fc.constantFrom('', '-x', '-', ' '))
    .map(([v, t, s, f, tail]) => `${v}-${t}-${s}-${f}${tail}`),
  fc.constantFrom(
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
    ' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
    '',
  ),
  fc.string(),
);
const member = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9_*/-]{0,12}$/), fc.stringMatching(/^[!-+\--<>-~]{1,40}$/))
  .map(([k, v]) => `${k}=${v}`);
/** Short and odd values, and the limits: over 32 members, over 512 characters, repeated keys. */
const tracestate = fc.option(
  fc.oneof(
    fc.constantFrom('congo=t61rcWkgMzE', 'a=1,b=2', 'a=1,b=2,a=3', 'bad key=1', ' x=y , z=w '),
    fc.array(member, { minLength: 1, maxLength: 60 }).map((members) => members.join(',')),
    fc.string(),
  ),
  { nil: undefined },
);

function extracted(propagator: W3CPropagator | W3CTraceContextPropagator, headers: Record<string, string | undefined>) {
  const spanContext = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
  return spanContext && { ...spanContext, traceState: spanContext.traceState?.serialize() };
}

function injected(propagator: W3CPropagator | W3CTraceContextPropagator, from: Record<string, string | undefined>) {
  const carrier: Record<string, string> = {};
  propagator.inject(ours.extract(ROOT_CONTEXT, from, defaultTextMapGetter), carrier, defaultTextMapSetter);
  return carrier;
}

describe('the W3C propagator used when nothing is recorded', () => {
  it('reads every traceparent/tracestate as OpenTelemetry’s propagator does, keeping only the flag bits W3C defines', () => {
    fc.assert(
      fc.property(traceparent, tracestate, (parent, state) => {
        const headers = { traceparent: parent, tracestate: state };
        const expected = extracted(reference, headers);
        expect(extracted(ours, headers)).toEqual(expected && { ...expected, traceFlags: expected.traceFlags & 0x03 });
      }),
      { numRuns: 2000, seed: 20261201 },
    );
  });

  it('always writes a well-formed traceparent, the same headers as OpenTelemetry’s propagator for what it read', () => {
    fc.assert(
      fc.property(traceparent, tracestate, (parent, state) => {
        const headers = { traceparent: parent, tracestate: state };
        const written = injected(ours, headers);
        expect(written).toEqual(injected(reference, headers));
        if (written.traceparent !== undefined) expect(written.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
      }),
      { numRuns: 2000, seed: 20261201 },
    );
  });

  it('passes a sampled caller’s context through unchanged, and clears reserved flag bits', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const carrier: Record<string, string> = {};
    const read = ours.extract(context.active(), { traceparent: parent, tracestate: 'congo=t61rcWkgMzE' }, defaultTextMapGetter);
    expect(trace.getSpanContext(read)).toMatchObject({ traceFlags: TraceFlags.SAMPLED, isRemote: true });
    ours.inject(read, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: parent, tracestate: 'congo=t61rcWkgMzE' });

    const reserved = ours.extract(ROOT_CONTEXT, { traceparent: parent.replace(/-01$/, '-ff') }, defaultTextMapGetter);
    const sent: Record<string, string> = {};
    ours.inject(reserved, sent, defaultTextMapSetter);
    expect(sent.traceparent).toBe(parent.replace(/-01$/, '-03'));
  });

  it('writes nothing without a valid span context, and names the headers it uses', () => {
    const carrier: Record<string, string> = {};
    ours.inject(ROOT_CONTEXT, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({});
    expect(ours.fields()).toEqual(['traceparent', 'tracestate']);
  });
});
