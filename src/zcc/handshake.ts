// The ZCC tunnel handshake (version 1): the first bytes of every TLS connection to a ZCC.
//
//   client → proxy   frame(hello)   {"v":1,"zorg":"acme","token":"…","target":{"site":"dr","node":"dr-1"}}
//   proxy → client   frame(reply)   {"v":1,"ok":true}
//                                or {"v":1,"ok":false,"code":"Unauthenticated","message":"…"} and close
//   then             raw bytes both ways, to and from the target VRA, until either side closes
//
// A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON (at most 4 KiB). The
// client sends nothing after its hello until the reply: the proxy answers ok only once the
// connection to the VRA is up. Unknown JSON keys are ignored (later v1 clients may add some);
// another "v" is refused with UnsupportedVersion. See README.md in this folder.
import type { Duplex } from 'node:stream';
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** The largest frame either side accepts. */
export const MAX_FRAME_BYTES = 4096;
/** ALPN protocol id both sides offer. */
export const ALPN_PROTOCOL = 'zcsp-tunnel/1';

export const REFUSAL_CODES = ['BadHello', 'UnsupportedVersion', 'Unauthenticated', 'Forbidden', 'Unavailable', 'Timeout', 'ShuttingDown'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const name = z.string().min(1).max(253).regex(DNS_SUBDOMAIN);

const HelloSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  zorg: name,
  token: z.string().min(1).max(512),
  target: z.object({ site: name, node: name }),
});
export type Hello = z.output<typeof HelloSchema>;
export type Target = Hello['target'];

const ReplySchema = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(PROTOCOL_VERSION), ok: z.literal(true) }),
  z.object({ v: z.literal(PROTOCOL_VERSION), ok: z.literal(false), code: z.string().max(64), message: z.string().max(1024) }),
]);
export type Reply = { v: 1; ok: true } | { v: 1; ok: false; code: RefusalCode; message: string };

/** A handshake that cannot go on; `code` is what the peer is told. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
  readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** One frame: length prefix + JSON. */
export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > MAX_FRAME_BYTES) throw new HandshakeError('BadHello', `frame of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/**
 * Splits one frame off the front of `buffered`: the frame body and what follows it, or undefined
 * when more bytes are needed. Throws BadHello for an empty or oversized frame.
 */
export function takeFrame(buffered: Buffer): { frame: Buffer; rest: Buffer } | undefined {
  if (buffered.length < 4) return undefined;
  const size = buffered.readUInt32BE(0);
  if (size === 0 || size > MAX_FRAME_BYTES) throw new HandshakeError('BadHello', `frame length ${size} is not within 1-${MAX_FRAME_BYTES}`);
  if (buffered.length < 4 + size) return undefined;
  return { frame: buffered.subarray(4, 4 + size), rest: buffered.subarray(4 + size) };
}

function parseJson(frame: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame));
  } catch {
    throw new HandshakeError('BadHello', 'the frame is not UTF-8 JSON');
  }
}

/** A hello as the proxy reads it; HandshakeError BadHello or UnsupportedVersion otherwise. */
export function parseHello(frame: Buffer): Hello {
  const value = parseJson(frame);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HandshakeError('BadHello', 'the hello is not a JSON object');
  const v = (value as { v?: unknown }).v;
  if (v !== PROTOCOL_VERSION) throw new HandshakeError('UnsupportedVersion', `protocol version ${JSON.stringify(v ?? null)} is not supported (this proxy speaks ${PROTOCOL_VERSION})`);
  const result = HelloSchema.safeParse(value);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || '(hello)'))].join(', ');
    throw new HandshakeError('BadHello', `invalid hello: ${fields}`);
  }
  return result.data;
}

/** A reply as the client reads it. */
export function parseReply(frame: Buffer): Reply {
  const result = ReplySchema.safeParse(parseJson(frame));
  if (!result.success) throw new HandshakeError('BadHello', 'invalid reply from the proxy');
  const r = result.data;
  if (r.ok) return r;
  const code = (REFUSAL_CODES as readonly string[]).includes(r.code) ? r.code as RefusalCode : 'BadHello';
  return { v: 1, ok: false, code, message: r.message };
}

export { secretsEqual } from '../auth/secrets.ts';

/**
 * Reads one frame from a stream that is not yet piped anywhere. Bytes after the frame are pushed
 * back (unshift) for whoever reads next. Rejects with HandshakeError Timeout after `timeoutMs`, or
 * BadHello when the stream ends first or sends garbage.
 */
export function readFrame(stream: Duplex, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (err: Error | undefined, frame?: Buffer, rest?: Buffer): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
      stream.pause();
      if (rest !== undefined && rest.length > 0) stream.unshift(rest);
      if (err !== undefined) reject(err);
      else resolve(frame ?? Buffer.alloc(0));
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        const taken = takeFrame(buffered);
        if (taken !== undefined) finish(undefined, taken.frame, taken.rest);
      } catch (err: unknown) {
        finish(err as Error);
      }
    };
    const onEnd = (): void => finish(new HandshakeError('BadHello', 'the connection ended before a complete frame'));
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => finish(new HandshakeError('Timeout', `no complete frame within ${timeoutMs} ms`)), timeoutMs);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
  });
}
