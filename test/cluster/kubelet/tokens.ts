// Service account tokens for projected volumes, from the TokenRequest API and bound to the pod
// (so the API server invalidates them when the pod goes), cached and renewed as the kubelet does:
// once 80 % of the token's lifetime has passed, or after 24 h.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { errorMessage } from './api.ts';
import { VolumeNotReadyError, type TokenRequest } from './volume-payload.ts';

const MAX_AGE_MS = 24 * 3600 * 1000;

interface CachedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

export class ServiceAccountTokens {
  readonly #core: CoreV1Api;
  readonly #cache = new Map<string, CachedToken>();
  readonly #now: () => number;

  constructor(core: CoreV1Api, now: () => number = Date.now) {
    this.#core = core;
    this.#now = now;
  }

  async get(pod: V1Pod, request: TokenRequest): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
    const key = `${uid}/${serviceAccount}/${request.audience ?? ''}/${request.expirationSeconds}`;
    const cached = this.#cache.get(key);
    const now = this.#now();
    if (cached !== undefined && !needsRefresh(cached, now)) return cached.token;
    try {
      const response = await this.#core.createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: {
          spec: {
            audiences: request.audience === undefined ? [] : [request.audience],
            expirationSeconds: request.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid },
          },
        },
      });
      const token = response.status?.token;
      if (token === undefined || token === '') throw new Error('TokenRequest returned no token');
      const expiresAt = response.status?.expirationTimestamp?.getTime() ?? now + request.expirationSeconds * 1000;
      this.#cache.set(key, { token, issuedAt: now, expiresAt });
      return token;
    } catch (err: unknown) {
      // A token that has not expired yet is still good while the API is unreachable.
      if (cached !== undefined && cached.expiresAt > now) return cached.token;
      throw new VolumeNotReadyError(`failed to fetch token: ${errorMessage(err)}`);
    }
  }

  /** Drops the tokens of a pod that is gone. */
  forget(podUid: string): void {
    for (const key of this.#cache.keys()) if (key.startsWith(`${podUid}/`)) this.#cache.delete(key);
  }
}

export function needsRefresh(token: CachedToken, now: number): boolean {
  const lifetime = token.expiresAt - token.issuedAt;
  return now >= token.issuedAt + 0.8 * lifetime || now >= token.issuedAt + MAX_AGE_MS;
}
