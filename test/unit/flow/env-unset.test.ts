/**
 * Environment variables a flow reads that are not set: which they are, and a web request built from one that
 * fails naming it (logged at warn) instead of going to a mangled URL.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createActor } from 'xstate';
import { performHttp, type HttpEffect } from '../../../src/call/http-action.ts';
import {
  compileFlow,
  notSetReason,
  unsetEnvNames,
  unsetEnvOfRequest,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

const flow: FlowFile = {
  id: 'refills',
  version: 1,
  start: 'submit',
  states: {
    submit: {
      http: { url: '{{env.REFILLS_URL}}/refills/{{env.STORE}}', body: { rx: '1' } },
      next: 'done',
      onError: 'staff',
    },
    done: { say: 'Done.', hangup: true },
    staff: { say: 'Hold on.', transfer: '{{env.STAFF_LINE}}', onError: 'done' },
  },
};

test('unset, empty and blank variables are the unset ones; set ones are not', () => {
  const env = { A: 'x', B: '', C: '  ', D: undefined };
  assert.deepEqual(unsetEnvNames(['A', 'B', 'C', 'D', 'E'], env), ['B', 'C', 'D', 'E']);
  // A name that is also an object property is not a variable.
  assert.deepEqual(unsetEnvNames(['constructor'], {}), ['constructor']);
  assert.equal(notSetReason(['A']), 'A is not set');
  assert.equal(notSetReason(['A', 'B', 'C']), 'A, B and C are not set');
});

test("a request's unset variables are found from its id, in its URL or its transfer number", () => {
  assert.deepEqual(unsetEnvOfRequest(flow, 'submit.3', {}), ['REFILLS_URL', 'STORE']);
  assert.deepEqual(unsetEnvOfRequest(flow, 'submit.3', { REFILLS_URL: 'http://x', STORE: '7' }), []);
  assert.deepEqual(unsetEnvOfRequest(flow, 'staff.9', { REFILLS_URL: 'http://x' }), ['STAFF_LINE']);
  assert.deepEqual(unsetEnvOfRequest(flow, 'done.1', {}), []);
  assert.deepEqual(unsetEnvOfRequest(flow, 'nowhere', {}), []);
  assert.deepEqual(unsetEnvOfRequest(flow, '__proto__.1', {}), []);
});

test('the id the machine gives its web request leads back to the template', () => {
  const actor = createActor(compileFlow(flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  actor.send({ type: 'call.start', at: 1000, callId: 'CA1', env: { STORE: '7' } });
  const http = effects.find((e) => e.type === 'http');
  assert.ok(http, 'the start state makes its request at once');
  assert.equal(http.url, '/refills/7');
  assert.deepEqual(unsetEnvOfRequest(flow, http.id, actor.getSnapshot().context.env), ['REFILLS_URL']);
});

test('a web request whose URL reads an unset variable is not made, and its failure names it at warn', async (ctx) => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  // With STORE unset the URL still parses, but it is not the one meant.
  const effect = httpEffect(`http://127.0.0.1:${port}/refills/`);
  const { logger, records } = memoryLogger('debug');
  const outcome = await performHttp(effect, new AbortController().signal, { logger, unsetEnv: ['STORE'] });
  assert.deepEqual(outcome, { ok: false, reason: 'STORE is not set' });
  assert.equal(requests, 0);
  const failed = records.find((r) => r.msg === 'http action failed');
  assert.equal(failed?.level, 'warn');
  assert.deepEqual(failed?.env, ['STORE']);
  assert.equal(failed?.code, 'HTTP_ACTION_FAILED');
});

test('a URL that is not http(s) is a configuration failure, logged at warn', async () => {
  const { logger, records } = memoryLogger('debug');
  const outcome = await performHttp(httpEffect('/refills'), new AbortController().signal, { logger });
  assert.deepEqual(outcome, { ok: false, reason: 'URL must be http or https' });
  assert.equal(records.find((r) => r.msg === 'http action failed')?.level, 'warn');
});

function httpEffect(url: string): HttpEffect {
  return {
    type: 'http',
    id: 'submit.2',
    idempotencyKey: 'CA1:submit.2',
    method: 'POST',
    url,
    headers: {},
    body: { rx: '1' },
    timeoutMs: 2000,
    retries: 0,
    map: {},
  };
}
