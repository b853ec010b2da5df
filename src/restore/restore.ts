// One restore: look at the target, fetch the export, read it (reader.ts checks every frame, order,
// checksum and the totals), write it (target.ts), and put it in place only when all of it checked
// out and is on disk. Any failure removes what this run wrote and says where in the stream it was.
import { performance } from 'node:perf_hooks';
import { fetchExport } from './fetch.ts';
import { ExportError, type ExportHeader, type Totals } from './format.ts';
import { ExportReader } from './reader.ts';
import { inspectTarget, RestoreError } from './target.ts';
import { createWriter, type Writer } from './writers.ts';

export interface RestoreOptions {
  url: URL;
  token: string;
  ca: string;
  servername: string;
  into: string;
  verify: boolean;
  idleMs: number;
  /** Called every progressMs with what arrived so far. */
  onProgress?: (p: RestoreProgress) => void;
  progressMs?: number;
}

export interface RestoreProgress {
  header: ExportHeader | undefined;
  done: Totals;
  seconds: number;
}

export interface RestoreResult {
  header: ExportHeader;
  totals: Totals;
  seconds: number;
  verified: boolean;
}

export async function restore(o: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const plan = await inspectTarget(o.into);
  const reader = new ExportReader();
  let writer: Writer | undefined;
  const timer = o.onProgress === undefined ? undefined : setInterval(() => o.onProgress?.({ header: reader.header, done: reader.progress, seconds: seconds() }), o.progressMs ?? 5000);
  try {
    const res = await fetchExport(o);
    // The socket's idle timer covers the body too: a VRA that stops sending mid-stream is named.
    res.socket.setTimeout(o.idleMs, () => res.destroy(new RestoreError(`the VRA sent nothing for ${o.idleMs / 1000} s, ${reader.where()}`)));
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        for (const event of reader.push(chunk)) {
          if (event.type === 'header') writer = createWriter(o.into, plan, event.header);
          else await writer?.apply(event);
        }
      }
    } catch (err: unknown) {
      if (err instanceof ExportError || err instanceof RestoreError) throw err;
      throw new RestoreError(`the connection to the VRA broke ${reader.where()}: ${(err as Error).message}`);
    }
    reader.end();
    const header = reader.header;
    if (header === undefined || writer === undefined) throw new ExportError('Truncated', 'the export stream ended before its header');
    await writer.finish(o.verify);
    return { header, totals: reader.progress, seconds: seconds(), verified: o.verify };
  } catch (err: unknown) {
    await writer?.abandon();
    throw err;
  } finally {
    clearInterval(timer);
  }
}
