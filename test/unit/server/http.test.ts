import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { SwitchboardError } from '../../../src/errors.ts';
import { sendError, statusFor } from '../../../src/server/http.ts';

/** What sendError wrote: status, headers and the parsed JSON body. */
function answer(err: unknown): { status: number; body: unknown } {
  let status = 0;
  let text = '';
  const res = {
    headersSent: false,
    writeHead(s: number) {
      status = s;
      return this;
    },
    end(t: string) {
      text = t;
    },
  };
  sendError(res as unknown as ServerResponse, err);
  return { status, body: JSON.parse(text) };
}

test('a typed error answers with its code, its registry message, its status and whether to retry', () => {
  assert.deepEqual(answer(new SwitchboardError('HTTP_DRAINING', undefined, {}, { retryable: true })), {
    status: 503,
    body: { error: 'HTTP_DRAINING', message: 'Server is draining and takes no new calls', retryable: true },
  });
  assert.deepEqual(answer(new SwitchboardError('FLOW_NOT_FOUND', 'secret detail', { flow: 'x' })), {
    status: 404,
    body: { error: 'FLOW_NOT_FOUND', message: 'No flow with that name is loaded', retryable: false },
  });
});

test('anything else is a 500 INTERNAL, not retryable, and says nothing of itself', () => {
  assert.deepEqual(answer(new Error('a stack trace with secrets')), {
    status: 500,
    body: { error: 'INTERNAL', message: 'Internal error', retryable: false },
  });
  assert.equal(statusFor('nonsense'), 500);
});
