// The tenant's side of the console: VPGs, their detail with what the user may do, their RPO
// history, events, live changes, and the operations. Reads and writes are made with the user's
// own token, so RBAC and the admission policy decide exactly as for kubectl; the operations
// run the `kubectl zcsp` commands themselves (without waiting), so both change the same fields
// the same way.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, EVENTS, statusCodeOf, type KubeClient } from '../runtime/index.ts';
import { VPGS, ZORGS } from '../controllers/resources.ts';
import { OPERATION_PRIVILEGES } from '../controllers/zorg/rbac.ts';
import { Flags } from '../kubectl/args.ts';
import type { Command as KubectlCommand, Context } from '../kubectl/command.ts';
import { testCommand } from '../kubectl/commands/test.ts';
import { stopTestCommand } from '../kubectl/commands/stop-test.ts';
import { failoverCommand, moveCommand } from '../kubectl/commands/recover.ts';
import { commitCommand, rollbackCommand } from '../kubectl/commands/decide.ts';
import { tagCommand } from '../kubectl/commands/tag.ts';
import { protectCommand } from '../kubectl/commands/protect.ts';
import type { Vpg } from '../kubectl/vpg.ts';
import type { CustomObject } from '../runtime/index.ts';
import { HttpError, SECURITY_HEADERS, sendJson } from './http.ts';
import type { Identity, UserInfo } from './identity.ts';
import type { Principal } from './principal.ts';
import type { RpoHistory } from './rpo.ts';

export const ACTIONS = ['protect', 'test', 'stop-test', 'failover', 'move', 'commit', 'rollback', 'tag'] as const;
export type Action = (typeof ACTIONS)[number];

const COMMANDS: Readonly<Record<Action, KubectlCommand>> = {
  protect: protectCommand, test: testCommand, 'stop-test': stopTestCommand, failover: failoverCommand, move: moveCommand,
  commit: commitCommand, rollback: rollbackCommand, tag: tagCommand,
};

/** Body fields of an action → the kubectl flag they stand for. */
const BODY_FLAGS: Readonly<Record<string, { flag: string; type: 'string' | 'boolean' }>> = {
  checkpoint: { flag: 'checkpoint', type: 'string' },
  commitPolicy: { flag: 'commit-policy', type: 'string' },
  reverse: { flag: 'reverse', type: 'boolean' },
};

/** The object as the console shows it: without managedFields (noise, and large). */
export function trimmed<T extends CustomObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

const isForbidden = (err: unknown): boolean => err instanceof ApiError && err.statusCode === 403;

async function listAll(client: KubeClient, namespace: string | undefined): Promise<Vpg[]> {
  const items: Vpg[] = [];
  let next: string | undefined;
  do {
    const page = await client.list(VPGS, { namespace, limit: 500, continue: next });
    items.push(...page.items as Vpg[]);
    next = page.metadata?.continue;
  } while (next !== undefined && next !== '');
  return items;
}

interface ZorgLike extends CustomObject {
  spec?: { namespaces?: string[]; members?: { kind: string; name: string }[] };
}

