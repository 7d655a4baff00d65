// Structured JSON logs.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** A pino JSON logger named `sde-operator`; `level` defaults to `LOG_LEVEL` or `info`. */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const settings = { name: 'sde-operator', level: options.level ?? process.env.LOG_LEVEL ?? 'info' };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
