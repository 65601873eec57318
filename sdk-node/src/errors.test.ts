import { describe, expect, test } from 'vitest';
import { ParleyApiError } from './errors.js';

describe('ParleyApiError', () => {
  test('carries the RFC 7807 fields and the request id', () => {
    const err = new ParleyApiError({
      type: '/docs/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'pattern is not a domain',
      instance: '/v1/admin/domains',
      request_id: 'req_123',
      errors: [{ path: '/pattern', message: 'not a domain', code: 'invalid_format' }],
    });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'ParleyApiError',
      type: '/docs/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'pattern is not a domain',
      instance: '/v1/admin/domains',
      requestId: 'req_123',
    });
    expect(err.errors).toHaveLength(1);
    expect(err.message).toBe('Validation failed: pattern is not a domain (request req_123)');
    expect(new ParleyApiError({ type: 'about:blank', title: 'Gone', status: 410, request_id: 'req_9' }).errors).toEqual([]);
  });
});
