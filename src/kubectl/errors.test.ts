import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../runtime/errors.ts';
import { describeApiError, isPreconditionFailed } from './errors.ts';

const apiError = (statusCode: number, status: object): ApiError =>
  new ApiError({ statusCode, method: 'PATCH', path: '/apis/zcsp.io/v1alpha1/namespaces/acme/vpgs/web', status });
const subject = { namespace: 'acme', name: 'web' };

describe('describeApiError', () => {
  it('keeps the server\'s words for a 403: they name the verb and resource missing', () => {
    const message = 'vpgs.zcsp.io "web" is forbidden: User "bob" cannot patch resource "vpgs" in API group "zcsp.io" in the namespace "acme"';
    assert.equal(describeApiError(apiError(403, { reason: 'Forbidden', message }), subject), message);
  });

  it('says which VPG is missing, or that the API is', () => {
    assert.equal(describeApiError(apiError(404, { reason: 'NotFound', message: 'vpgs.zcsp.io "web" not found', details: { name: 'web' } }), subject),
      'no VPG web in namespace acme');
    assert.match(describeApiError(apiError(404, { reason: 'NotFound', message: 'the server could not find the requested resource', details: {} }), subject),
      /does not serve zcsp.io\/v1alpha1 VPGs \(are the zcsp CRDs installed\?\)/);
  });

  it('lists the fields of a 422', () => {
    const status = {
      reason: 'Invalid', message: 'VPG.zcsp.io "web" is invalid: …',
      details: { name: 'web', causes: [{ field: 'spec.operation.decision', message: 'Forbidden: decision applies to Failover and Move only' }] },
    };
    assert.equal(describeApiError(apiError(422, status), subject),
      'the API server refused the change to VPG web:\n  spec.operation.decision: Forbidden: decision applies to Failover and Move only');
  });

  it('says when the server cannot be reached', () => {
    const err = new ApiError({ statusCode: 0, method: 'GET', path: '/', message: 'x', cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') });
    assert.equal(describeApiError(err, subject), 'cannot reach the API server: connect ECONNREFUSED 127.0.0.1:6443');
  });
});

describe('isPreconditionFailed', () => {
  it('is a 422 without field causes (what a failed JSON patch test gets), not a refused value', () => {
    assert.equal(isPreconditionFailed(apiError(422, { reason: 'Invalid', message: 'the server rejected our request due to an error in our request', details: {} })), true);
    assert.equal(isPreconditionFailed(apiError(422, { reason: 'Invalid', details: { name: 'web', causes: [{ field: 'spec' }] } })), false);
    assert.equal(isPreconditionFailed(apiError(409, { reason: 'Conflict' })), false);
    assert.equal(isPreconditionFailed(new Error('x')), false);
  });
});
