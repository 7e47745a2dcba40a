import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { performHttp, resolvePointer, type HttpEffect } from '../../../src/call/http-action.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A real local server; each test installs its handler and reads what arrived. */
let server: Server;
let base: string;
let handler: Handler;
let seen: Seen[];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => res.writeHead(500).end();
});

function effect(over: Partial<HttpEffect> = {}): HttpEffect {
  return {
    type: 'http',
    id: 'h1',
    idempotencyKey: 'call-1:h1',
    method: 'POST',
    url: `${base}/orders`,
    headers: {},
    body: { size: 'large' },
    timeoutMs: 2000,
    retries: 2,
    map: {},
    // The local test server: loopback, allowed as a flow allows a service on its own machine.
    allowPrivate: ['127.0.0.1'],
    ...over,
  };
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
}

/** A sleep that returns at once and remembers how long it was asked to wait. */
function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

const never = new AbortController().signal;

test('success: maps strings, numbers, nested and escaped pointers; sends JSON, user agent and key', async () => {
  handler = (_req, res) =>
    json(res, 201, {
      id: 'A-17',
      total: 42.5,
      paid: true,
      delivery: { minutes: 15 },
      'a/b': { 'm~n': 'escaped' },
      items: [{ sku: 'x' }, 'second'],
    });
  const { logger, records } = memoryLogger();
  const outcome = await performHttp(
    effect({
      headers: { 'X-Trace': 't-1', 'idempotency-key': 'from-the-flow' },
      map: {
        orderId: '/id',
        total: '/total',
        paid: '/paid',
        eta: '/delivery/minutes',
        odd: '/a~1b/m~0n',
        second: '/items/1',
        first: '/items/0',
      },
    }),
    never,
    { logger },
  );
  assert.deepEqual(outcome, {
    ok: true,
    status: 201,
    slots: {
      orderId: 'A-17',
      total: '42.5',
      paid: 'true',
      eta: '15',
      odd: 'escaped',
      second: 'second',
      first: '{"sku":"x"}',
    },
  });
  assert.equal(seen.length, 1);
  const req = seen[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/orders');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(req.body), { size: 'large' });
  assert.equal(req.headers['user-agent'], 'switchboard');
  assert.equal(req.headers['x-trace'], 't-1');
  // The flow's own Idempotency-Key header does not replace the effect's.
  assert.equal(req.headers['idempotency-key'], 'call-1:h1');

  assert.equal(records.length, 1);
  const line = records[0]!;
  assert.equal(line.msg, 'http action done');
  assert.equal(line.level, 'info');
  assert.equal(line.id, 'h1');
  assert.equal(line.method, 'POST');
  assert.equal(line.status, 201);
  assert.equal(line.attempts, 1);
  assert.equal(line.host, new URL(base).host);
  assert.equal(typeof line.ms, 'number');
  assert.deepEqual(line.pii, {
    url: '[redacted]',
    headers: '[redacted]',
    body: '[redacted]',
    response: '[redacted]',
  });
  const text = JSON.stringify(records);
  assert.ok(!text.includes('A-17') && !text.includes('large') && !text.includes('/orders'), text);
});

test('an empty map succeeds with no slots, whatever the answer is', async () => {
  handler = (_req, res) => res.writeHead(200).end('not json at all');
  const outcome = await performHttp(effect(), never, { logger: memoryLogger().logger });
  assert.deepEqual(outcome, { ok: true, status: 200, slots: {} });
});

test('503 twice then 200: three attempts with the same Idempotency-Key, backing off 200 then 400 ms', async () => {
  handler = (_req, res, n) => (n < 3 ? res.writeHead(503).end('busy') : json(res, 200, { id: 'B' }));
  const { sleep, delays } = recordingSleep();
  const { logger, records } = memoryLogger();
  const outcome = await performHttp(effect({ retries: 3, map: { id: '/id' } }), never, { logger, sleep });
  assert.deepEqual(outcome, { ok: true, status: 200, slots: { id: 'B' } });
  assert.equal(seen.length, 3);
  assert.deepEqual(
    seen.map((s) => s.headers['idempotency-key']),
    ['call-1:h1', 'call-1:h1', 'call-1:h1'],
  );
  assert.deepEqual(
    seen.map((s) => s.body),
    Array(3).fill('{"size":"large"}'),
  );
  assert.deepEqual(delays, [200, 400]);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.attempts, 3);
});

