/**
 * The network flows' web requests go out on, against real local servers: the request goes to the address
 * given while the URL keeps its name, redirects are answers and not followed, and a call's request to a
 * loopback service is refused and routed as a failure unless allowed, when it reaches the service.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { callRequest, performHttp, type HttpEffect } from '../../../src/call/http-action.ts';
import { httpNetwork } from '../../../src/call/http-network.ts';
import { TextCall } from '../../../src/call/text-call.ts';
import { compileFlow, validateFlow, type FlowFile } from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

interface Seen {
  method: string;
  path: string;
  host: string;
  body: string;
}

let server: Server;
let port: number;
let seen: Seen[];
let answer: (req: IncomingMessage) => { status: number; body?: string; headers?: Record<string, string> };

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', host: req.headers.host ?? '', body });
      const a = answer(req);
      // Status 0: the service hangs.
      if (a.status !== 0) res.writeHead(a.status, a.headers ?? {}).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  answer = () => ({ status: 200, body: '{"id":"A17"}', headers: { 'content-type': 'application/json' } });
});

test("send connects to the address given; the Host header and the path are the URL's", async () => {
  const url = new URL(`http://orders.invalid:${port}/orders/x%2F..%2Fadmin?q=1`);
  const res = await httpNetwork.send('127.0.0.1', url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-trace': 't1' },
    body: '{"a":1}',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await res.json(), { id: 'A17' });
  // orders.invalid cannot resolve: the request could only have gone to the address given.
  assert.deepEqual(seen, [
    { method: 'POST', path: '/orders/x%2F..%2Fadmin?q=1', host: `orders.invalid:${port}`, body: '{"a":1}' },
  ]);
});

test('answers without a body, and redirects, come back as they are', async () => {
  answer = () => ({ status: 204 });
  const empty = await httpNetwork.send('127.0.0.1', new URL(`http://127.0.0.1:${port}/x`), {
    method: 'DELETE',
  });
  assert.equal(empty.status, 204);
  assert.equal(empty.body, null);
  answer = () => ({ status: 302, headers: { location: `http://127.0.0.1:${port}/elsewhere` } });
  const moved = await httpNetwork.send('127.0.0.1', new URL(`http://127.0.0.1:${port}/x`), { method: 'GET' });
  assert.equal(moved.status, 302);
  assert.deepEqual(
    seen.map((s) => s.path),
    ['/x', '/x'],
    'the redirect is not followed',
  );
});

test("a network failure is shaped as fetch's, with the system code in its cause", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const free = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(
    httpNetwork.send('127.0.0.1', new URL(`http://127.0.0.1:${free}/`), {}),
    (err: unknown) => {
      return err instanceof TypeError && (err.cause as { code?: string }).code === 'ECONNREFUSED';
    },
  );
});

test('through the network, a hanging service times out per attempt, and the end of the call aborts at once', async () => {
  answer = () => ({ status: 0 });
  const url = `http://127.0.0.1:${port}/hang`;
  const options = {
    logger: memoryLogger().logger,
    network: httpNetwork,
    allow: ['127.0.0.1'],
    sleep: () => Promise.resolve(),
  };
  const timedOut = await performHttp(
    effect({ url, timeoutMs: 150, retries: 1 }),
    new AbortController().signal,
    options,
  );
  assert.deepEqual(timedOut, { ok: false, reason: 'timed out after 150 ms' });
  assert.equal(seen.length, 2, 'each attempt reached the service');
  const ending = new AbortController();
  const started = Date.now();
  const pending = performHttp(effect({ url, timeoutMs: 10_000 }), ending.signal, options);
  setTimeout(() => ending.abort(), 50);
  assert.deepEqual(await pending, { ok: false, reason: 'aborted' });
  assert.ok(Date.now() - started < 2000);
});

function effect(over: Partial<HttpEffect> = {}): HttpEffect {
  return {
    type: 'http',
    id: 'place.2',
    idempotencyKey: 'CA1:place.2',
    method: 'GET',
    url: `http://localhost:${port}/x`,
    headers: {},
    body: null,
    timeoutMs: 2000,
    retries: 2,
    map: {},
    ...over,
  };
}

test('a name is looked up: localhost is loopback, refused unless allowed, and the service is never reached', async () => {
  const addresses = await httpNetwork.resolve('localhost');
  assert.ok(
    addresses.length > 0 && addresses.every((a) => a === '::1' || a.startsWith('127.')),
    String(addresses),
  );
  const { logger, records } = memoryLogger();
  const refused = await performHttp(effect(), new AbortController().signal, { logger, network: httpNetwork });
  assert.equal(!refused.ok && refused.code, 'HTTP_EGRESS_REFUSED');
  assert.match(
    !refused.ok ? refused.reason : '',
    /^refused: localhost resolves to (127\.\d+\.\d+\.\d+|::1), a loopback address \(allow it with HTTP_ALLOW_HOSTS/,
  );
  assert.equal(seen.length, 0);
  assert.equal(records.find((r) => r.msg === 'http action refused')?.host, 'localhost');
});

/** A flow that places an order for a caller's value, then says how it went. */
const ORDER: FlowFile = {
  id: 'local-order',
  version: 1,
  start: 'place',
  states: {
    place: {
      say: 'One moment.',
      set: { who: 'x/../../admin?y=1#' },
      http: { url: '{{env.ORDERS_URL}}/orders/{{who}}', body: { who: '{{who}}' }, map: { orderId: '/id' } },
      next: 'done',
      onError: 'sorry',
    },
    done: { say: 'Order {{orderId}} placed.', hangup: true },
    sorry: { say: 'Sorry, no order.', hangup: true },
  },
};

