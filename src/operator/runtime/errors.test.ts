import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import type { KubeApiError} from './errors.js';
import {
  AlreadyExistsError, ConflictError, ForbiddenError, InvalidError, NotFoundError, TransientError, classify, errorForResponse, toKubeError,
} from './errors.js';

function status(code: number, reason: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: 'whatever', ...extra });
}

function netError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6443`), { code });
}

describe('toKubeError', () => {
  const table: Array<{ name: string; input: unknown; type: new (...a: never[]) => Error; reason?: string }> = [
    { name: '404 NotFound', input: new ApiException(404, 'x', status(404, 'NotFound'), {}), type: NotFoundError },
    {
      name: '409 AlreadyExists', input: new ApiException(409, 'x', status(409, 'AlreadyExists'), {}),
      type: AlreadyExistsError, reason: 'AlreadyExists',
    },
    { name: '409 Conflict', input: new ApiException(409, 'x', status(409, 'Conflict'), {}), type: ConflictError },
    { name: '409 with no body is a conflict', input: new ApiException(409, 'x', undefined, {}), type: ConflictError },
    { name: '403 Forbidden', input: new ApiException(403, 'x', status(403, 'Forbidden'), {}), type: ForbiddenError },
    { name: '401 Unauthorized', input: new ApiException(401, 'Unauthorized', undefined, {}), type: ForbiddenError },
    { name: '422 Invalid', input: new ApiException(422, 'x', status(422, 'Invalid'), {}), type: InvalidError },
    { name: '400 BadRequest', input: new ApiException(400, 'x', status(400, 'BadRequest'), {}), type: InvalidError },
    { name: '429 TooManyRequests', input: new ApiException(429, 'x', status(429, 'TooManyRequests'), {}), type: TransientError },
    { name: '500 InternalError', input: new ApiException(500, 'x', status(500, 'InternalError'), {}), type: TransientError },
    { name: '503 with a text body', input: new ApiException(503, 'x', 'upstream gone', {}), type: TransientError },
    { name: '504 Timeout', input: new ApiException(504, 'x', status(504, 'Timeout'), {}), type: TransientError },
    { name: 'parsed body object', input: new ApiException(409, 'x', { reason: 'AlreadyExists' }, {}), type: AlreadyExistsError },
    { name: 'ECONNREFUSED', input: netError('ECONNREFUSED'), type: TransientError },
    { name: 'ECONNRESET', input: netError('ECONNRESET'), type: TransientError },
    { name: 'EAI_AGAIN', input: netError('EAI_AGAIN'), type: TransientError },
    { name: 'abort', input: Object.assign(new Error('aborted'), { name: 'AbortError' }), type: TransientError },
    { name: 'node-fetch system error', input: Object.assign(new Error('request failed'), { type: 'system' }), type: TransientError },
    { name: 'watch statusCode 500', input: Object.assign(new Error('Internal Server Error'), { statusCode: 500 }), type: TransientError },
    { name: 'watch statusCode 403', input: Object.assign(new Error('Forbidden'), { statusCode: 403 }), type: ForbiddenError },
    { name: 'typed error passes through', input: new NotFoundError('gone', 404, 'NotFound'), type: NotFoundError },
  ];
  for (const row of table) {
    it(`maps ${row.name}`, () => {
      const got = toKubeError(row.input);
      assert.ok(got instanceof row.type, `${row.name}: got ${got.name}`);
      if (row.reason) assert.equal((got as KubeApiError).reason, row.reason);
    });
  }

  it('maps by reason, never by message text', () => {
    const misleading = new ApiException(409, 'x', JSON.stringify({ reason: 'Conflict', message: 'already exists' }), {});
    assert.ok(toKubeError(misleading) instanceof ConflictError);
  });

  it('keeps the server retry hint from details.retryAfterSeconds or the Retry-After header', () => {
    const fromBody = toKubeError(new ApiException(429, 'x', status(429, 'TooManyRequests', { details: { retryAfterSeconds: 3 } }), {}));
    assert.ok(fromBody instanceof TransientError);
    assert.equal(fromBody.retryAfterMs, 3000);
    const fromHeader = toKubeError(new ApiException(503, 'x', '', { 'retry-after': '2' }));
    assert.ok(fromHeader instanceof TransientError);
    assert.equal(fromHeader.retryAfterMs, 2000);
  });

  it('keeps unknown errors as they are, wrapping non-Errors', () => {
    const plain = new Error('boom');
    assert.equal(toKubeError(plain), plain);
    const wrapped = toKubeError('a string');
    assert.ok(wrapped instanceof Error);
    assert.equal(wrapped.message, 'a string');
  });
});

describe('errorForResponse: what the HTTP client throws for a response that is not 2xx', () => {
  const table: Array<[string, number, string, Record<string, string>, new (...a: never[]) => Error, number | undefined]> = [
    ['404 NotFound', 404, status(404, 'NotFound'), {}, NotFoundError, undefined],
    ['409 AlreadyExists', 409, status(409, 'AlreadyExists'), {}, AlreadyExistsError, undefined],
    ['409 Conflict', 409, status(409, 'Conflict'), {}, ConflictError, undefined],
    ['422 Invalid', 422, status(422, 'Invalid'), {}, InvalidError, undefined],
    ['503 with a Retry-After header', 503, 'upstream gone', { 'retry-after': '2' }, TransientError, 2000],
  ];
  for (const [name, code, body, headers, type, retryAfterMs] of table) {
    it(name, () => {
      const e = errorForResponse(code, body, headers);
      assert.ok(e instanceof type, e.name);
      if (retryAfterMs !== undefined) assert.equal((e as TransientError).retryAfterMs, retryAfterMs);
      assert.equal(toKubeError(e), e, 'mapped once: mapping again changes nothing');
    });
  }
});

describe('classify', () => {
  const table: Array<{ name: string; input: unknown; action: string; label: string; ms?: number }> = [
    { name: 'conflict retries with backoff', input: new ApiException(409, 'x', status(409, 'Conflict'), {}), action: 'retry', label: 'conflict' },
    { name: 'network error retries', input: netError('ECONNREFUSED'), action: 'retry', label: 'transient' },
    {
      name: '429 with a hint requeues after it',
      input: new ApiException(429, 'x', status(429, 'TooManyRequests', { details: { retryAfterSeconds: 5 } }), {}),
      action: 'requeueAfter', label: 'transient', ms: 5000,
    },
    { name: 'forbidden retries (slowly, by backoff)', input: new ApiException(403, 'x', status(403, 'Forbidden'), {}), action: 'retry', label: 'forbidden' },
    { name: 'invalid write retries with backoff', input: new ApiException(422, 'x', status(422, 'Invalid'), {}), action: 'retry', label: 'invalid' },
    { name: 'unknown errors retry', input: new Error('boom'), action: 'retry', label: 'unknown' },
  ];
  for (const row of table) {
    it(row.name, () => {
      const c = classify(row.input);
      assert.equal(c.disposition.action, row.action);
      assert.equal(c.label, row.label);
      if (row.ms !== undefined) assert.deepEqual(c.disposition, { action: 'requeueAfter', ms: row.ms });
    });
  }
});