test('backoff doubles up to 2 s, and the last failure is the reason', async () => {
  handler = (_req, res) => res.writeHead(502).end();
  const { sleep, delays } = recordingSleep();
  const { logger, records } = memoryLogger();
  const outcome = await performHttp(effect({ retries: 5 }), never, { logger, sleep });
  assert.deepEqual(outcome, { ok: false, reason: 'HTTP 502' });
  assert.equal(seen.length, 6);
  assert.deepEqual(delays, [200, 400, 800, 1600, 2000]);
  assert.equal(records[0]!.msg, 'http action failed');
  assert.equal(records[0]!.status, 502);
  assert.equal(records[0]!.attempts, 6);
  assert.equal(records[0]!.reason, 'HTTP 502');
  assert.equal(records[0]!.code, 'HTTP_ACTION_FAILED');
});

test('400 is not retried', async () => {
  handler = (_req, res) => json(res, 400, { error: 'bad size' });
  const { sleep, delays } = recordingSleep();
  const outcome = await performHttp(effect({ retries: 3 }), never, { logger: memoryLogger().logger, sleep });
  assert.deepEqual(outcome, { ok: false, reason: 'HTTP 400' });
  assert.equal(seen.length, 1);
  assert.deepEqual(delays, []);
});

test('429 with Retry-After: 1 is retried after 1000 ms; a Retry-After of 5 s or more falls back to backoff', async () => {
  handler = (_req, res, n) =>
    n === 1
      ? res.writeHead(429, { 'retry-after': '1' }).end()
      : n === 2
        ? res.writeHead(503, { 'retry-after': '5' }).end()
        : json(res, 200, {});
  const { sleep, delays } = recordingSleep();
  const outcome = await performHttp(effect({ retries: 2 }), never, { logger: memoryLogger().logger, sleep });
  assert.deepEqual(outcome, { ok: true, status: 200, slots: {} });
  assert.equal(seen.length, 3);
  assert.deepEqual(delays, [1000, 400]);
});

test('a server that hangs: each attempt times out, failure after retries + 1 attempts, promptly', async () => {
  handler = () => {}; // never answers
  const { sleep, delays } = recordingSleep();
  const { logger, records } = memoryLogger();
  const t0 = performance.now();
  const outcome = await performHttp(effect({ timeoutMs: 200, retries: 1 }), never, { logger, sleep });
  const ms = performance.now() - t0;
  assert.deepEqual(outcome, { ok: false, reason: 'timed out after 200 ms' });
  assert.equal(seen.length, 2);
  assert.deepEqual(delays, [200]);
  assert.ok(ms >= 380 && ms < 1500, `took ${ms} ms`);
  assert.equal(records[0]!.attempts, 2);
  assert.equal(records[0]!.status, null);
});

test('aborting while the server hangs resolves at once with "aborted" and leaves no timer', async () => {
  handler = () => {};
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const controller = new AbortController();
  const t0 = performance.now();
  const pending = performHttp(effect({ timeoutMs: 10_000, retries: 3 }), controller.signal, {
    logger: memoryLogger().logger,
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  controller.abort();
  const outcome = await pending;
  const ms = performance.now() - t0;
  assert.deepEqual(outcome, { ok: false, reason: 'aborted' });
  assert.ok(ms < 600, `took ${ms} ms`);
  assert.equal(seen.length, 1);
  const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(timersAfter, timersBefore);
});

test('aborting during the backoff wait ends it at once, with no further attempt', async () => {
  handler = (_req, res) => res.writeHead(503, { 'retry-after': '4' }).end();
  const controller = new AbortController();
  const t0 = performance.now();
  const pending = performHttp(effect({ retries: 3 }), controller.signal, { logger: memoryLogger().logger });
  setTimeout(() => controller.abort(), 150);
  const outcome = await pending;
  const ms = performance.now() - t0;
  assert.deepEqual(outcome, { ok: false, reason: 'aborted' });
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.equal(seen.length, 1);
});

test('an already aborted signal makes no request', async () => {
  const controller = new AbortController();
  controller.abort();
  const outcome = await performHttp(effect(), controller.signal, { logger: memoryLogger().logger });
  assert.deepEqual(outcome, { ok: false, reason: 'aborted' });
  assert.equal(seen.length, 0);
});

test('network errors are retried and reported by code only', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const { sleep, delays } = recordingSleep();
  const outcome = await performHttp(effect({ url: `http://127.0.0.1:${port}/x`, retries: 2 }), never, {
    logger: memoryLogger().logger,
    sleep,
  });
  assert.deepEqual(outcome, { ok: false, reason: 'network error (ECONNREFUSED)' });
  assert.deepEqual(delays, [200, 400]);
});

test('a map over an answer that is not JSON fails', async () => {
  handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>ok</html>');
  const outcome = await performHttp(effect({ map: { id: '/id' } }), never, { logger: memoryLogger().logger });
  assert.deepEqual(outcome, { ok: false, reason: 'response is not JSON' });
  assert.equal(seen.length, 1);
});

test('a missing or null value fails, naming the pointer and not the answer', async () => {
  handler = (_req, res) => json(res, 200, { id: 'secret-A', delivery: { minutes: null } });
  const missing = await performHttp(effect({ map: { id: '/id', eta: '/delivery/when' } }), never, {
    logger: memoryLogger().logger,
  });
  assert.deepEqual(missing, { ok: false, reason: 'response has no value at /delivery/when' });
  const nul = await performHttp(effect({ map: { eta: '/delivery/minutes' } }), never, {
    logger: memoryLogger().logger,
  });
  assert.deepEqual(nul, { ok: false, reason: 'response has no value at /delivery/minutes' });
  // A map failure is the service's answer, not a transient error: no retry.
  assert.equal(seen.length, 2);
});

test('an answer over the size limit fails without being read to the end', async () => {
  // The server streams without end: only a reader that stops at the limit can finish.
  handler = (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(4096, 'a');
    const timer = setInterval(() => res.write(chunk), 1);
    req.socket.on('close', () => clearInterval(timer));
    res.on('close', () => clearInterval(timer));
  };
  const t0 = performance.now();
  const outcome = await performHttp(effect({ timeoutMs: 5000, map: { id: '/id' } }), never, {
    logger: memoryLogger().logger,
    maxResponseBytes: 64 * 1024,
  });
  assert.deepEqual(outcome, { ok: false, reason: 'response too large' });
  assert.ok(performance.now() - t0 < 3000);
  assert.equal(seen.length, 1);
});

test('an answer of exactly the limit is accepted', async () => {
  const body = JSON.stringify({ id: 'x'.repeat(100) });
  handler = (_req, res) => res.writeHead(200).end(body);
  const outcome = await performHttp(effect({ map: { id: '/id' } }), never, {
    logger: memoryLogger().logger,
    maxResponseBytes: Buffer.byteLength(body),
  });
  assert.deepEqual(outcome, { ok: true, status: 200, slots: { id: 'x'.repeat(100) } });
});

test('non-http URLs fail without a request', async () => {
  let fetched = 0;
  const spy: typeof fetch = async (...args) => {
    fetched++;
    return fetch(...args);
  };
  for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url']) {
    const outcome = await performHttp(effect({ url }), never, { logger: memoryLogger().logger, fetch: spy });
    assert.deepEqual(outcome, { ok: false, reason: 'URL must be http or https' }, url);
  }
  assert.equal(fetched, 0);
  assert.equal(seen.length, 0);
});

