// The runtime's API client: plain JSON over client-node's transport (its KubeConfig auth, TLS and
// HTTP library), with every request counted by verb and resource.
//
// Why not client-node's typed APIs for everything: their serialiser turns timestamps into Date
// objects and back (MicroTime fields lose their format), KubernetesObjectApi has no subresources
// and defaults to strategic merge patch (refused by custom resources), and generic code wants one
// path for every kind. The typed APIs remain available through `makeApiClient`, counted as well.
//
// Why a cached dispatcher: KubeConfig.applySecurityAuthentication builds a new undici Agent for
// every request, so nothing would reuse a TLS connection. The first request's dispatcher is kept
// and reused (credentials in headers are still applied per request, so rotating tokens work).
import {
  HttpMethod, IsomorphicFetchHttpLibrary, ServerConfiguration, Watch, createConfiguration, wrapHttpLibrary,
  type Configuration, type HttpLibrary, type KubeConfig, type RequestContext, type ResponseContext,
} from '@kubernetes/client-node';
import { classifyRequest, type RequestInfo } from './api-requests.ts';
import { ApiError, errorMessage, isNotFound, statusCodeOf } from './errors.ts';
import { apiVersionOf, resourcePath, type ResourceType } from './resources.ts';
import type { KubeList, KubeObject, Status } from './types.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query | undefined;
  body?: unknown;
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Told about every request once it has an answer (or failed to get one: code "<error>"). */
export type RequestObserver = (request: RequestInfo & { code: string; durationSeconds: number }) => void;

export interface ListOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continue?: string | undefined;
  resourceVersion?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface WatchOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion?: string | undefined;
  timeoutSeconds?: number | undefined;
  allowWatchBookmarks?: boolean | undefined;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

export const CONTENT_TYPE = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

