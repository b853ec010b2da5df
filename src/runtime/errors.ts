// Errors of the controller runtime. Each has a stable `code` that programs (and alerts, and tests)
// match on; messages are for people and may change.
import type { Status } from './types.ts';

export type RuntimeErrorCode =
  | 'ApiError'
  | 'Terminal'
  | 'InvalidOptions'
  | 'NoInformer'
  | 'MetricExists'
  | 'MetricLabels'
  | 'ShuttingDown'
  | 'WatchFailed';

export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A problem retrying cannot fix (a bad spec): the controller records it (condition, Warning event)
 * and does not retry until the object's generation changes. `reason` is a CamelCase word for the
 * condition's reason.
 */
export class TerminalError extends RuntimeError {
  override readonly name = 'TerminalError';
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('Terminal', message, options);
    this.reason = reason;
  }
}

/** A request the API server refused (or that never reached it: statusCode 0). */
export class ApiError extends RuntimeError {
  override readonly name = 'ApiError';
  readonly statusCode: number;
  /** metav1.Status reason: NotFound, Conflict, AlreadyExists, Expired, Invalid, … */
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  readonly status: Status | undefined;
  constructor(init: { statusCode: number; method: string; path: string; status?: Status; message?: string; cause?: unknown }) {
    const reason = init.status?.reason ?? (init.statusCode === 0 ? 'NetworkError' : `HTTP${init.statusCode}`);
    const detail = init.status?.message ?? init.message ?? reason;
    super('ApiError', `${init.method} ${init.path}: ${init.statusCode === 0 ? '' : `${init.statusCode} `}${detail}`, { cause: init.cause });
    this.statusCode = init.statusCode;
    this.reason = reason;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
  }
}

/** The HTTP status of an error from this runtime's client, client-node's ApiException or its Watch. */
export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.statusCode;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCodeOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusCodeOf(err) === 409 && !isAlreadyExists(err);
export const isAlreadyExists = (err: unknown): boolean => err instanceof ApiError && err.reason === 'AlreadyExists';
/** 410 Gone: a resourceVersion too old to watch or continue a list from. */
export const isGone = (err: unknown): boolean =>
  statusCodeOf(err) === 410 || (err instanceof ApiError && (err.reason === 'Expired' || err.reason === 'Gone'));

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
