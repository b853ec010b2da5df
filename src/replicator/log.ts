// The logging the data plane does: a pino logger fits; nothing is logged without one.

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = (): void => undefined;
export const SILENT: Logger = { info: ignore, warn: ignore, error: ignore };