function headerOf(ctx: RequestContext, name: string): string | undefined {
  const headers = ctx.getHeaders();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly #server: ServerConfiguration<Record<string, string>>;
  readonly #http: HttpLibrary;
  readonly #observers: RequestObserver[] = [];
  readonly #userAgent: string;
  #dispatcher: Dispatcher | undefined;

  constructor(kubeConfig: KubeConfig, options: { userAgent?: string; observe?: RequestObserver } = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new ApiError({ statusCode: 0, method: 'INIT', path: '', message: 'the kubeconfig has no current cluster' });
    this.kubeConfig = kubeConfig;
    this.#server = new ServerConfiguration(cluster.server, {});
    this.#userAgent = options.userAgent ?? 'zcsp-manager';
    if (options.observe !== undefined) this.#observers.push(options.observe);
    const inner = new IsomorphicFetchHttpLibrary();
    this.#http = wrapHttpLibrary({ send: (ctx) => this.#send(inner, ctx) });
  }

  /** Adds a request observer (the manager's request counter). */
  observe(observer: RequestObserver): void {
    this.#observers.push(observer);
  }

  /** A client-node typed API (CoreV1Api, …) on this client's transport, its requests counted too. */
  makeApiClient<T>(api: new (configuration: Configuration) => T): T {
    const configuration = createConfiguration({
      baseServer: this.#server,
      authMethods: { default: this.kubeConfig },
      httpApi: this.#http,
    });
    return new api(configuration);
  }

  /** One request; resolves to the parsed JSON answer, rejects with an ApiError. */
  async request<T>(options: RequestOptions): Promise<T> {
    const ctx = this.#server.makeRequestContext(options.path, HttpMethod[options.method]);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) ctx.setQueryParam(k, String(v));
    }
    ctx.setHeaderParam('Accept', CONTENT_TYPE.json);
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? CONTENT_TYPE.json);
      ctx.setBody(JSON.stringify(options.body));
    }
    if (options.signal !== undefined) ctx.setSignal(options.signal);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    let response: ResponseContext;
    try {
      response = await this.#http.send(ctx).toPromise();
    } catch (err: unknown) {
      throw new ApiError({ statusCode: 0, method: options.method, path: options.path, message: errorMessage(err), cause: err });
    }
    const text = await response.body.text();
    if (response.httpStatusCode >= 400) {
      let status: Status | undefined;
      try {
        status = JSON.parse(text) as Status;
      } catch {
        // not a Status: keep the text as the message
      }
      throw new ApiError({ statusCode: response.httpStatusCode, method: options.method, path: options.path, ...(status !== undefined && { status }), message: text.slice(0, 500) });
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get<T extends KubeObject>(r: ResourceType<T>, name: string, namespace?: string, options: { subresource?: string } = {}): Promise<T> {
    return this.request<T>({ method: 'GET', path: resourcePath(r, { namespace, name, subresource: options.subresource }) });
  }

  /** The object, or undefined when it does not exist. */
  async tryGet<T extends KubeObject>(r: ResourceType<T>, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get(r, name, namespace);
    } catch (err: unknown) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One page of a list; items get their apiVersion and kind (the API server leaves them out). */
  async list<T extends KubeObject>(r: ResourceType<T>, options: ListOptions = {}): Promise<KubeList<T>> {
    const list = await this.request<KubeList<T>>({
      method: 'GET',
      path: resourcePath(r, { namespace: options.namespace }),
      query: {
        labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.limit,
        continue: options.continue, resourceVersion: options.resourceVersion,
      },
      signal: options.signal,
    });
    const apiVersion = apiVersionOf(r);
    list.items = list.items.map((item) => ({ ...item, apiVersion, kind: r.kind }));
    return list;
  }

  create<T extends KubeObject>(r: ResourceType<T>, obj: T, options: { fieldManager?: string; dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>({
      method: 'POST',
      path: resourcePath(r, { namespace: obj.metadata?.namespace }),
      query: { fieldManager: options.fieldManager, dryRun: options.dryRun === true ? 'All' : undefined },
      body: { apiVersion: apiVersionOf(r), kind: r.kind, ...obj },
    });
  }

  /** PUT: replaces the object; its metadata.resourceVersion makes it conditional. */
  update<T extends KubeObject>(r: ResourceType<T>, obj: T, options: { fieldManager?: string; subresource?: string } = {}): Promise<T> {
    return this.request<T>({
      method: 'PUT',
      path: resourcePath(r, { namespace: obj.metadata?.namespace, name: obj.metadata?.name, subresource: options.subresource }),
      query: { fieldManager: options.fieldManager },
      body: { apiVersion: apiVersionOf(r), kind: r.kind, ...obj },
    });
  }

  mergePatch<T extends KubeObject>(
    r: ResourceType<T>, name: string, namespace: string | undefined, patch: unknown,
    options: { fieldManager?: string; subresource?: string } = {},
  ): Promise<T> {
    return this.#patch(r, name, namespace, patch, CONTENT_TYPE.mergePatch, options);
  }

  jsonPatch<T extends KubeObject>(
    r: ResourceType<T>, name: string, namespace: string | undefined, operations: readonly JsonPatchOperation[],
    options: { fieldManager?: string; subresource?: string } = {},
  ): Promise<T> {
    return this.#patch(r, name, namespace, operations, CONTENT_TYPE.jsonPatch, options);
  }

  #patch<T extends KubeObject>(
    r: ResourceType<T>, name: string, namespace: string | undefined, body: unknown, contentType: string,
    options: { fieldManager?: string; subresource?: string },
  ): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(r, { namespace, name, subresource: options.subresource }),
      query: { fieldManager: options.fieldManager },
      body,
      contentType,
    });
  }

  /** Server-side apply of `obj` (its name and namespace say where) as `fieldManager`. */
  apply<T extends KubeObject>(
    r: ResourceType<T>, obj: T,
    options: { fieldManager: string; force?: boolean; subresource?: string; dryRun?: boolean },
  ): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(r, { namespace: obj.metadata?.namespace, name: obj.metadata?.name, subresource: options.subresource }),
      query: { fieldManager: options.fieldManager, force: options.force, dryRun: options.dryRun === true ? 'All' : undefined },
      body: { ...obj, apiVersion: apiVersionOf(r), kind: r.kind },
      contentType: CONTENT_TYPE.apply,
    });
  }

  /** Deletes the object; false when it was already gone. */
  async delete<T extends KubeObject>(
    r: ResourceType<T>, name: string, namespace?: string,
    options: { preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; gracePeriodSeconds?: number } = {},
  ): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.preconditions !== undefined) body['preconditions'] = options.preconditions;
    if (options.propagationPolicy !== undefined) body['propagationPolicy'] = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = options.gracePeriodSeconds;
    try {
      await this.request({ method: 'DELETE', path: resourcePath(r, { namespace, name }), body });
      return true;
    } catch (err: unknown) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * A watch through client-node's Watch. Resolves (with the controller that aborts it) once the
   * API server answered; `onDone` is called exactly once when it ends, with the error if any.
   */
  async watch(
    r: ResourceType, options: WatchOptions,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    const path = resourcePath(r, { namespace: options.namespace });
    const started = performance.now();
    let failure: unknown;
    let ended = false;
    const controller = await new Watch(this.kubeConfig).watch(
      path,
      {
        resourceVersion: options.resourceVersion, allowWatchBookmarks: options.allowWatchBookmarks,
        timeoutSeconds: options.timeoutSeconds, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector,
      },
      (type: string, object: unknown) => onEvent(type as WatchEventType, object),
      (err: unknown) => {
        if (!ended) failure = err;
        ended = true;
        onDone(err);
      },
    );
    const code = failure === undefined || failure === null ? '200' : String(statusCodeOf(failure) ?? '<error>');
    this.#notify({ ...classifyRequest('GET', `${path}?watch=true`), code, durationSeconds: (performance.now() - started) / 1000 });
    return controller;
  }

  /** Closes the kept connections. */
  async close(): Promise<void> {
    const d = this.#dispatcher;
    this.#dispatcher = undefined;
    if (d !== undefined) await d.close();
  }

  async #send(inner: HttpLibrary, ctx: RequestContext): Promise<ResponseContext> {
    const own = ctx.getDispatcher();
    if (own !== undefined) {
      this.#dispatcher ??= own;
      if (own !== this.#dispatcher) ctx.setDispatcher(this.#dispatcher);
    }
    if (headerOf(ctx, 'user-agent') === undefined) ctx.setHeaderParam('User-Agent', this.#userAgent);
    const info = classifyRequest(ctx.getHttpMethod(), ctx.getUrl(), headerOf(ctx, 'content-type'));
    const started = performance.now();
    try {
      const response = await inner.send(ctx).toPromise();
      this.#notify({ ...info, code: String(response.httpStatusCode), durationSeconds: (performance.now() - started) / 1000 });
      return response;
    } catch (err: unknown) {
      this.#notify({ ...info, code: '<error>', durationSeconds: (performance.now() - started) / 1000 });
      throw err;
    }
  }

  #notify(request: RequestInfo & { code: string; durationSeconds: number }): void {
    for (const o of this.#observers) o(request);
  }
}
