import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { HttpError, bearerToken, cookies, csrfRefusal, readJson, sessionCookie } from './http.ts';

const request = (method: string, headers: Record<string, string>, body = ''): IncomingMessage =>
  Object.assign(Readable.from(body === '' ? [] : [Buffer.from(body)]), { method, headers }) as unknown as IncomingMessage;

describe('csrfRefusal', () => {
  it('lets reads through and needs X-Zcsp-Csrf: 1 on every other method', () => {
    assert.equal(csrfRefusal(request('GET', {})), undefined);
    for (const method of ['POST', 'DELETE', 'PUT', 'PATCH']) {
      assert.equal(csrfRefusal(request(method, {}))?.code, 'CsrfHeaderMissing', method);
      assert.equal(csrfRefusal(request(method, { 'x-zcsp-csrf': '0' }))?.status, 403);
      assert.equal(csrfRefusal(request(method, { 'x-zcsp-csrf': '1' })), undefined);
    }
  });

  it('refuses what the browser says is cross-site', () => {
    assert.equal(csrfRefusal(request('POST', { 'x-zcsp-csrf': '1', 'sec-fetch-site': 'cross-site' }))?.code, 'CrossSite');
    assert.equal(csrfRefusal(request('POST', { 'x-zcsp-csrf': '1', 'sec-fetch-site': 'same-site' }))?.code, 'CrossSite');
    assert.equal(csrfRefusal(request('POST', { 'x-zcsp-csrf': '1', 'sec-fetch-site': 'same-origin' })), undefined);
  });
});

describe('readJson', () => {
  it('reads a JSON object, and an empty body as {}', async () => {
    assert.deepEqual(await readJson(request('POST', { 'content-type': 'application/json' }, '{"a":1}')), { a: 1 });
    assert.deepEqual(await readJson(request('POST', {})), {});
  });

  it('refuses other types, bad JSON, non-objects and bodies over the limit', async () => {
    const code = (status: number) => (err: unknown): boolean => err instanceof HttpError && err.status === status;
    await assert.rejects(readJson(request('POST', { 'content-type': 'text/plain' }, '{}')), code(415));
    await assert.rejects(readJson(request('POST', { 'content-type': 'application/json' }, '{')), code(400));
    await assert.rejects(readJson(request('POST', { 'content-type': 'application/json' }, '[1]')), code(400));
    await assert.rejects(readJson(request('POST', { 'content-type': 'application/json' }, 'x'.repeat(100)), 10), code(413));
    await assert.rejects(readJson(request('POST', { 'content-type': 'application/json', 'content-length': '100' }, '{}'), 10), code(413));
  });
});

describe('cookies and credentials', () => {
  it('parses cookies, first one wins', () => {
    assert.deepEqual([...cookies(request('GET', { cookie: 'a=1; b=2; a=3' }))], [['a', '1'], ['b', '2']]);
  });

  it('writes a strict session cookie, Secure with the __Host- prefix under TLS', () => {
    assert.equal(sessionCookie('abc', { secure: false, maxAgeSeconds: 60 }), 'zcsp-session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    assert.equal(sessionCookie('abc', { secure: true, maxAgeSeconds: 0 }), '__Host-zcsp-session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
  });

  it('reads a bearer token', () => {
    assert.equal(bearerToken(request('GET', { authorization: 'Bearer abc.def' })), 'abc.def');
    assert.equal(bearerToken(request('GET', { authorization: 'Basic abc' })), undefined);
  });
});
