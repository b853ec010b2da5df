// What a container of the project's image runs as a local process. The image's entrypoint is
// `zcsp` (node running src/main.ts), so the image's conventions map onto this machine:
//   no command            → node src/main.ts <args>          (the entrypoint)
//   command zcsp|…/zcsp   → node src/main.ts <command[1..]> <args>
//   command node|…/node   → node <command[1..]> <args>       (the image's node is Node 24)
//   anything else         → run as given from the host's binaries (sh -c …)
// Every node gets `--import <listen-preload>`, so servers listening on all interfaces bind the
// pod IP instead (see listen-preload.ts).
import type { V1Container } from '@kubernetes/client-node';
import { expand, type Lookup } from './expand.ts';

export interface ProjectRuntime {
  nodeBinary: string;
  repoRoot: string;
  /** Absolute path of listen-preload.ts. */
  preloadPath: string;
}

export function mainScript(runtime: ProjectRuntime): string {
  return `${runtime.repoRoot.replace(/\/+$/, '')}/src/main.ts`;
}

/** The container's argv on this machine, after `$(VAR)` expansion of command and args. */
export function containerArgv(container: Pick<V1Container, 'command' | 'args' | 'name'>, env: Lookup, runtime: ProjectRuntime): string[] {
  const command = (container.command ?? []).map((part) => expand(part, env));
  const args = (container.args ?? []).map((part) => expand(part, env));
  const node = [runtime.nodeBinary, '--import', runtime.preloadPath];
  const [first, ...rest] = command;
  if (first === undefined) return [...node, mainScript(runtime), ...args];
  if (first === 'zcsp' || first.endsWith('/zcsp')) return [...node, mainScript(runtime), ...rest, ...args];
  if (first === 'node' || first.endsWith('/node')) return [...node, ...rest, ...args];
  return [first, ...rest, ...args];
}

/**
 * The stand-in for containers of placeholder pods: sleeps until told to stop, and, unlike
 * `sleep`, stops on SIGTERM even as PID 1 of its namespace (as the pause container does).
 */
export const PLACEHOLDER_ARGV: readonly string[] = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/** Init containers of placeholder pods complete at once. */
export const PLACEHOLDER_INIT_ARGV: readonly string[] = ['/bin/true'];

/**
 * A `zcsp` and a `node` on PATH for scripts inside project-image containers (`sh -c "zcsp …"`),
 * written as a small shell wrapper in the kubelet's bin folder.
 */
export function zcspWrapperScript(runtime: ProjectRuntime): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return `#!/bin/sh\nexec ${q(runtime.nodeBinary)} --import ${q(runtime.preloadPath)} ${q(mainScript(runtime))} "$@"\n`;
}