test('GET and DELETE send no body and no content type; PUT and PATCH send JSON', async () => {
  handler = (_req, res) => json(res, 200, {});
  for (const method of ['GET', 'DELETE', 'PUT', 'PATCH']) {
    const outcome = await performHttp(effect({ method, body: { a: 1 } }), never, {
      logger: memoryLogger().logger,
    });
    assert.equal(outcome.ok, true, method);
  }
  assert.deepEqual(
    seen.map((s) => [s.method, s.body, s.headers['content-type'] ?? null, s.headers['idempotency-key']]),
    [
      ['GET', '', null, 'call-1:h1'],
      ['DELETE', '', null, 'call-1:h1'],
      ['PUT', '{"a":1}', 'application/json', 'call-1:h1'],
      ['PATCH', '{"a":1}', 'application/json', 'call-1:h1'],
    ],
  );
  assert.equal(seen[0]!.headers['content-length'] ?? '0', '0');
  assert.equal(seen[0]!.headers['transfer-encoding'], undefined);
});

test('an unknown method fails without a request', async () => {
  const outcome = await performHttp(effect({ method: 'TRACE' }), never, { logger: memoryLogger().logger });
  assert.equal(outcome.ok, false);
  assert.equal(seen.length, 0);
});

test('JSON pointers follow RFC 6901', () => {
  const doc = { foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'm~n': 8, '~1': 'tilde-one', arr: [0, 1] };
  assert.deepEqual(resolvePointer(doc, ''), doc);
  assert.deepEqual(resolvePointer(doc, '/foo'), ['bar', 'baz']);
  assert.equal(resolvePointer(doc, '/foo/0'), 'bar');
  assert.equal(resolvePointer(doc, '/'), 0);
  assert.equal(resolvePointer(doc, '/a~1b'), 1);
  assert.equal(resolvePointer(doc, '/m~0n'), 8);
  assert.equal(resolvePointer(doc, '/~01'), 'tilde-one');
  assert.equal(resolvePointer(doc, '/arr/01'), undefined);
  assert.equal(resolvePointer(doc, '/arr/-'), undefined);
  assert.equal(resolvePointer(doc, '/arr/2'), undefined);
  assert.equal(resolvePointer(doc, 'foo'), undefined);
  assert.equal(resolvePointer(doc, '/constructor'), undefined);
  assert.equal(resolvePointer(doc, '/foo/0/length'), undefined);
});
