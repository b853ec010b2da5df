// Serving an export (GET /v1/exports/{id}) to a restore pod: the one request on the control port
// authorised by something other than the operator's token — the export's own, which opens that
// export only. The body is the export stream (src/restore/README.md), sent with backpressure: a
// slow pod slows the reading of the scratch copy, nothing piles up in memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { encodeMessage, EXPORT_CONTENT_TYPE } from '../restore/format.ts';
import { sendExport } from '../restore/send.ts';
import type { ExportStore } from './exports.ts';

/** Bytes queued on the response before the sender waits for the client to take them. */
const QUEUE_BYTES = 8 * 1024 * 1024;

export async function serveExport(store: ExportStore, req: IncomingMessage, res: ServerResponse, id: string, log: Logger): Promise<void> {
  const t = store.open(id, req.headers.authorization ?? '');
  const started = Date.now();
  try {
    res.writeHead(200, { 'content-type': EXPORT_CONTENT_TYPE, 'cache-control': 'no-store' });
    try {
      const totals = await sendExport({ root: t.content, header: t.header, write: (frame) => writeFrame(res, frame, t.signal), onBytes: (n) => t.sent(n), signal: t.signal });
      log.info({ export: id, stream: t.record.stream, volume: t.record.volume, bytes: totals.bytes, ms: Date.now() - started }, 'export sent');
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ export: id, stream: t.record.stream, err: message }, 'export transfer stopped');
      // Said in the stream, so the restore names it (when the pod is still listening).
      if (!res.destroyed) res.write(encodeMessage({ type: 'error', message }));
    }
    res.end();
  } finally {
    t.done();
  }
}

/** Writes a frame; waits for the socket to drain (backpressure), and stops waiting when the client goes or the export is stopped. */
function writeFrame(res: ServerResponse, frame: Buffer, signal: AbortSignal): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('the restore went away'));
  // The response's own high-water mark (16 KiB) is far below a frame: waiting for every frame to
  // drain would make reading, hashing and sending take turns. A few MiB queued keep them overlapping.
  res.write(frame);
  if (res.writableLength < QUEUE_BYTES) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      res.off('drain', drained);
      res.off('close', closed);
      signal.removeEventListener('abort', aborted);
      if (err === undefined) resolve();
      else reject(err);
    };
    const drained = (): void => settle();
    const closed = (): void => settle(new Error('the restore went away'));
    const aborted = (): void => settle(signal.reason instanceof Error ? signal.reason : new Error('stopped'));
    res.once('drain', drained);
    res.once('close', closed);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