/** Namespaces of the Zorgs that name the user (or one of their groups) as a member. */
async function memberNamespaces(consoleClient: KubeClient, user: UserInfo): Promise<string[]> {
  try {
    const zorgs = (await consoleClient.list(ZORGS)).items as ZorgLike[];
    return zorgs.filter((z) => (z.spec?.members ?? []).some((m) => (m.kind === 'User' && m.name === user.username) || (m.kind === 'Group' && user.groups.includes(m.name))))
      .flatMap((z) => z.spec?.namespaces ?? []);
  } catch (err: unknown) {
    if (isForbidden(err)) return []; // the console was not given list zorgs: only the other sources
    throw err;
  }
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * GET /api/vpgs[?namespace=a,b]. Users who may list VPGs cluster-wide get them all. Everyone
 * else gets the VPGs of: the namespaces of the Zorgs that name them (or a group of theirs) as a
 * member, the namespaces asked for with ?namespace=, and those they read VPGs in before in this
 * session; each listed with the user's token, a namespace the user may not read is reported in
 * `forbidden` and skipped.
 */
export async function listVpgs(p: Principal, consoleClient: KubeClient, url: URL): Promise<unknown> {
  try {
    const items = await listAll(p.client, undefined);
    return { scope: 'cluster', items: items.map(trimmed), namespaces: [...new Set(items.map((v) => v.metadata?.namespace ?? ''))].sort(), forbidden: [] };
  } catch (err: unknown) {
    if (!isForbidden(err)) throw err;
  }
  const asked = (url.searchParams.get('namespace') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = asked.find((ns) => !NAMESPACE.test(ns));
  if (bad !== undefined) throw new HttpError(400, 'BadRequest', `"${bad}" is not a namespace name`);
  const namespaces = [...new Set([...await memberNamespaces(consoleClient, p.user), ...asked, ...(p.session?.data.namespaces ?? [])])].sort();
  const items: Vpg[] = [];
  const forbidden: string[] = [];
  const readable: string[] = [];
  await Promise.all(namespaces.map(async (ns) => {
    try {
      items.push(...await listAll(p.client, ns));
      readable.push(ns);
      p.session?.data.namespaces.add(ns);
    } catch (err: unknown) {
      if (!isForbidden(err)) throw err;
      forbidden.push(ns);
    }
  }));
  items.sort((a, b) => `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`.localeCompare(`${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`));
  return { scope: 'namespaces', items: items.map(trimmed), namespaces: readable.sort(), forbidden: forbidden.sort() };
}

export type Permissions = Record<Action, boolean>;

/** What the user may do to this VPG: the privileges the API server and the policy check, by SubjectAccessReview. */
export async function permissionsOf(identity: Identity, user: UserInfo, vpg: Vpg): Promise<Permissions> {
  const namespace = vpg.metadata?.namespace;
  const name = vpg.metadata?.name;
  const ask = (verb: string, subresource?: string): Promise<boolean> =>
    identity.can(user, { group: 'zcsp.io', resource: 'vpgs', verb, namespace, name, subresource });
  const privilege = (type: keyof typeof OPERATION_PRIVILEGES): Promise<boolean> =>
    ask(OPERATION_PRIVILEGES[type].verb, OPERATION_PRIVILEGES[type].subresource);
  const [patch, test, failover, move, create] = await Promise.all([
    ask('patch'), privilege('FailoverTest'), privilege('Failover'), privilege('Move'),
    identity.can(user, { group: 'zcsp.io', resource: 'vpgs', verb: 'create', namespace }),
  ]);
  const declared = vpg.spec?.operation?.type;
  const decide = declared === 'Failover' ? failover : declared === 'Move' ? move : failover || move;
  // Switching an assessment to Protect, like a tag request, is a change beyond spec.operation: Admins.
  return {
    protect: patch && create, test: patch && test, 'stop-test': patch && test, failover: patch && failover, move: patch && move,
    commit: patch && decide, rollback: patch && decide, tag: patch && create,
  };
}

/** Remembers that the user reads VPGs in this namespace (a later GET /api/vpgs lists it too). */
function remember(p: Principal, namespace: string): void {
  p.session?.data.namespaces.add(namespace);
}

export async function vpgDetail(p: Principal, identity: Identity, namespace: string, name: string): Promise<unknown> {
  const vpg = await p.client.get(VPGS, name, namespace) as Vpg;
  remember(p, namespace);
  return { vpg: trimmed(vpg), permissions: await permissionsOf(identity, p.user, vpg) };
}

/** GET …/rpo?hours=N: the sampled RPO series, if the user may get the VPG. */
export async function rpoSeries(p: Principal, identity: Identity, history: RpoHistory, namespace: string, name: string, url: URL): Promise<unknown> {
  const hoursText = url.searchParams.get('hours') ?? '6';
  const hours = Number(hoursText);
  if (!(hours > 0 && hours <= 24)) throw new HttpError(400, 'BadRequest', `hours must be a number in (0, 24], not "${hoursText}"`);
  if (!await identity.can(p.user, { group: 'zcsp.io', resource: 'vpgs', verb: 'get', namespace, name })) {
    throw new HttpError(403, 'Forbidden', `vpgs.zcsp.io "${name}" is forbidden: User "${p.user.username}" cannot get resource "vpgs" in API group "zcsp.io" in the namespace "${namespace}"`);
  }
  const samples = history.series(namespace, name, hours);
  if (samples === undefined) throw new HttpError(404, 'NotFound', `no RPO samples of VPG ${namespace}/${name} (yet)`);
  return { namespace, name, intervalSeconds: history.intervalMs / 1000, samples };
}

/** GET /api/events/{ns}/{name}: the Events about the VPG, oldest first. */
export async function vpgEvents(p: Principal, namespace: string, name: string): Promise<unknown> {
  const list = await p.client.list(EVENTS, { namespace, fieldSelector: `regarding.kind=VPG,regarding.name=${name}` });
  const items = list.items.map((e) => {
    const ev = e as CustomObject & {
      type?: string; reason?: string; note?: string; eventTime?: string; deprecatedCount?: number; deprecatedLastTimestamp?: string;
      series?: { count?: number; lastObservedTime?: string };
    };
    return {
      type: ev.type, reason: ev.reason, message: ev.note, count: ev.series?.count ?? ev.deprecatedCount ?? 1,
      time: ev.series?.lastObservedTime ?? ev.eventTime ?? ev.deprecatedLastTimestamp ?? ev.metadata?.creationTimestamp,
    };
  });
  items.sort((a, b) => String(a.time).localeCompare(String(b.time)));
  return { items };
}

/** The kubectl command line an action's body stands for. */
export function actionArgs(action: Action, name: string, body: Record<string, unknown>): { args: string[]; flags: Flags } {
  const command = COMMANDS[action];
  const values = new Map<string, string | boolean>();
  const args = [name];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'tag') {
      if (action !== 'tag') throw new HttpError(400, 'BadRequest', `${action} takes no tag`);
      if (typeof value !== 'string') throw new HttpError(400, 'BadRequest', 'tag must be a string');
      continue;
    }
    const known = BODY_FLAGS[key];
    if (known === undefined) throw new HttpError(400, 'BadRequest', `unknown field "${key}"`);
    if (!command.flags.includes(known.flag)) throw new HttpError(400, 'BadRequest', `${action} takes no ${key}`);
    if (typeof value !== known.type) throw new HttpError(400, 'BadRequest', `${key} must be a ${known.type}`);
    values.set(known.flag, value as string | boolean);
  }
  if (action === 'tag') {
    const tag = body['tag'];
    if (typeof tag !== 'string') throw new HttpError(400, 'BadRequest', 'tag needs the field tag');
    args.push(tag);
  }
  return { args, flags: new Flags(values) };
}

