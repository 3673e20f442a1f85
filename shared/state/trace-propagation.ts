import { Agent, type ClientRequest } from 'node:http';
import { context, propagation, type TextMapSetter } from '@opentelemetry/api';

const setHeader: TextMapSetter<ClientRequest> = {
  set: (request, name, value) => request.setHeader(name, value),
};

type AddRequest = (this: Agent, request: ClientRequest, ...rest: unknown[]) => void;

/**
 * A keep-alive agent that stamps the active trace context (`traceparent`, `tracestate`) on every
 * request it carries, before the headers are sent. The Dapr SDK offers no way to pass headers on
 * state calls, but sends every call through one static agent: with this one installed, each state
 * call carries the span that is active when it is made, and daprd's spans join the caller's trace.
 * A `traceparent` already set (by an HTTP instrumentation) is left alone.
 */
export function tracePropagatingAgent(): Agent {
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 30_000 });
  const addRequest: AddRequest = Reflect.get(agent, 'addRequest');
  const stamped: AddRequest = function (this: Agent, request, ...rest) {
    if (!request.headersSent && !request.hasHeader('traceparent')) {
      propagation.inject(context.active(), request, setHeader);
    }
    addRequest.call(this, request, ...rest);
  };
  Reflect.set(agent, 'addRequest', stamped);
  return agent;
}

/**
 * Makes the SDK's HTTP client use that agent. Its agent is a static property of its HTTP client
 * class (node_modules/@dapr/dapr/implementation/Client/HTTPClient/HTTPClient.js), shared by every
 * DaprClient in the process, with the same keep-alive settings as ours.
 */
export function installTracePropagation(httpClient: object): void {
  if (!Reflect.set(httpClient.constructor, 'httpAgent', tracePropagatingAgent())) {
    throw new Error('could not install the trace-propagating agent on the Dapr HTTP client');
  }
}
