// The console's HTTP server: sign-in with a Kubernetes token (TokenReview), server-side sessions,
// one-time session links, the tenant API (vpgs.ts), the provider view (provider.ts) and the UI's
// files (static.ts). Everything a user sees or changes goes through the API server with the user's
// own token; the console's identity only reviews tokens and access and samples RPOs.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger, type KubeClient, type Logger } from '../runtime/index.ts';
import {
  HttpError, bearerToken, cookies, csrfRefusal, readJson, remoteAddress, sendError, sendJson, sessionCookie, sessionCookieName, SECURITY_HEADERS,
} from './http.ts';
import { Identity, type UserInfo } from './identity.ts';
import { toHttpError, type Principal, type SessionData } from './principal.ts';
import { isProvider, providerSummary } from './provider.ts';
import { FailureLimiter } from './rate-limit.ts';
import { RpoHistory } from './rpo.ts';
import { LinkStore, SessionStore } from './sessions.ts';
import { serveStatic, UI_DIR } from './static.ts';
import { ACTIONS, listVpgs, rpoSeries, runAction, vpgDetail, vpgEvents, watchVpg, type Action } from './vpgs.ts';

export interface ConsoleOptions {
  /** The console's own identity: TokenReviews, SubjectAccessReviews, list vpgs (RPO samples), list zorgs. */
  client: KubeClient;
  port: number;
  host?: string;
  /** Serve HTTPS with this certificate and key (PEM); else plain HTTP behind an ingress. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  sessionTtlMs?: number;
  sessionIdleMs?: number;
  /** The console's address as browsers reach it (one-time links); https:// also makes the cookie Secure. */
  publicUrl?: string;
  /** Failed sign-ins allowed per remote address and minute (default 10). */
  signInFailuresPerMinute?: number;
  rpoIntervalMs?: number;
  logger?: Logger;
  uiDir?: string;
}

export interface ConsoleServer {
  readonly url: string;
  readonly history: RpoHistory;
  close(): Promise<void>;
}

const MAX_LINK_SECONDS = 300;

interface LinkData { user: UserInfo; token: string }

