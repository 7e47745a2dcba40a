import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCodes,
  SwitchboardError,
  errorFamily,
  isErrorFamily,
  isRetryable,
  type ErrorCode,
  type ErrorFamily,
} from '../../../src/errors.ts';

test('every code has a family: the part before its first underscore', () => {
  for (const code of Object.keys(ErrorCodes) as ErrorCode[]) {
    const family: ErrorFamily = errorFamily(code);
    assert.ok(family.length > 0 && code.startsWith(`${family}_`), code);
    assert.ok(!family.includes('_'), code);
  }
  assert.equal(errorFamily('JOURNAL_VERSION_UNSUPPORTED'), 'JOURNAL');
  assert.equal(errorFamily('STORE_UNAVAILABLE'), 'STORE');
  assert.equal(new SwitchboardError('MEDIA_BAD_JSON').family, 'MEDIA');
});

test('isErrorFamily matches typed errors of any of the families named, nothing else', () => {
  const gap = new SwitchboardError('JOURNAL_GAP');
  assert.equal(isErrorFamily(gap, 'JOURNAL'), true);
  assert.equal(isErrorFamily(gap, 'STORE', 'JOURNAL'), true);
  assert.equal(isErrorFamily(gap, 'STORE'), false);
  assert.equal(isErrorFamily(new SwitchboardError('STORE_UNAVAILABLE'), 'JOURNAL', 'STORE'), true);
  assert.equal(isErrorFamily(Object.assign(new Error('x'), { code: 'JOURNAL_GAP' }), 'JOURNAL'), false);
  assert.equal(isErrorFamily(null, 'JOURNAL'), false);
});

test('retryable is a typed field, false unless the error says so, and kept apart from data', () => {
  const plain = new SwitchboardError('STT_FAILED', 'boom', { grpcCode: 3 });
  assert.equal(plain.retryable, false);
  assert.equal(isRetryable(plain), false);
  const cause = new Error('underlying');
  const transient = new SwitchboardError('STT_FAILED', 'boom', { grpcCode: 14 }, { retryable: true, cause });
  assert.equal(transient.retryable, true);
  assert.equal(isRetryable(transient), true);
  assert.equal(transient.cause, cause);
  assert.deepEqual(transient.data, { grpcCode: 14 });
});

test('isRetryable is false for anything but a typed error that says so', () => {
  assert.equal(isRetryable(new Error('x')), false);
  assert.equal(isRetryable(Object.assign(new Error('x'), { retryable: true })), false);
  assert.equal(isRetryable({ retryable: true }), false);
  assert.equal(isRetryable(undefined), false);
});
