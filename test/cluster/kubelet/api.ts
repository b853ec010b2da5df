// API clients of one kubelet and the few error and patch helpers they need.
import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
} from '@kubernetes/client-node';

export interface Clients {
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  version: VersionApi;
}

export function makeClients(kubeConfig: KubeConfig): Clients {
  return {
    core: kubeConfig.makeApiClient(CoreV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    version: kubeConfig.makeApiClient(VersionApi),
  };
}

/** For built-in types: merges lists that have a merge key (conditions by type, podIPs by ip). */
export const strategicMergePatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
export const mergePatch: ConfigurationOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** HTTP status of an API error (client-node's ApiException carries it as `code`). */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
export const isAlreadyExists = (err: unknown): boolean => statusCode(err) === 409;

/** A short message for logs: the API's Status message when there is one. */
export function errorMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const body = (err as { body?: unknown }).body;
    if (typeof body === 'string') {
      try {
        const status = JSON.parse(body) as { message?: unknown };
        if (typeof status.message === 'string') return `${String(statusCode(err))}: ${status.message}`;
      } catch {
        // not JSON
      }
    }
    if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
      return `${String(statusCode(err))}: ${(body as { message: string }).message}`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
