// Structured JSON logs (winston). Messages are constant, lower-case phrases ("reconcile failed"); everything that
// varies goes in fields (controller, namespace, name, generation, durationMs, error), so logs can be queried.
import winston from 'winston';

export type Logger = winston.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Fields on every line, e.g. { component: 'operator' }. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Discard everything (unit tests). */
  readonly silent?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    defaultMeta: options.fields ?? {},
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    // stderr for everything, so a program's stdout stays free for its own output.
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly'] })],
  });
}

/** An error as log fields: the type and message, never a request body (which could hold a Secret). */
export function errorFields(e: unknown): { error: string; errorType: string } {
  if (e instanceof Error) return { error: e.message, errorType: e.name };
  return { error: String(e), errorType: typeof e };
}
