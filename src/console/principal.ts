// The signed-in user a request acts for, and how failures become answers.
import type { KubeClient } from '../runtime/index.ts';
import { ApiError } from '../runtime/index.ts';
import { CommandError } from '../kubectl/errors.ts';
import { UsageError } from '../kubectl/args.ts';
import { HttpError } from './http.ts';
import type { UserInfo } from './identity.ts';
import type { Session } from './sessions.ts';

export interface SessionData {
  readonly user: UserInfo;
  /** Kept in memory only, to build `client`; never logged, never sent back. */
  readonly token: string;
  /** Acts as the user. */
  readonly client: KubeClient;
  /** Namespaces the user has read VPGs in (see GET /api/vpgs). */
  readonly namespaces: Set<string>;
}

/** The user of a request: from the session cookie, or from a bearer token for this request only. */
export interface Principal {
  readonly user: UserInfo;
  readonly token: string;
  readonly client: KubeClient;
  readonly session: Session<SessionData> | undefined;
}

/**
 * The answer for a failure. The API server's refusals keep its status code and its message (a 403
 * names the verb and resource, or the admission policy's words); the kubectl checks that refuse
 * an operation in the VPG's current state are 409; a malformed choice is 400.
 */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof ApiError) {
    if (err.statusCode === 0) return new HttpError(502, 'ApiServerUnreachable', 'the console cannot reach the API server');
    const message = err.status?.message ?? `${err.statusCode} ${err.reason}`;
    return new HttpError(err.statusCode, err.reason, message);
  }
  if (err instanceof CommandError) return new HttpError(409, 'Conflict', err.message);
  if (err instanceof UsageError) return new HttpError(400, 'BadRequest', err.message);
  return undefined;
}
