// The console's API (src/console) on a real API server: users sign in with real ServiceAccount
// tokens (TokenReview needs a bearer token; the cluster's client certificates cannot be reviewed),
// named as members of two Zorgs whose Roles the Zorg controller makes (run in this process), with
// the chart's VPG admission policy installed as helm renders it. The console runs in this process
// under a ServiceAccount that holds only what the README lists for it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { ApiError, CONTENT_TYPE, KubeClient, Manager, type CustomObject } from '../../src/runtime/index.ts';
import { OperatorConfig } from '../../src/controllers/config.ts';
import { ROLE_BINDINGS, VPGS, ZORGS } from '../../src/controllers/resources.ts';
import { zorgController } from '../../src/controllers/zorg/index.ts';
import { startConsoleServer, type ConsoleServer } from '../../src/console/server.ts';
import { USERS_NS, applyConsoleRbac, sa } from './support/console-rbac.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';

const PROVIDER = 'zcsp-system';
const ACME = 'acme-prod';
const GLOBEX = 'globex-prod';
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const config = OperatorConfig.parse({ namespace: PROVIDER, image: 'zcsp:test' });


const vpg = (namespace: string, name: string): CustomObject => ({
  apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name, namespace },
  spec: { protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['data'] }, recovery: { namespace: `${namespace}-dr`, testNamespace: `${namespace}-test` } },
});

interface Answer { status: number; body: Record<string, unknown>; headers: Headers }

