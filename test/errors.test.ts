import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AmplitudeHttpError,
  AmplitudeTransportError,
  FailureType,
  fileSystemFailure,
  isExportTimeout,
  parseRetryAfter,
  toFailure,
} from '../src/amplitude/errors.ts';

const envelope = (message: string, details: string) =>
  JSON.stringify({ error: { http_code: 400, type: 'invalid', message, metadata: { details } } });

describe('error mapping', () => {
  it('401 and 403 fail fast and name both causes', () => {
    for (const status of [401, 403]) {
      const failure = toFailure(new AmplitudeHttpError(status, '/api/2/export', 'Invalid API Key'));
      assert.equal(failure.type, FailureType.AuthFailed);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /invalid API key or wrong data region/);
    }
  });

  it('429 is retried, after Retry-After when sent', () => {
    const withHeader = toFailure(new AmplitudeHttpError(429, '/api/2/users', '', 30_000));
    assert.equal(withHeader.type, FailureType.RateLimited);
    assert.equal(withHeader.nonRetryable, false);
    assert.equal(withHeader.nextRetryDelay, 30_000);
    const without = toFailure(new AmplitudeHttpError(429, '/api/2/users', ''));
    assert.equal(without.nextRetryDelay, undefined);
  });

  it('a Dashboard 400 carries Amplitude’s message and the config toggle that fixes it', () => {
    const failure = toFailure(
      new AmplitudeHttpError(
        400,
        '/api/2/users',
        envelope('Invalid chart definition', 'Invalid user property country'),
      ),
    );
    assert.equal(failure.type, FailureType.BadRequest);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /Invalid chart definition: Invalid user property country/);
    assert.match(failure.message, /"active_users_group_by_country": false/);
  });

  it('503 with Retry-After waits as asked; 408 is transient too', () => {
    const busy = toFailure(new AmplitudeHttpError(503, '/api/2/export', 'busy', 120_000));
    assert.equal(busy.type, FailureType.Unavailable);
    assert.equal(busy.nextRetryDelay, 120_000);
    const timeout = toFailure(new AmplitudeHttpError(408, '/api/2/users', ''));
    assert.equal(timeout.type, FailureType.Unavailable);
    assert.equal(timeout.nonRetryable, false);
  });

  it('5xx and transport failures are transient', () => {
    assert.equal(
      toFailure(new AmplitudeHttpError(502, '/api/3/cohorts', 'bad gateway')).type,
      FailureType.Unavailable,
    );
    const reset = toFailure(new AmplitudeTransportError('socket hang up'));
    assert.equal(reset.type, FailureType.Unavailable);
    assert.equal(reset.nonRetryable, false);
  });

  it('a 404 that is not "no data" points at base_url', () => {
    const failure = toFailure(new AmplitudeHttpError(404, '/api/2/annotations', '<html>Not Found</html>'));
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /check base_url/);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2024, 0, 1, 12);
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter(new Date(now + 90_000).toUTCString(), now), 90_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('a gateway’s HTML page is named by its title, not pasted whole', () => {
    const html = '<html>\r\n<head><title>504 Gateway Time-out</title></head><body><h1>504</h1></body></html>';
    assert.equal(
      new AmplitudeHttpError(504, '/api/2/export', html).message,
      'Amplitude answered HTTP 504 on /api/2/export: (an HTML page) 504 Gateway Time-out',
    );
  });

  it('an export timeout is a 504 or a connection that ends before the first byte, not an unreachable host', () => {
    assert.ok(isExportTimeout(new AmplitudeHttpError(504, '/api/2/export', '')));
    assert.ok(!isExportTimeout(new AmplitudeHttpError(504, '/api/2/users', '')));
    assert.ok(
      isExportTimeout(new AmplitudeTransportError('other side closed', { phase: 'awaiting-answer' })),
    );
    const refused = new AmplitudeTransportError('cannot reach http://x: connection refused', {
      phase: 'connect',
    });
    assert.ok(!isExportTimeout(refused));
    const failure = toFailure(refused);
    assert.equal(failure.type, FailureType.Unreachable);
    assert.equal(failure.nonRetryable, false, 'a network can come back: retried');
  });

  it('file-system errors that retrying cannot fix are non-retryable and name the path and the fix', () => {
    const error = (code: string) =>
      Object.assign(new Error(code), { code, syscall: 'open', path: '/data/out/x' });
    for (const [code, fix] of [
      ['ENOTDIR', /a part of this path is a file, not a directory/],
      ['EACCES', /give its user write permission/],
      ['EROFS', /read-only/],
      ['ENOSPC', /the disk is full/],
    ] as const) {
      const failure = toFailure(error(code));
      assert.equal(failure.type, FailureType.DestinationUnwritable, code);
      assert.equal(failure.nonRetryable, true, code);
      assert.match(failure.message, /\/data\/out\/x/);
      assert.match(failure.message, fix);
    }
    assert.equal(fileSystemFailure(error('ECONNRESET')), undefined, 'not a file-system problem');
  });
});