/** Run ORDER as a text call whose requests are made as a phone call's are, with `allow` as HTTP_ALLOW_HOSTS. */
async function orderCall(allow: string[], flow: FlowFile = ORDER) {
  const checked = validateFlow(flow);
  assert.ok(checked.ok, JSON.stringify(checked.findings));
  const { logger, records } = memoryLogger();
  const said: string[] = [];
  const env = { ORDERS_URL: `http://127.0.0.1:${port}` };
  const c = new TextCall({
    compiled: compileFlow(checked.flow),
    logger,
    env,
    onSay: (text) => said.push(text),
    http: (e, signal) => callRequest(e, signal, { flow: checked.flow, env, allow, logger }),
  });
  c.start();
  await c.settled();
  return { said, records, state: c.state };
}

test("a call's request to 127.0.0.1 without allowance is refused and goes to onError; nothing reaches the service", async () => {
  const { said, records, state } = await orderCall([]);
  assert.equal(state, 'sorry');
  assert.equal(said.at(-1), 'Sorry, no order.');
  assert.equal(seen.length, 0);
  const line = records.find((r) => r.msg === 'http action refused');
  assert.equal(line?.host, '127.0.0.1');
  assert.equal(line?.code, 'HTTP_EGRESS_REFUSED');
  assert.doesNotMatch(
    JSON.stringify({ ...line, pii: null }),
    /admin/,
    "the caller's value is only under pii",
  );
});

test('allowed by HTTP_ALLOW_HOSTS, or by the state, the request reaches the service, the value in its segment', async () => {
  const byEnv = await orderCall(['127.0.0.0/8']);
  assert.equal(byEnv.state, 'done');
  assert.equal(byEnv.said.at(-1), 'Order A17 placed.');
  assert.deepEqual(
    seen.map((s): unknown[] => [s.method, s.path, JSON.parse(s.body)]),
    [['POST', '/orders/x%2F..%2F..%2Fadmin%3Fy%3D1%23', { who: 'x/../../admin?y=1#' }]],
  );
  const place = {
    ...ORDER.states.place!,
    http: { ...ORDER.states.place!.http!, allowPrivate: ['127.0.0.1'] },
  };
  const byState = await orderCall([], { ...ORDER, states: { ...ORDER.states, place } });
  assert.equal(byState.state, 'done');
  assert.equal(seen.length, 2);
});
