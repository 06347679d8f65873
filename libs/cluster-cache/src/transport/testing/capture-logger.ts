import type { TransportLogger } from '../transport-logger.interface';

/** A log line kept by {@link CaptureLogger}. */
export interface CapturedLine {
  level: keyof TransportLogger;
  message: string;
}

/** A {@link TransportLogger} that keeps what it is told, for specs to assert on. */
export class CaptureLogger implements TransportLogger {
  readonly lines: CapturedLine[] = [];

  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }

  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }

  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }

  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }

  /** Whether a line of `level` matches `pattern`. */
  has(level: keyof TransportLogger, pattern: RegExp): boolean {
    return this.lines.some((line) => line.level === level && pattern.test(line.message));
  }
}
