// What a failed command says. The API server's own words are kept where they are the answer (a
// 403 names the verb and resource the user lacks; a 422 names the fields); the request line is
// left out, since a tenant never typed it.
import { ApiError, errorMessage } from '../runtime/index.ts';

/** The command ran and did not get what was asked (refused, failed, timed out): exit code 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

export interface Subject {
  namespace: string;
  /** The VPG the command is about, if one. */
  name?: string | undefined;
}

/** One message for an error of the API server (or of reaching it). */
export function describeApiError(err: ApiError, subject: Subject): string {
  const message = err.status?.message ?? err.message;
  switch (err.statusCode) {
    case 0:
      return `cannot reach the API server: ${errorMessage(err.cause ?? err)}`;
    case 401:
      return `the API server does not accept your credentials (check the kubeconfig): ${message}`;
    case 403:
      return message;
    case 404:
      if (subject.name !== undefined && err.status?.details?.name === subject.name) return `no VPG ${subject.name} in namespace ${subject.namespace}`;
      return `the API server does not serve zcsp.io/v1alpha1 VPGs (are the zcsp CRDs installed?): ${message}`;
    case 422: {
      const causes = err.status?.details?.causes ?? [];
      const lines = causes.map((c) => `  ${c.field ?? ''}: ${c.message ?? c.reason ?? ''}`);
      const what = subject.name === undefined ? 'the change' : `the change to VPG ${subject.name}`;
      return lines.length === 0 ? `the API server refused ${what}: ${message}` : [`the API server refused ${what}:`, ...lines].join('\n');
    }
    default:
      return `${err.statusCode} ${err.reason}: ${message}`;
  }
}

/**
 * A JSON patch whose `test` operation failed: the object changed since it was read. The API
 * server answers 422 with no field causes (a refused value has them).
 */
export function isPreconditionFailed(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 422 && (err.status?.details?.causes ?? []).length === 0
    && err.status?.details?.name === undefined;
}
