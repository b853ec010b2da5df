// A command in a pod's container, through the API server's pods/exec (as `kubectl exec` without a
// TTY): its exit code and the tail of what it printed. The API server passes the WebSocket to the
// kubelet, or translates it to SPDY for kubelets that do not take WebSockets.
import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';

/** What is kept of a command's output (stdout and stderr together): its last bytes. */
export const EXEC_OUTPUT_BYTES = 4096;

export interface ExecOutcome {
  /** 0 on success; undefined when the command did not run or did not finish. */
  exitCode: number | undefined;
  /** The last EXEC_OUTPUT_BYTES of stdout and stderr, as UTF-8. */
  output: string;
  /** Why it failed, for people; undefined on success. */
  error?: string;
}

/** Keeps the last `limit` bytes written to it. */
class Tail extends Writable {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  constructor(limit: number) {
    super();
    this.#limit = limit;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes - (this.#chunks[0]?.length ?? 0) >= this.#limit) this.#bytes -= this.#chunks.shift()?.length ?? 0;
    done();
  }
  text(): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#limit)).toString('utf8');
  }
}

/** The exit code the kubelet reports in the error stream's Status (Success: 0). */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return cause !== undefined && Number.isInteger(code) ? code : undefined;
}

export async function execInPod(
  client: KubeClient,
  target: { namespace: string; pod: string; container: string },
  command: readonly string[],
  timeoutMs: number,
): Promise<ExecOutcome> {
  const out = new Tail(EXEC_OUTPUT_BYTES);
  let status: V1Status | undefined;
  let ws: Awaited<ReturnType<Exec['exec']>>;
  try {
    ws = await new Exec(client.kubeConfig).exec(target.namespace, target.pod, target.container, [...command], out, out, null, false, (s) => {
      status = s;
    });
  } catch (err: unknown) {
    return { exitCode: undefined, output: '', error: `exec in pod ${target.namespace}/${target.pod} (container ${target.container}) was refused: ${describe(err)}` };
  }
  const finished = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      // The connection goes, and with it the command: the kubelet kills what an exec leaves.
      ws.terminate();
      resolve(false);
    }, timeoutMs);
    ws.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  const output = out.text();
  if (!finished) return { exitCode: undefined, output, error: `timed out after ${timeoutMs / 1000} s` };
  const final = status;
  if (final === undefined) return { exitCode: undefined, output, error: 'the connection closed before the command\'s exit status came' };
  const exitCode = exitCodeOf(final);
  if (exitCode === 0) return { exitCode, output };
  return { exitCode, output, error: exitCode === undefined ? final.message ?? 'the command failed' : `exited with ${exitCode}` };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  // client-node rejects a refused upgrade with the ErrorEvent of the socket.
  const e = err as { message?: unknown; error?: unknown };
  if (typeof e.message === 'string') return e.message;
  return String(err);
}
