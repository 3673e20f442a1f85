import { getHooks } from './core-shim.js';
import type {
  CoreInvocationContext,
  FunctionCallback,
  FunctionMetadata,
  ProgrammingModel,
  RpcHttpData,
  RpcInvocationResponse,
} from './core-types.js';
import { logAtLevel, type HostLogger } from './log.js';
import type { HttpTriggerInput } from './rpc-http.js';
import { invocationTraceContext } from './trace-context.js';

export interface InvocationTarget {
  metadata: FunctionMetadata;
  handler: FunctionCallback;
  triggerBindingName: string;
}

export interface InvocationEnvironment {
  programmingModel: ProgrammingModel;
  logger: HostLogger;
  /** Shared by every hook of one host, like `appHookData` in the worker. */
  appHookData: Record<string, unknown>;
}

export async function runHooks(hookName: string, context: object): Promise<void> {
  for (const hook of getHooks()) {
    if (hook.hookName === hookName) await hook.callback(context);
  }
}

function createCoreContext(
  target: InvocationTarget,
  invocationId: string,
  input: HttpTriggerInput,
  logger: HostLogger,
): CoreInvocationContext {
  return {
    invocationId,
    metadata: target.metadata,
    request: {
      invocationId,
      functionId: target.metadata.functionId ?? target.metadata.name,
      inputData: [{ name: target.triggerBindingName, data: { http: input.http } }],
      triggerMetadata: input.triggerMetadata,
      traceContext: invocationTraceContext(input.http.headers),
    },
    log: (level, _category, message) => logAtLevel(logger, level, message),
  };
}

function httpOutput(response: RpcInvocationResponse): RpcHttpData | null | undefined {
  return response.returnValue?.http ?? response.outputData?.find((output) => output.data?.http)?.data?.http;
}

/**
 * Runs one invocation through the registered programming model in the same order as the Azure
 * Node worker: getArguments → preInvocation hooks → invokeFunction → postInvocation hooks → getResponse.
 * Throws whatever the handler (or a hook) threw.
 */
export async function invokeHttpFunction(
  env: InvocationEnvironment,
  target: InvocationTarget,
  invocationId: string,
  input: HttpTriggerInput,
): Promise<RpcHttpData | null | undefined> {
  const coreCtx = createCoreContext(target, invocationId, input, env.logger);
  const model = await env.programmingModel.getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();

  const pre = {
    hookData: {},
    appHookData: env.appHookData,
    invocationContext: context,
    inputs,
    functionCallback: target.handler,
  };
  coreCtx.state = 'preInvocationHooks';
  await runHooks('preInvocation', pre);

  let result: unknown;
  let error: unknown;
  coreCtx.state = 'invocation';
  try {
    result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
  } catch (thrown) {
    error = thrown;
  }

  const post = { ...pre, result, error };
  coreCtx.state = 'postInvocationHooks';
  await runHooks('postInvocation', post);
  coreCtx.state = undefined;
  if (post.error) throw post.error;

  return httpOutput(await model.getResponse(context, post.result));
}
