import type { RpcLogLevel } from './core-types.js';

export interface HostLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function stamped(message: string): string {
  return `[${new Date().toISOString()}] ${message}\n`;
}

export const consoleLogger: HostLogger = {
  info: (message) => process.stdout.write(stamped(message)),
  warn: (message) => process.stderr.write(stamped(message)),
  error: (message) => process.stderr.write(stamped(message)),
};

export function logAtLevel(logger: HostLogger, level: RpcLogLevel, message: string): void {
  switch (level) {
    case 'none':
      return;
    case 'warning':
      logger.warn(message);
      return;
    case 'error':
    case 'critical':
      logger.error(message);
      return;
    default:
      logger.info(message);
  }
}