/** A browser: keeps the session cookie, sends the CSRF header unless told not to. */
class Browser {
  cookie: string | undefined;
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async call(method: string, path: string, body?: unknown, options: { csrf?: boolean; bearer?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (this.cookie !== undefined) headers['cookie'] = this.cookie;
    if (options.csrf !== false && method !== 'GET') headers['x-zcsp-csrf'] = '1';
    if (options.bearer !== undefined) headers['authorization'] = `Bearer ${options.bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, { method, headers, redirect: 'manual', ...(body !== undefined && { body: JSON.stringify(body) }) });
    this.#keep(res);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> };
  }

  async signIn(token: string): Promise<Answer> {
    return this.call('POST', '/api/session', { token });
  }

  #keep(res: Response): void {
    const set = res.headers.get('set-cookie');
    if (set === null) return;
    const value = set.split(';')[0] ?? '';
    this.cookie = value.endsWith('=') ? undefined : value;
  }
}

/** The events of a text/event-stream, as they arrive. */
async function* events(res: Response): AsyncGenerator<{ event: string; data: unknown }, void> {
  assert.ok(res.body !== null);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) yield { event, data: JSON.parse(data) };
    }
  }
}

const operationOf = (answer: Answer): unknown => ((answer.body['vpg'] as CustomObject).spec as { operation?: { type: string } }).operation?.type;

describe('zcsp console API', { timeout: 240_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let consoleClient: KubeClient;
  let manager: Manager;
  let server: ConsoleServer;
  const tokens = new Map<string, string>();
  const token = (name: string): string => {
    const t = tokens.get(name);
    assert.ok(t !== undefined, name);
    return t;
  };
  const signedIn = async (name: string): Promise<Browser> => {
    const b = new Browser(server.url);
    const answer = await b.signIn(token(name));
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return b;
  };

  before(async () => {
    cluster = await startCluster({ kubelets: false });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    for (const ns of [PROVIDER, USERS_NS]) await cluster.kubectl(['create', 'namespace', ns]);
    const policy = await cluster.helm(['template', 'zcsp', join(REPO_ROOT, 'deploy/helm/zcsp'), '--namespace', PROVIDER, '--show-only', 'templates/admission.yaml']);
    await cluster.kubectl(['apply', '-f', '-'], { input: policy });
    await applyConsoleRbac(cluster, PROVIDER);
    for (const name of ['adam', 'alice', 'vera', 'gina', 'paula']) {
      await cluster.kubectl(['create', 'serviceaccount', name, '-n', USERS_NS]);
      tokens.set(name, (await cluster.kubectl(['create', 'token', name, '-n', USERS_NS, '--duration=1h'])).trim());
    }
    const consoleToken = (await cluster.kubectl(['create', 'token', 'zcsp-console', '-n', PROVIDER, '--duration=1h'])).trim();
    const current = cluster.kubeConfig.getCurrentCluster();
    assert.ok(current !== null);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [current], users: [{ name: 'zcsp-console', token: consoleToken }],
      contexts: [{ name: 'zcsp-console', cluster: current.name, user: 'zcsp-console' }], currentContext: 'zcsp-console',
    });
    consoleClient = new KubeClient(kc);

    // The tenants' Roles and RoleBindings come from the Zorg controller, not from this test.
    manager = new Manager({ kubeConfig: cluster.kubeConfig, logger, http: false, leaderElection: false });
    manager.add({ ...zorgController(config), workers: 2 });
    await manager.start();
    await admin.create(ZORGS, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name: 'acme' },
      spec: {
        displayName: 'Acme', namespaces: [ACME], allowCustomSla: true, members: [
          { kind: 'User', name: sa('adam'), role: 'Admin' }, { kind: 'User', name: sa('alice'), role: 'Operator' }, { kind: 'User', name: sa('vera'), role: 'Viewer' },
        ],
      },
    });
    await admin.create(ZORGS, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name: 'globex' },
      spec: { displayName: 'Globex', namespaces: [GLOBEX], allowCustomSla: true, members: [{ kind: 'User', name: sa('gina'), role: 'Admin' }] },
    });
    await waitFor(async () => (await admin.list(ROLE_BINDINGS, { namespace: ACME })).items.length === 3
      && (await admin.list(ROLE_BINDINGS, { namespace: GLOBEX })).items.length === 1,
    { what: 'the tenant RoleBindings', timeoutMs: 60_000, intervalMs: 200 });
    await admin.create(VPGS, vpg(ACME, 'db'));
    await admin.create(VPGS, vpg(ACME, 'web'));
    await admin.create(VPGS, vpg(GLOBEX, 'erp'));
    // A new policy takes effect once the API server has loaded it.
    const aliceConfig = new KubeConfig();
    aliceConfig.loadFromOptions({
      clusters: [current], users: [{ name: 'alice', token: token('alice') }],
      contexts: [{ name: 'alice', cluster: current.name, user: 'alice' }], currentContext: 'alice',
    });
    const alice = new KubeClient(aliceConfig);
    await waitFor(() => alice.request({
      method: 'PATCH', path: `/apis/zcsp.io/v1alpha1/namespaces/${ACME}/vpgs/web`, query: { dryRun: 'All' },
      body: { spec: { priority: 'Low' } }, contentType: CONTENT_TYPE.mergePatch,
    }).then(() => false, (err: unknown) => err instanceof ApiError && err.statusCode === 403 && /ValidatingAdmissionPolicy/.test(err.message)),
    { what: 'the policy in force', timeoutMs: 60_000, intervalMs: 250 });
    await alice.close();

    server = await startConsoleServer({ client: consoleClient, port: 0, host: '127.0.0.1', rpoIntervalMs: 200, logger });
  });

  after(async () => {
    await server.close();
    await manager.stop();
    await Promise.allSettled([admin.close(), consoleClient.close()]);
    await cluster.stop();
  });

  it('signs in with a valid token: a strict HttpOnly session cookie, then /api/me', async () => {
    const b = new Browser(server.url);
    assert.equal((await b.call('GET', '/api/me')).status, 401, 'not signed in');
    const answer = await b.signIn(token('adam'));
    assert.equal(answer.status, 201);
    const cookie = answer.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^zcsp-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    assert.ok(!JSON.stringify(answer.body).includes(token('adam')), 'the token is not echoed');
    const me = await b.call('GET', '/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body['username'], sa('adam'));
    assert.equal(me.body['provider'], false);
  });

  it('refuses a bad token with 401, and an address after too many failures with 429', async () => {
    const limited = await startConsoleServer({ client: consoleClient, port: 0, host: '127.0.0.1', signInFailuresPerMinute: 3 });
    try {
      const b = new Browser(limited.url);
      for (let i = 0; i < 3; i++) {
        const answer = await b.signIn('not-a-token');
        assert.equal(answer.status, 401);
        assert.equal(answer.body['code'], 'Unauthenticated');
      }
      const refused = await b.signIn(token('adam'));
      assert.equal(refused.status, 429, 'even a good token, until the window passes');
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
    } finally {
      await limited.close();
    }
  });

  it('needs the CSRF header on every state-changing request', async () => {
    const b = new Browser(server.url);
    const noHeader = await b.call('POST', '/api/session', { token: token('adam') }, { csrf: false });
    assert.equal(noHeader.status, 403);
    assert.equal(noHeader.body['code'], 'CsrfHeaderMissing');
    const alice = await signedIn('alice');
    const action = await alice.call('POST', `/api/vpgs/${ACME}/web/actions/test`, {}, { csrf: false });
    assert.equal(action.status, 403);
    assert.equal(action.body['code'], 'CsrfHeaderMissing');
    assert.equal((await admin.get(VPGS, 'web', ACME) as { spec: { operation?: unknown } }).spec.operation, undefined, 'nothing changed');
  });

  it('shows a tenant only its own VPGs', async () => {
    const adam = await signedIn('adam');
    const list = await adam.call('GET', '/api/vpgs');
    assert.equal(list.status, 200);
    assert.equal(list.body['scope'], 'namespaces');
    assert.deepEqual((list.body['items'] as CustomObject[]).map((v) => `${v.metadata?.namespace ?? ''}/${v.metadata?.name ?? ''}`), [`${ACME}/db`, `${ACME}/web`]);
    const asked = await adam.call('GET', `/api/vpgs?namespace=${GLOBEX}`);
    assert.deepEqual(asked.body['forbidden'], [GLOBEX]);
    assert.equal((asked.body['items'] as unknown[]).length, 2);
    const other = await adam.call('GET', `/api/vpgs/${GLOBEX}/erp`);
    assert.equal(other.status, 403);
    assert.match(String(other.body['message']), /cannot get resource "vpgs"/);
    const provider = await (await signedIn('paula')).call('GET', '/api/vpgs');
    assert.equal(provider.body['scope'], 'cluster');
    assert.equal((provider.body['items'] as unknown[]).length, 3);
  });

  it('reports in the VPG detail what each user may do (SubjectAccessReview)', async () => {
    const permissions = async (name: string): Promise<unknown> => (await (await signedIn(name)).call('GET', `/api/vpgs/${ACME}/web`)).body['permissions'];
    const all = (value: boolean): Record<string, boolean> =>
      Object.fromEntries(['protect', 'test', 'stop-test', 'failover', 'move', 'commit', 'rollback', 'tag'].map((a) => [a, value]));
    assert.deepEqual(await permissions('adam'), all(true));
    assert.deepEqual(await permissions('alice'), { ...all(false), test: true, 'stop-test': true });
    assert.deepEqual(await permissions('vera'), all(false));
  });

  it('lets an Operator start and stop a failover test and refuses a failover with the policy\'s message', async () => {
    const alice = await signedIn('alice');
    const started = await alice.call('POST', `/api/vpgs/${ACME}/db/actions/test`, { checkpoint: 'latest' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(operationOf(started), 'FailoverTest');
    const twice = await alice.call('POST', `/api/vpgs/${ACME}/db/actions/test`, {});
    assert.equal(twice.status, 409);
    assert.match(String(twice.body['message']), /already has an operation declared/);

    const failover = await alice.call('POST', `/api/vpgs/${ACME}/web/actions/failover`, { commitPolicy: 'manual' });
    assert.equal(failover.status, 403);
    assert.match(String(failover.body['message']), /ValidatingAdmissionPolicy 'zcsp-vpg-operations'.*needs the privilege update on vpgs\/failover/);
    const tag = await alice.call('POST', `/api/vpgs/${ACME}/web/actions/tag`, { tag: 'before-upgrade' });
    assert.equal(tag.status, 403, 'a tag changes an annotation: the Admin role');

    const bad = await alice.call('POST', `/api/vpgs/${ACME}/web/actions/move`, { checkpoint: 'latest' });
    assert.equal(bad.status, 400, 'a move takes no checkpoint');

    const stopped = await alice.call('POST', `/api/vpgs/${ACME}/db/actions/stop-test`);
    assert.equal(stopped.status, 202);
    assert.equal(operationOf(stopped), undefined);
  });

  it('lets an Admin switch an assessment to Protect; an Operator is refused by the policy, a protecting VPG with a 409', async () => {
    const base = vpg(ACME, 'trial');
    await admin.create(VPGS, { ...base, spec: { ...base.spec as object, mode: 'Assess' } });
    const modeOf = async (): Promise<unknown> => (await admin.get(VPGS, 'trial', ACME) as { spec: { mode?: string } }).spec.mode;
    try {
      const adam = await signedIn('adam');
      const detail = await adam.call('GET', `/api/vpgs/${ACME}/trial`);
      assert.equal((detail.body['permissions'] as Record<string, boolean>)['protect'], true);

      const alice = await signedIn('alice');
      const refused = await alice.call('POST', `/api/vpgs/${ACME}/trial/actions/protect`);
      assert.equal(refused.status, 403);
      assert.match(String(refused.body['message']), /ValidatingAdmissionPolicy 'zcsp-vpg-operations'/);
      assert.equal(await modeOf(), 'Assess');

      const switched = await adam.call('POST', `/api/vpgs/${ACME}/trial/actions/protect`);
      assert.equal(switched.status, 202, JSON.stringify(switched.body));
      assert.equal(((switched.body['vpg'] as CustomObject).spec as { mode: string }).mode, 'Protect');
      assert.equal(await modeOf(), 'Protect');

      const again = await adam.call('POST', `/api/vpgs/${ACME}/trial/actions/protect`);
      assert.equal(again.status, 409);
      assert.match(String(again.body['message']), /already protects/);
      const withBody = await adam.call('POST', `/api/vpgs/${ACME}/web/actions/protect`, { checkpoint: 'latest' });
      assert.equal(withBody.status, 400, 'protect takes no checkpoint');
    } finally {
      await admin.delete(VPGS, 'trial', ACME);
    }
  });

  it('refuses a Viewer\'s failover test with the API server\'s 403', async () => {
    const vera = await signedIn('vera');
    const answer = await vera.call('POST', `/api/vpgs/${ACME}/web/actions/test`, {});
    assert.equal(answer.status, 403);
    assert.match(String(answer.body['message']), /cannot patch resource "vpgs"/);
  });

  it('signs in once through a one-time link, which then is gone, and expires unused', async () => {
    const adam = await signedIn('adam');
    const created = await adam.call('POST', '/api/session-links', { token: token('alice'), ttlSeconds: 60 });
    assert.equal(created.status, 201);
    const path = String(created.body['url']);
    assert.match(path, /^\/login\/once\/[A-Za-z0-9_-]{43}$/);
    const visitor = new Browser(server.url);
    const first = await visitor.call('GET', path);
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/');
    assert.equal((await visitor.call('GET', '/api/me')).body['username'], sa('alice'));
    assert.equal((await new Browser(server.url).call('GET', path)).status, 410);

    const anonymous = await new Browser(server.url).call('POST', '/api/session-links', { token: token('alice') });
    assert.equal(anonymous.status, 401, 'the caller must be signed in or send a bearer token');
    const byBearer = await new Browser(server.url).call('POST', '/api/session-links', { token: token('vera'), ttlSeconds: 1 }, { bearer: token('paula') });
    assert.equal(byBearer.status, 201);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await new Browser(server.url).call('GET', String(byBearer.body['url']))).status, 410, 'expired');
    assert.equal((await adam.call('POST', '/api/session-links', { token: token('alice'), ttlSeconds: 301 })).status, 400);
  });

  it('relays a status change over Server-Sent Events, records the RPO, and raises the provider\'s alert', async () => {
    const alice = await signedIn('alice');
    const res = await fetch(`${server.url}/api/watch/vpgs/${ACME}/db`, { headers: { cookie: alice.cookie ?? '' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const stream = events(res);
    const first = await stream.next();
    assert.equal((first.value as { event: string }).event, 'vpg');
    // The admin writes the status here, standing in for the VPG controller (not running in this test).
    const now = new Date().toISOString();
    await admin.mergePatch(VPGS, 'db', ACME, {
      status: {
        phase: 'RpoNotMeetingSLA', rpoSeconds: 400,
        conditions: [{ type: 'MeetingSLA', status: 'False', reason: 'RpoExceeded', message: 'RPO 400 s is over the 300 s alert', lastTransitionTime: now }],
      },
    }, { subresource: 'status' });
    for (;;) {
      const next = await stream.next();
      assert.ok(next.done !== true, 'the stream ended early');
      const vpgNow = next.value.data as { status?: { rpoSeconds?: number } };
      if (next.value.event === 'vpg' && vpgNow.status?.rpoSeconds === 400) break;
    }
    await stream.return(); // closes the connection: the console ends the watch

    await waitFor(async () => {
      const rpo = await alice.call('GET', `/api/vpgs/${ACME}/db/rpo?hours=1`);
      return rpo.status === 200 && (rpo.body['samples'] as { rpoSeconds: number | null }[]).some((s) => s.rpoSeconds === 400);
    }, { what: 'an RPO sample of 400 s', timeoutMs: 10_000, intervalMs: 100 });
    const gina = await signedIn('gina');
    const refused = await gina.call('GET', `/api/vpgs/${ACME}/db/rpo`);
    assert.equal(refused.status, 403);

    const paula = await signedIn('paula');
    assert.equal((await paula.call('GET', '/api/me')).body['provider'], true);
    const summary = await paula.call('GET', '/api/provider/summary');
    assert.equal(summary.status, 200);
    assert.deepEqual((summary.body['zorgs'] as { name: string }[]).map((z) => z.name), ['acme', 'globex']);
    assert.deepEqual(summary.body['alerts'], [{ kind: 'NotMeetingSLA', namespace: ACME, name: 'db', phase: 'RpoNotMeetingSLA', reason: 'RpoExceeded', message: 'RPO 400 s is over the 300 s alert' }]);
    const tenant = await (await signedIn('adam')).call('GET', '/api/provider/summary');
    assert.equal(tenant.status, 403);
  });

  it('keeps the live stream going when its connection to the API server breaks', async () => {
    // A second console whose every connection to the API server passes a proxy that can cut them.
    const current = consoleClient.kubeConfig.getCurrentCluster();
    assert.ok(current !== null);
    const api = new URL(current.server);
    const proxy = await startFaultProxy({ target: { host: api.hostname, port: Number(api.port) }, host: api.hostname });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...current, server: `https://${api.hostname}:${String(proxy.port)}` }], users: consoleClient.kubeConfig.users,
      contexts: consoleClient.kubeConfig.contexts, currentContext: consoleClient.kubeConfig.currentContext,
    });
    const client = new KubeClient(kc);
    const proxied = await startConsoleServer({ client, port: 0, host: '127.0.0.1', logger });
    try {
      const alice = new Browser(proxied.url);
      assert.equal((await alice.signIn(token('alice'))).status, 201);
      const res = await fetch(`${proxied.url}/api/watch/vpgs/${ACME}/web`, { headers: { cookie: alice.cookie ?? '' } });
      const stream = events(res);
      assert.equal((await stream.next()).value?.event, 'vpg');
      // The watch's connection is reset and the API server out of reach for 2 s: watches started
      // meanwhile are refused; the change is made while it is.
      proxy.down(2000);
      await admin.mergePatch(VPGS, 'web', ACME, { status: { rpoSeconds: 123 } }, { subresource: 'status' });
      for (;;) {
        const next = await stream.next();
        assert.ok(next.done !== true, 'the stream ended');
        assert.notEqual(next.value.event, 'error', JSON.stringify(next.value.data));
        if (next.value.event === 'vpg' && (next.value.data as { status?: { rpoSeconds?: number } }).status?.rpoSeconds === 123) break;
      }
      assert.ok(proxy.stats.cut >= 1 && proxy.stats.refused >= 1, `connections cut (${String(proxy.stats.cut)}) and refused (${String(proxy.stats.refused)})`);
      await stream.return();
    } finally {
      await proxied.close();
      await client.close();
      await proxy.close();
    }
  });

  it('signs out: the cookie no longer works and the session\'s live streams end', async () => {
    const adam = await signedIn('adam');
    const res = await fetch(`${server.url}/api/watch/vpgs/${ACME}/web`, { headers: { cookie: adam.cookie ?? '' } });
    const stream = events(res);
    assert.equal((await stream.next()).value?.event, 'vpg');
    const cookie = adam.cookie;
    const out = await adam.call('DELETE', '/api/session');
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    const ended = await stream.next();
    assert.equal(ended.done, true, 'the stream ended with the session');
    adam.cookie = cookie;
    assert.equal((await adam.call('GET', '/api/me')).status, 401);
  });

  it('serves the UI with a strict CSP, and nothing outside its folder', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self'/);
    assert.match(await res.text(), /zcsp console/);
    assert.equal((await fetch(`${server.url}/..%2f..%2fpackage.json`)).status, 404);
  });
});
