// Where ConfigMap and Secret contents come from: the API server in the kubelet, a map in tests.
// Values are bytes: Secrets and binaryData are binary; env vars decode them as UTF-8.
import type { CoreV1Api } from '@kubernetes/client-node';
import { isNotFound } from './api.ts';

export type ConfigData = Readonly<Record<string, Buffer>>;

export interface ConfigSource {
  /** The ConfigMap's data and binaryData, or undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<ConfigData | undefined>;
  /** The Secret's data (decoded), or undefined when it does not exist. */
  secret(namespace: string, name: string): Promise<ConfigData | undefined>;
}

export function apiConfigSource(core: CoreV1Api): ConfigSource {
  return {
    async configMap(namespace, name) {
      try {
        const cm = await core.readNamespacedConfigMap({ name, namespace });
        const data: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(v, 'utf8');
        for (const [k, v] of Object.entries(cm.binaryData ?? {})) data[k] = Buffer.from(v, 'base64');
        return data;
      } catch (err: unknown) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async secret(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ name, namespace });
        const data: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64');
        for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v, 'utf8');
        return data;
      } catch (err: unknown) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

/** One read per object for the duration of one sync, however many containers and volumes use it. */
export function memoizedConfigSource(source: ConfigSource): ConfigSource {
  const configMaps = new Map<string, Promise<ConfigData | undefined>>();
  const secrets = new Map<string, Promise<ConfigData | undefined>>();
  const memo = (cache: typeof configMaps, key: string, load: () => Promise<ConfigData | undefined>) => {
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = load();
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    configMap: (namespace, name) => memo(configMaps, `${namespace}/${name}`, () => source.configMap(namespace, name)),
    secret: (namespace, name) => memo(secrets, `${namespace}/${name}`, () => source.secret(namespace, name)),
  };
}

/** A fixed source for unit tests. */
export function staticConfigSource(objects: {
  configMaps?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, string>>;
}): ConfigSource {
  const toData = (o: Record<string, string> | undefined): ConfigData | undefined =>
    o === undefined ? undefined : Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
  return {
    configMap: (namespace, name) => Promise.resolve(toData(objects.configMaps?.[`${namespace}/${name}`])),
    secret: (namespace, name) => Promise.resolve(toData(objects.secrets?.[`${namespace}/${name}`])),
  };
}
