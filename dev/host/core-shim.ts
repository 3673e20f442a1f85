import Module from 'node:module';
import type { FunctionCallback, FunctionMetadata, HookCallback, ProgrammingModel, RpcLogCategory, RpcLogLevel } from './core-types.js';
import { consoleLogger, type HostLogger, logAtLevel } from './log.js';

export const coreModuleName = '@azure/functions-core';
const shimVersion = '4.0.0-local';

export interface Registration {
  readonly metadata: FunctionMetadata;
  readonly handler: FunctionCallback;
}

export interface HookRegistration {
  readonly hookName: string;
  readonly callback: HookCallback;
}

class Disposable {
  static from(...disposables: Array<{ dispose: () => unknown }>): Disposable {
    return new Disposable(() => {
      for (const d of disposables) d.dispose();
    });
  }

  #callOnDispose: (() => unknown) | undefined;

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  dispose(): void {
    this.#callOnDispose?.();
    this.#callOnDispose = undefined;
  }
}

let programmingModel: ProgrammingModel | undefined;
const registrations: Registration[] = [];
const hooks: HookRegistration[] = [];
let installed = false;
let coreLogger: HostLogger = consoleLogger;

function removeFrom<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

const coreApi = {
  version: shimVersion,
  hostVersion: shimVersion,
  Disposable,
  setProgrammingModel(model: ProgrammingModel): void {
    programmingModel = model;
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return programmingModel;
  },
  registerFunction(metadata: FunctionMetadata, handler: FunctionCallback): Disposable {
    const registration: Registration = { metadata, handler };
    registrations.push(registration);
    return new Disposable(() => removeFrom(registrations, registration));
  },
  registerHook(hookName: string, callback: HookCallback): Disposable {
    const hook: HookRegistration = { hookName, callback };
    hooks.push(hook);
    return new Disposable(() => removeFrom(hooks, hook));
  },
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    logAtLevel(coreLogger, level, category === 'system' ? `[host] ${message}` : message);
  },
};

/** Where the library's own log lines go (process-wide, like the shim): the last host started. */
export function setCoreLogger(logger: HostLogger): void {
  coreLogger = logger;
}

/**
 * Makes `require('@azure/functions-core')` resolve to the local host's core API, the same way the
 * Azure Node worker does (src/setupCoreModule.ts). `@azure/functions` looks the module up lazily
 * and caches a failure forever, so this must run before any function file is imported.
 */
export function installCoreShim(): void {
  if (installed) return;
  installed = true;
  Module.prototype.require = new Proxy(Module.prototype.require, {
    apply(target, thisArg, args: unknown[]) {
      return args[0] === coreModuleName ? coreApi : Reflect.apply(target, thisArg, args);
    },
  });
}

export function getProgrammingModel(): ProgrammingModel | undefined {
  return programmingModel;
}

export function getRegistrations(): readonly Registration[] {
  return [...registrations];
}

export function getHooks(): readonly HookRegistration[] {
  return [...hooks];
}