/** POST …/actions/{action}: runs the kubectl command as the user, without waiting; 202 with the VPG after. */
export async function runAction(p: Principal, action: Action, namespace: string, name: string, body: Record<string, unknown>): Promise<unknown> {
  const { args, flags } = actionArgs(action, name, body);
  const run = COMMANDS[action].prepare(args, flags);
  const out: string[] = [];
  const ctx: Context = {
    client: p.client, namespace, io: { out: (t) => out.push(t), err: () => undefined },
    now: Date.now, wait: false, timeoutMs: 0, json: true,
  };
  await run(ctx);
  remember(p, namespace);
  let result: unknown;
  try {
    result = JSON.parse(out.join(''));
  } catch {
    result = undefined;
  }
  const vpg = await p.client.get(VPGS, name, namespace) as Vpg;
  return { action, result, vpg: trimmed(vpg) };
}

/** Broken watches in a row (each retried after a growing pause, about 16 s in all) before the stream ends. */
const WATCH_RETRIES = 6;

/**
 * GET /api/watch/vpgs/{ns}/{name}: Server-Sent Events. `vpg` with the object now and at every
 * change, `deleted` when it goes, `error` (then the stream ends) when the watch is refused; a
 * comment every 15 s keeps proxies from closing it. The watch is the user's own; it ends when
 * the client goes or the session ends.
 */
export async function watchVpg(p: Principal, req: IncomingMessage, res: ServerResponse, namespace: string, name: string): Promise<void> {
  const first = await p.client.get(VPGS, name, namespace) as Vpg;
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
  const send = (event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  send('vpg', trimmed(first));
  let resourceVersion = first.metadata?.resourceVersion;
  let abort: AbortController | undefined;
  /** Watches that broke in a row. */
  let failures = 0;
  let closed = false;
  const isClosed = (): boolean => closed;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    abort?.abort();
    p.session?.closers.delete(close);
    res.end();
  };
  p.session?.closers.add(close);
  res.on('close', close);
  req.on('close', close);
  // A watch that broke or could not start (the API server restarting, a connection reset under
  // load) is started again from where it was, after a growing pause; a refusal, or failures that
  // go on, end the stream with the reason.
  const retry = (err: unknown, message: string): void => {
    const status = statusCodeOf(err);
    failures++;
    if (status === 401 || status === 403 || failures > WATCH_RETRIES) {
      send('error', { code: 'WatchFailed', message });
      close();
      return;
    }
    setTimeout(() => void start(), Math.min(8000, 250 * 2 ** failures));
  };
  const start = async (): Promise<void> => {
    if (closed) return;
    try {
      abort = await p.client.watch(VPGS, {
        namespace, fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300,
      }, (type, object) => {
        const obj = object as Vpg;
        if (type === 'ERROR') {
          resourceVersion = undefined; // expired: the next watch starts from now, with the object as ADDED
          return;
        }
        failures = 0;
        if (obj.metadata?.resourceVersion !== undefined) resourceVersion = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        send(type === 'DELETED' ? 'deleted' : 'vpg', trimmed(obj));
      }, (err) => {
        if (closed) return;
        if (err === null || err === undefined) setTimeout(() => void start(), 200);
        else retry(err, 'the watch ended; reload to follow again');
      });
      if (isClosed()) abort.abort(); // the client left while the watch was starting
    } catch (err: unknown) {
      if (!isClosed()) retry(err, 'the API server refused the watch');
    }
  };
  await start();
}

export { sendJson };
