import type { HostLogger } from '../../dev/host/log.js';

export interface CapturedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export function captureLogger(): HostLogger & { lines: CapturedLine[]; text(level?: CapturedLine['level']): string } {
  const lines: CapturedLine[] = [];
  return {
    lines,
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
    text: (level) =>
      lines
        .filter((line) => level === undefined || line.level === level)
        .map((line) => line.message)
        .join('\n'),
  };
}
