// Preloaded (`node --import`) into every Node process of a simulated pod. Pods share the host's
// network namespace and are told apart by their loopback IP, so a server listening on "all
// interfaces" would take the port on every pod's address at once and two pods on one port would
// collide. This wraps net.Server.prototype.listen (http, https and net servers all go through
// it) so that an unspecified host, 0.0.0.0 or :: becomes the pod IP given in ZCSP_SIM_POD_IP.
//
// Limitations: only Node processes are covered. Other programs (sh -c "nc -l …", Go or Python
// binaries) listen where they ask to, so they must be told the pod IP (status.podIP through the
// downward API). UDP (dgram) sockets are not rewritten. An explicit 127.0.0.1 or localhost is
// left alone: it is then the host's loopback, shared by all pods, not the pod's own.
import net from 'node:net';

export const POD_IP_ENV = 'ZCSP_SIM_POD_IP';

const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

function isWildcard(host: unknown): boolean {
  return host === undefined || host === null || host === '' || (typeof host === 'string' && WILDCARDS.has(host));
}

/**
 * The arguments of a listen() call with an all-interfaces host replaced by `ip`. Covers the
 * forms net documents: listen(options[, cb]), listen(port[, host][, backlog][, cb]),
 * listen([cb]); a pipe path, a handle or an fd is left alone.
 */
export function rewriteListenArgs(args: readonly unknown[], ip: string): unknown[] {
  const [first, second, ...rest] = args;
  if (first === undefined || typeof first === 'function') return [0, ip, ...args.slice(first === undefined ? 1 : 0)];
  if (typeof first === 'object' && first !== null) {
    const options = first as Record<string, unknown>;
    // { handle }, { fd } and { path } are not TCP addresses.
    if ('handle' in options || '_handle' in options || 'fd' in options || options['path'] !== undefined) return [...args];
    if (!isWildcard(options['host'])) return [...args];
    return [{ ...options, host: ip }, ...args.slice(1)];
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second === 'string') return isWildcard(second) ? [first, ip, ...rest] : [...args];
    if (second === undefined && args.length >= 2) return [first, ip, ...rest];
    // listen(port, backlog, cb) and listen(port, cb): the host goes in second place.
    return [first, ip, ...args.slice(1)];
  }
  return [...args];
}

const podIp = process.env[POD_IP_ENV];
if (podIp !== undefined && podIp !== '') {
  const original = Reflect.get(net.Server.prototype, 'listen') as (this: net.Server, ...args: unknown[]) => net.Server;
  Reflect.set(net.Server.prototype, 'listen', function listenOnPodIp(this: net.Server, ...args: unknown[]) {
    return original.apply(this, rewriteListenArgs(args, podIp));
  });
}
