// pino loggers: one root per process, a child per controller, a child per key being reconciled,
// so every line of a reconcile carries `controller` and `key` and can be filtered by them.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** The process's root logger: JSON lines on stdout, level from ZCSP_LOG_LEVEL (default info). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({ name: 'zcsp', level: process.env['ZCSP_LOG_LEVEL'] ?? 'info', ...options });
}

/** A logger that writes nothing: the default of components built without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function controllerLogger(root: Logger, controller: string): Logger {
  return root.child({ controller });
}

export function reconcileLogger(controllerLog: Logger, key: string, extra: Record<string, unknown> = {}): Logger {
  return controllerLog.child({ key, ...extra });
}
