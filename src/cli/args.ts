// Checks shared by the commands' flags, so every bad value is reported the same way.
import { UsageError } from './command.ts';

/** A TCP port from a flag's text; `min` 0 allows "pick one". */
export function parsePort(flag: string, value: string, min = 0): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < min || port > 65535) throw new UsageError(`--${flag}: "${value}" is not a port number (${min}-65535)`);
  return port;
}

/** Resolves on the first SIGTERM or SIGINT: how a long-running role learns to shut down. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