const VPG_PATH = /^\/api\/vpgs\/([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)(?:\/(rpo|actions\/([a-z-]+)))?$/;
const WATCH_PATH = /^\/api\/watch\/vpgs\/([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/;
const EVENTS_PATH = /^\/api\/events\/([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/;
const LINK_PATH = /^\/login\/once\/([A-Za-z0-9_-]+)$/;

const methodNotAllowed = (): HttpError => new HttpError(405, 'MethodNotAllowed', 'method not allowed');
const unauthenticated = (): HttpError => new HttpError(401, 'Unauthenticated', 'sign in first: POST /api/session with a Kubernetes token');

export async function startConsoleServer(options: ConsoleOptions): Promise<ConsoleServer> {
  const log = options.logger ?? silentLogger();
  const identity = new Identity(options.client);
  const secure = options.tls !== undefined || (options.publicUrl?.startsWith('https://') ?? false);
  const cookieName = sessionCookieName(secure);
  const sessions = new SessionStore<SessionData>({
    ...(options.sessionTtlMs !== undefined && { ttlMs: options.sessionTtlMs }),
    ...(options.sessionIdleMs !== undefined && { idleMs: options.sessionIdleMs }),
  });
  const links = new LinkStore<LinkData>();
  const limiter = new FailureLimiter({ limit: options.signInFailuresPerMinute ?? 10 });
  const history = new RpoHistory({ ...(options.rpoIntervalMs !== undefined && { intervalMs: options.rpoIntervalMs }) });
  const publicUrl = (options.publicUrl ?? '').replace(/\/+$/, '');
  const uiDir = options.uiDir ?? UI_DIR;

  /** Refuses an address over its failure budget (429), before its token is even looked at. */
  const throttle = (req: IncomingMessage): void => {
    const wait = limiter.retryAfterMs(remoteAddress(req));
    if (wait > 0) throw new HttpError(429, 'TooManyFailures', 'too many failed sign-ins from this address; try again later', { 'Retry-After': String(Math.ceil(wait / 1000)) });
  };
  /** The user of a token, or 401 (counted against the address). */
  const authenticate = async (req: IncomingMessage, token: unknown): Promise<UserInfo> => {
    throttle(req);
    const user = typeof token === 'string' ? await identity.authenticate(token) : undefined;
    if (user === undefined) {
      limiter.fail(remoteAddress(req));
      throw new HttpError(401, 'Unauthenticated', 'the API server does not accept this token');
    }
    return user;
  };

  const startSession = (res: ServerResponse, user: UserInfo, token: string): string => {
    const session = sessions.create({ user, token, client: identity.clientFor(token), namespaces: new Set() });
    session.closers.add(() => void session.data.client.close());
    res.setHeader('Set-Cookie', sessionCookie(session.id, { secure, maxAgeSeconds: sessions.maxAgeSeconds(session) }));
    return new Date(session.createdAt + sessions.ttlMs).toISOString();
  };

  /** The request's user: its session, else its bearer token (for this request only). */
  const principal = async (req: IncomingMessage, res: ServerResponse): Promise<Principal> => {
    const session = sessions.touch(cookies(req).get(cookieName));
    if (session !== undefined) return { user: session.data.user, token: session.data.token, client: session.data.client, session };
    const token = bearerToken(req);
    if (token === undefined) throw unauthenticated();
    const user = await authenticate(req, token);
    const client = identity.clientFor(token);
    res.on('close', () => void client.close());
    return { user, token, client, session: undefined };
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const refusal = csrfRefusal(req);
    if (refusal !== undefined) throw refusal;
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (path === '/api/session') {
      if (method === 'POST') {
        const body = await readJson(req);
        const user = await authenticate(req, body['token']);
        const old = cookies(req).get(cookieName);
        if (old !== undefined) sessions.end(old);
        const expiresAt = startSession(res, user, body['token'] as string);
        sendJson(res, 201, { username: user.username, groups: user.groups, expiresAt });
        return;
      }
      if (method === 'DELETE') {
        const id = cookies(req).get(cookieName);
        if (id !== undefined) sessions.end(id);
        res.writeHead(204, { ...SECURITY_HEADERS, 'Set-Cookie': sessionCookie('', { secure, maxAgeSeconds: 0 }) });
        res.end();
        return;
      }
      throw methodNotAllowed();
    }

    if (path === '/api/session-links') {
      if (method !== 'POST') throw methodNotAllowed();
      await principal(req, res);
      const body = await readJson(req);
      const ttl = body['ttlSeconds'] ?? 60;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LINK_SECONDS) {
        throw new HttpError(400, 'BadRequest', `ttlSeconds must be a whole number of seconds from 1 to ${MAX_LINK_SECONDS}`);
      }
      const user = await authenticate(req, body['token']);
      const id = links.create({ user, token: body['token'] as string }, ttl * 1000);
      log.info({ for: user.username }, 'one-time session link created');
      sendJson(res, 201, { url: `${publicUrl}/login/once/${id}`, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() });
      return;
    }

    if (method !== 'GET' && !(method === 'POST' && VPG_PATH.exec(path)?.[4] !== undefined)) {
      throw path.startsWith('/api/') && (VPG_PATH.test(path) || ['/api/me', '/api/vpgs', '/api/provider/summary'].includes(path)) ? methodNotAllowed() : new HttpError(404, 'NotFound', `no such endpoint: ${method} ${path}`);
    }
    const p = await principal(req, res);

    if (path === '/api/me') {
      sendJson(res, 200, { username: p.user.username, groups: p.user.groups, provider: await isProvider(identity, p.user) });
      return;
    }
    if (path === '/api/vpgs') {
      sendJson(res, 200, await listVpgs(p, options.client, url));
      return;
    }
    if (path === '/api/provider/summary') {
      if (!await isProvider(identity, p.user)) throw new HttpError(403, 'Forbidden', 'the provider view needs list on zorgs.zcsp.io (cluster-wide)');
      sendJson(res, 200, await providerSummary(p.client));
      return;
    }
    const watch = WATCH_PATH.exec(path);
    if (watch !== null) {
      await watchVpg(p, req, res, watch[1] ?? '', watch[2] ?? '');
      return;
    }
    const events = EVENTS_PATH.exec(path);
    if (events !== null) {
      sendJson(res, 200, await vpgEvents(p, events[1] ?? '', events[2] ?? ''));
      return;
    }
    const vpg = VPG_PATH.exec(path);
    if (vpg !== null) {
      const [, namespace = '', name = '', sub, action] = vpg;
      if (sub === undefined) {
        sendJson(res, 200, await vpgDetail(p, identity, namespace, name));
      } else if (sub === 'rpo') {
        sendJson(res, 200, await rpoSeries(p, identity, history, namespace, name, url));
      } else {
        if (!(ACTIONS as readonly string[]).includes(action ?? '')) throw new HttpError(404, 'NotFound', `no action "${action ?? ''}"; the actions are ${ACTIONS.join(', ')}`);
        const body = await readJson(req);
        sendJson(res, 202, await runAction(p, action as Action, namespace, name, body));
      }
      return;
    }
    throw new HttpError(404, 'NotFound', `no such endpoint: ${method} ${path}`);
  };

  const redeemLink = async (req: IncomingMessage, res: ServerResponse, id: string): Promise<void> => {
    throttle(req);
    const redeemed = links.redeem(id);
    if (!redeemed.ok) {
      if (redeemed.reason === 'unknown') limiter.fail(remoteAddress(req));
      throw redeemed.reason === 'gone'
        ? new HttpError(410, 'LinkGone', 'this sign-in link was used already or has expired')
        : new HttpError(404, 'NotFound', 'no such sign-in link');
    }
    // The token may have been revoked since the link was made.
    const user = await authenticate(req, redeemed.data.token);
    startSession(res, user, redeemed.data.token);
    res.writeHead(303, { ...SECURITY_HEADERS, Location: '/' });
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      await api(req, res, url);
      return;
    }
    const link = LINK_PATH.exec(url.pathname);
    if (link !== null) {
      if (req.method !== 'GET') throw methodNotAllowed();
      await redeemLink(req, res, link[1] ?? '');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    if (!await serveStatic(res, url.pathname, uiDir)) throw new HttpError(404, 'NotFound', 'not found');
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    // The path without a one-time link's id, which is a credential until it is used.
    const shown = (req.url ?? '/').split('?')[0]?.replace(/^\/login\/once\/.*/, '/login/once/…');
    res.on('finish', () => log.debug({ method: req.method, path: shown, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request'));
    handle(req, res).catch((err: unknown) => {
      const answer = toHttpError(err);
      if (answer === undefined) log.error({ err, method: req.method, path: shown }, 'request failed');
      sendError(res, answer ?? new HttpError(500, 'Internal', 'the console failed to answer; see its log'));
    });
  };

  const server: Server = options.tls === undefined
    ? createHttpServer(listener)
    : createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, listener);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  history.start(options.client);
  const sweeper = setInterval(() => {
    sessions.sweep();
    links.sweep();
    limiter.sweep();
  }, 30_000);
  sweeper.unref();

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`,
    history,
    async close() {
      clearInterval(sweeper);
      history.stop();
      sessions.endAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
