/** Who may read /metrics, and the public health routes. */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { OpsRoutes } from '../../../src/server/ops-routes.ts';

/** A request from `address` with `headers`, and a response that keeps what was sent. */
function exchange(address: string, headers: Record<string, string> = {}) {
  const req = { headers, socket: { remoteAddress: address } } as unknown as IncomingMessage;
  const sent = { status: 0, body: '' };
  const res = {
    writeHead(status: number) {
      sent.status = status;
      return this;
    },
    end(body?: string) {
      sent.body = body ?? '';
    },
  } as unknown as ServerResponse;
  return { req, res, sent };
}

const routes = (metricsToken: string | null, production: boolean) =>
  new OpsRoutes({
    metricsToken,
    production,
    readiness: () => ({ status: 'busy' }),
    metrics: () => 'switchboard_calls_total 3\n',
  });

async function metricsFrom(ops: OpsRoutes, address: string, headers?: Record<string, string>) {
  const { req, res, sent } = exchange(address, headers);
  try {
    await ops.handle(req, res, 'GET /metrics');
    return sent.status;
  } catch (err) {
    assert.ok(isSwitchboardError(err));
    return err.code;
  }
}

test('without METRICS_TOKEN, a production server serves /metrics to loopback clients only', async () => {
  const ops = routes(null, true);
  assert.equal(await metricsFrom(ops, '127.0.0.1'), 200);
  assert.equal(await metricsFrom(ops, '::1'), 200);
  assert.equal(await metricsFrom(ops, '::ffff:127.0.0.1'), 200);
  assert.equal(await metricsFrom(ops, '203.0.113.9'), 'HTTP_FORBIDDEN');
  assert.equal(await metricsFrom(ops, '::ffff:10.1.2.3'), 'HTTP_FORBIDDEN');
  assert.equal(await metricsFrom(routes(null, false), '203.0.113.9'), 200, 'a development server is open');
});

test('with METRICS_TOKEN, /metrics needs the bearer token from anywhere', async () => {
  const ops = routes('s3cret-token', true);
  assert.equal(await metricsFrom(ops, '203.0.113.9', { authorization: 'Bearer s3cret-token' }), 200);
  assert.equal(await metricsFrom(ops, '127.0.0.1'), 'HTTP_UNAUTHORIZED');
  assert.equal(await metricsFrom(ops, '203.0.113.9', { authorization: 'Bearer wrong' }), 'HTTP_UNAUTHORIZED');
  assert.equal(await metricsFrom(ops, '203.0.113.9', { authorization: 's3cret-token' }), 'HTTP_UNAUTHORIZED');
});

test('health and readiness stay public; readiness is 503 unless ready; other routes are not these', async () => {
  const ops = routes('s3cret-token', true);
  const health = exchange('203.0.113.9');
  assert.equal(await ops.handle(health.req, health.res, 'GET /healthz'), true);
  assert.equal(health.sent.status, 200);
  const ready = exchange('203.0.113.9');
  await ops.handle(ready.req, ready.res, 'GET /readyz');
  assert.equal(ready.sent.status, 503);
  const other = exchange('203.0.113.9');
  assert.equal(await ops.handle(other.req, other.res, 'POST /metrics'), false);
});
